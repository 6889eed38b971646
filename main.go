// Command terraform-provider-isahitlab serves the Isahit Lab Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/isahit/terraform-provider-isahitlab/internal/provider"
)

// version and commit are set at build time by goreleaser (-X main.version=... -X main.commit=...);
// both go into the user agent of every API call.
var (
	version = "dev"
	commit  = ""
)

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	if commit == "" {
		commit = vcsRevision()
	}
	err := providerserver.Serve(context.Background(), provider.NewWithCommit(version, commit), providerserver.ServeOpts{
		Address: "registry.terraform.io/isahit/isahitlab",
		Debug:   debugMode,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}

// vcsRevision is the commit `go build` stamped into a build from a clone (none from a module
// download), with "-dirty" when the tree had changes: a dev build names its source too.
func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
