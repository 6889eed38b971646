// Command bench is the scale benchmark of issue 4 (`make bench`). For each
// project size N and list-document mode it starts the emulator in-process on
// loopback with a per-call latency and a rate limit, seeds N batches, and
// times the real Terraform CLI through a project-wide isahitlab_webhook:
// create, a no-change plan, an apply after 10% new batches, and destroy.
// Each phase is set against the floor the server's rate limit imposes and
// against the Python SDK's algorithm run with this project's client.
// Results go to stdout and to -out: results.md, results.json and
// performance.svg.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

type config struct {
	ns           []int
	latency      time.Duration
	rate         float64
	concurrency  int
	modes        []string
	baseline     bool
	baselineMaxN int
	out          string

	cli         string // terraform
	providerBin string // the real provider build
	wrapperDir  string // dev_overrides directory: rsswrap named as the provider
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run() error {
	var cfg config
	var ns, modes string
	flag.StringVar(&ns, "n", "1000,10000", "comma-separated project sizes (batches)")
	flag.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "latency the emulator adds to every API request")
	flag.Float64Var(&cfg.rate, "rate", 500, "emulator rate limit, requests/s (0: none)")
	flag.IntVar(&cfg.concurrency, "concurrency", 32, "provider max_concurrency")
	flag.StringVar(&modes, "modes", modeWith+","+modeWithout, "list-document modes: "+modeWith+", "+modeWithout)
	flag.BoolVar(&cfg.baseline, "baseline", true, "run the SDK-algorithm baseline")
	flag.IntVar(&cfg.baselineMaxN, "baseline-max-n", 1000, "skip the baseline above this N and estimate it linearly (it takes ~12 min per phase at 10,000)")
	flag.StringVar(&cfg.out, "out", "", "output directory (default .bench/ at the repository root)")
	flag.Parse()

	var err error
	if cfg.ns, err = parseSizes(ns); err != nil {
		return err
	}
	for _, m := range strings.Split(modes, ",") {
		if m = strings.TrimSpace(m); m != modeWith && m != modeWithout {
			return fmt.Errorf("-modes: unknown mode %q (want %s or %s)", m, modeWith, modeWithout)
		}
		cfg.modes = append(cfg.modes, strings.TrimSpace(m))
	}
	root, err := tfrun.RepoRoot()
	if err != nil {
		return err
	}
	if cfg.out == "" {
		cfg.out = filepath.Join(root, ".bench")
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	if cfg.cli, err = tfrun.CLIPath(); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	bin, err := os.MkdirTemp("", "isahitlab-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	if err := buildBinaries(ctx, root, bin, &cfg); err != nil {
		return err
	}

	rep := &Report{
		Command:     commandLine(),
		Revision:    revision(root),
		Started:     time.Now(),
		Terraform:   terraformVersion(cfg.cli),
		GoVersion:   runtime.Version(),
		CPUs:        runtime.NumCPU(),
		Latency:     Seconds(cfg.latency),
		Rate:        cfg.rate,
		Concurrency: cfg.concurrency,
		BaselineMax: cfg.baselineMaxN,
	}
	if !cfg.baseline {
		rep.BaselineMax = 0
	}
	baselines := map[int]map[string]baselineResult{}
	for _, n := range cfg.ns {
		for _, mode := range cfg.modes {
			logf("provider: N=%d, %s", n, mode)
			r, err := runScenario(ctx, cfg, n, mode)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
		}
		if cfg.baseline && n <= cfg.baselineMaxN {
			logf("baseline: N=%d (SDK algorithm, sequential; slow on purpose)", n)
			b, err := runBaseline(ctx, cfg, n)
			if err != nil {
				return err
			}
			baselines[n] = b
		}
		// Write what we have after each size: a long run keeps its results.
		if err := finish(cfg, rep, baselines, false); err != nil {
			return err
		}
	}
	return finish(cfg, rep, baselines, true)
}

// finish fills in the baselines and verdicts and writes every output.
func finish(cfg config, rep *Report, baselines map[int]map[string]baselineResult, final bool) error {
	fillBaselines(rep.Runs, baselines)
	rep.Verdicts = verdicts(rep.Runs, rep.Rate)
	if final {
		fmt.Println()
		writeTable(os.Stdout, rep)
		fmt.Println()
		fmt.Print(notes(rep))
		fmt.Println()
		writeVerdicts(os.Stdout, rep.Verdicts)
	}
	if err := writeFiles(cfg.out, rep); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(cfg.out, "performance.svg"))
	if err != nil {
		return err
	}
	title := fmt.Sprintf("isahitlab_webhook, project scope: wall time against N (L = %v, R = %g/s)", cfg.latency, cfg.rate)
	if err := writeSVG(f, title, plotSeries(rep.Runs)); err != nil {
		_ = f.Close()
		return err
	}
	if final {
		fmt.Printf("\nwrote %s, %s and %s\n", filepath.Join(cfg.out, "results.md"), filepath.Join(cfg.out, "results.json"), f.Name())
	}
	return f.Close()
}

// fillBaselines sets each phase's baseline: measured at its N, else scaled
// linearly from the largest N measured, else skipped.
func fillBaselines(runs []Run, baselines map[int]map[string]baselineResult) {
	largest := 0
	for n := range baselines {
		largest = max(largest, n)
	}
	for i := range runs {
		r := &runs[i]
		for j := range r.Phases {
			p := &r.Phases[j]
			if b, ok := baselines[r.N][p.Name]; ok {
				p.Baseline, p.BaselineCalls, p.BaselineStatus = Seconds(b.Wall), b.Calls, baselineMeasured
				continue
			}
			if b, ok := baselines[largest][p.Name]; ok {
				scale := float64(r.N) / float64(largest)
				p.Baseline = Seconds(float64(b.Wall) * scale)
				p.BaselineCalls = int(float64(b.Calls) * scale)
				p.BaselineStatus = baselineEstimated
				continue
			}
			p.Baseline, p.BaselineCalls, p.BaselineStatus = 0, 0, baselineSkipped
		}
	}
}

// buildBinaries builds the provider and, into the dev_overrides directory,
// rsswrap under the provider's name.
func buildBinaries(ctx context.Context, root, dir string, cfg *config) error {
	logf("building the provider and rsswrap")
	realDir := filepath.Join(dir, "real")
	cfg.wrapperDir = filepath.Join(dir, "wrap")
	for _, d := range []string{realDir, cfg.wrapperDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var err error
	if cfg.providerBin, err = tfrun.BuildProvider(ctx, realDir); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(cfg.wrapperDir, "terraform-provider-isahitlab"), "./internal/bench/rsswrap")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building rsswrap: %v\n%s", err, out)
	}
	return nil
}

func parseSizes(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("-n: %q is not a project size of at least 10", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// commandLine is how to run this again.
func commandLine() string {
	parts := []string{"go", "run", "./internal/bench"}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " '\"$\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func terraformVersion(cli string) string {
	cmd := exec.Command(cli, "version", "-json")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err != nil || json.Unmarshal(out, &v) != nil || v.Version == "" {
		return "unknown"
	}
	return v.Version
}

// revision names the commit the provider was built from, and says when the
// tree differed from it (results of uncommitted code are not reproducible).
func revision(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown revision"
	}
	rev := strings.TrimSpace(string(out))
	status, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(bytes.TrimSpace(status)) > 0 {
		rev += " + uncommitted changes"
	}
	return "commit " + rev
}
