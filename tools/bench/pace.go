package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// envPaceDir names the directory where the provider keeps the request pace
// it learned from 429 answers (default: the user cache dir). The benchmark
// always sets it, so that no run reads or leaves a pace in the user's.
const envPaceDir = "ISAHIT_LAB_PACE_DIR"

// Pace modes (-pace).
const (
	paceWarm = "warm" // one directory per scenario, shared by its phases
	paceCold = "cold" // one directory per phase
)

// pacer hands out the pace directories of one scenario, inside its own
// directory root (the scenario's workspace, so no two scenarios share one,
// and a failed scenario's is kept with its workspace).
type pacer struct {
	mode   string
	root   string
	shared string // warm: the scenario's directory
}

// newPacer makes the scenario's pacer; warm creates the shared directory
// now, before the first phase.
func newPacer(mode, root string) (*pacer, error) {
	p := &pacer{mode: mode, root: root}
	switch mode {
	case paceWarm:
		p.shared = filepath.Join(root, "pace")
		if err := os.Mkdir(p.shared, 0o700); err != nil {
			return nil, err
		}
	case paceCold:
	default:
		return nil, fmt.Errorf("unknown pace mode %q (want %s or %s)", mode, paceWarm, paceCold)
	}
	return p, nil
}

// forPhase is the pace directory of a phase, and what to call once the
// phase is over: warm shares the scenario's; cold makes a fresh one, which
// done removes.
func (p *pacer) forPhase(phase string) (dir string, done func(), err error) {
	if p.mode == paceWarm {
		return p.shared, func() {}, nil
	}
	dir, err = os.MkdirTemp(p.root, "pace-"+phase+"-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// setEnv sets key in the workspace's environment, replacing an earlier
// value (a workspace runs several phases).
func setEnv(ws *tfrun.Workspace, key, value string) {
	prefix := key + "="
	env := ws.Env[:0]
	for _, kv := range ws.Env {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	ws.Env = append(env, prefix+value)
}
