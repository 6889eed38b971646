// Command profprovider is the provider with a CPU profiler, for the
// benchmark's -cpuprofile: the same provider.New, served the same way, and,
// when ISAHITLAB_BENCH_CPUPROFILE_DIR is set, CPU profiles written there in
// chunks of a few seconds (<pid>-<seq>.pprof), so that a process Terraform
// kills, or one stuck at 100% CPU that the benchmark interrupts, still
// leaves all but its last seconds. Merge them with
// `go tool pprof -top DIR/*.pprof`.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/isahit/terraform-provider-isahitlab/internal/provider"
)

const chunk = 5 * time.Second

func main() {
	stop := profile(os.Getenv("ISAHITLAB_BENCH_CPUPROFILE_DIR"))
	err := providerserver.Serve(context.Background(), provider.New("bench-profile"), providerserver.ServeOpts{
		Address: "registry.terraform.io/isahit/isahitlab",
	})
	stop()
	if err != nil {
		log.Fatal(err.Error())
	}
}

// profile writes CPU profiles into dir until stop is called; nothing when
// dir is empty.
func profile(dir string) (stop func()) {
	if dir == "" {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for seq := 0; ; seq++ {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d-%03d.pprof", os.Getpid(), seq)))
			if err != nil {
				return
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				_ = f.Close()
				return
			}
			select {
			case <-quit:
				pprof.StopCPUProfile()
				_ = f.Close()
				return
			case <-time.After(chunk):
				pprof.StopCPUProfile()
				_ = f.Close()
			}
		}
	}()
	return func() { close(quit); <-done }
}
