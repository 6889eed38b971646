package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/provider"
)

// NewWithCommit is New for a build that knows its commit (main.commit, set by the release build):
// the user agent then names the exact build, so that a request in the API's logs leads back to
// its source.
func NewWithCommit(version, commit string) func() provider.Provider {
	return func() provider.Provider {
		return &isahitlabProvider{version: version, commit: commit}
	}
}

// userAgent is the User-Agent of every API call: "terraform-provider-isahitlab/0.1.0 (commit
// 0123456789ab)", or without the parenthesis when the commit is unknown.
func userAgent(version, commit string) string {
	ua := "terraform-provider-isahitlab/" + version
	if commit == "" {
		return ua
	}
	// A full SHA-1 is cut to 12 hex digits, as Go pseudo-versions abbreviate: unique in practice,
	// short in a log line. A suffix (main.go's "-dirty") stays.
	if len(commit) >= 40 && strings.Trim(commit[:40], "0123456789abcdef") == "" {
		commit = commit[:12] + commit[40:]
	}
	return ua + " (commit " + commit + ")"
}
