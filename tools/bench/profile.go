package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// envProfileDir names the directory where profprovider writes its CPU
// profiles (see profprovider/main.go).
const envProfileDir = "ISAHITLAB_BENCH_CPUPROFILE_DIR"

// profileEnv points the provider processes of a phase at their profile
// directory, -cpuprofile/N-mode-phase, when -cpuprofile is set. Read them
// with: go tool pprof -top <dir>/*.pprof
func profileEnv(cfg config, ws *tfrun.Workspace, n int, mode, phase string) {
	if cfg.cpuProfile == "" {
		return
	}
	dir := filepath.Join(cfg.cpuProfile, fmt.Sprintf("%d-%s-%s", n, mode, phase))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		logf("  cpuprofile: %v", err)
		return
	}
	// The last value of a key wins: earlier phases' entries stay harmless.
	ws.Env = append(ws.Env, envProfileDir+"="+dir)
}
