// Command bench is the scale benchmark of issues 4 and 11 (`make bench`).
// For each project size N and list-document mode it starts the emulator
// in-process on loopback with a per-call latency and a rate limit, seeds N
// batches, and times the real Terraform CLI through a project-wide
// isahitlab_webhook: create, a no-change plan, an apply after 10% new
// batches, and destroy; and, as probes, a plan that reads the
// isahitlab_batches data source and a terraform query of the list resource.
// Each phase is set against the floor the server's rate limit imposes for
// the fewest calls the contract allows, and against the Python SDK's
// algorithm run with this project's client; the provider's and Terraform's
// CPU time are measured per 1,000 batches, to show how they grow with N.
// Each scenario gives the provider a fresh ISAHIT_LAB_PACE_DIR, shared by its
// phases (-pace=warm) or fresh per phase (-pace=cold), so that no run learns
// from another's 429s nor from the user's cache.
// Results go to stdout and to -out: results.md and results.json; the charts,
// performance.svg (wall time against N) and cpu-per-batch-<mode>.svg, go to
// -images: by default -out for a run, and for -merge (which makes the tables
// and charts of the performance guide) docs/images/, where the guide links
// them. docs/ is all the Terraform Registry publishes.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
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
	images       string // directory for the charts; see imagesDir
	phases       []string
	phaseTimeout time.Duration
	cpuProfile   string // directory for the provider's CPU profiles; "" for none
	providerIn   string // a provider binary to measure instead of this tree's build

	pace              string  // paceWarm or paceCold: the ISAHIT_LAB_PACE_DIR of each phase
	requestsPerSecond float64 // the provider's requests_per_second; 0: unset

	queryCLI string // a Terraform >= 1.14 for the query probe; "" to skip it

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
	var ns, modes, phaseList, queryCLI string
	flag.StringVar(&ns, "n", "1000,10000,100000", "comma-separated project sizes (batches); 100000 takes about 1.5 h over both modes")
	flag.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "latency the emulator adds to every API request")
	flag.Float64Var(&cfg.rate, "rate", 500, "emulator rate limit, requests/s (0: none)")
	flag.IntVar(&cfg.concurrency, "concurrency", 0, "provider max_concurrency (0: leave it unset, the provider's default)")
	flag.Float64Var(&cfg.requestsPerSecond, "requests-per-second", 0, "provider requests_per_second, the quota the user knows (0: leave it unset)")
	flag.StringVar(&cfg.pace, "pace", paceWarm, "the provider's "+envPaceDir+": "+paceWarm+" = one fresh directory per scenario (N, mode), shared by its phases; "+
		paceCold+" = a fresh one per phase")
	flag.StringVar(&modes, "modes", modeWith+","+modeWithout, "list-document modes: "+modeWith+", "+modeWithout)
	flag.StringVar(&phaseList, "phases", strings.Join(allPhases, ","), "phases to measure: "+strings.Join(allPhases, ", ")+
		" (create runs, unreported, when a later phase but batches needs its state)")
	flag.StringVar(&queryCLI, "query-cli", "", "Terraform >= 1.14 for the query phase (default: the terraform in use if new enough, else the newest .tools/bin/terraform-v1.*; none: skip)")
	flag.DurationVar(&cfg.phaseTimeout, "phase-timeout", time.Hour, "interrupt a Terraform command after this long")
	flag.StringVar(&cfg.providerIn, "provider-bin", "", "measure this provider binary instead of building this tree's (e.g. one built from `git archive` of an older commit)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "directory: run a provider build that writes CPU profiles there, per phase (slows it; for diagnosis)")
	flag.BoolVar(&cfg.baseline, "baseline", true, "run the SDK-algorithm baseline at N <= -baseline-max-n")
	flag.IntVar(&cfg.baselineMaxN, "baseline-max-n", 1000, "skip the baseline above this N and estimate it linearly (it takes ~12 min per phase at 10,000)")
	flag.StringVar(&cfg.out, "out", "", "output directory (default .bench/ at the repository root)")
	flag.StringVar(&cfg.images, "images", "", "directory for the charts (default -out; with -merge, "+guideImages+"/ at the repository root, which the performance guide links)")
	var merge string
	flag.StringVar(&merge, "merge", "", "comma-separated results.json files: write their runs together to -out (tables, targets, plots), running nothing")
	flag.Parse()

	for _, p := range strings.Split(phaseList, ",") {
		if p = strings.TrimSpace(p); !slices.Contains(allPhases, p) {
			return fmt.Errorf("-phases: unknown phase %q (want some of %s)", p, strings.Join(allPhases, ", "))
		}
		if !slices.Contains(cfg.phases, strings.TrimSpace(p)) {
			cfg.phases = append(cfg.phases, strings.TrimSpace(p))
		}
	}

	if cfg.pace != paceWarm && cfg.pace != paceCold {
		return fmt.Errorf("-pace: %q is not %s or %s", cfg.pace, paceWarm, paceCold)
	}
	if cfg.requestsPerSecond < 0 {
		return fmt.Errorf("-requests-per-second: %g is negative", cfg.requestsPerSecond)
	}
	var err error
	if merge != "" {
		return mergeReports(cfg, strings.Split(merge, ","))
	}
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
	if cfg.images == "" {
		cfg.images = cfg.out
	}
	for _, dir := range []string{cfg.out, cfg.images} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if cfg.cli, err = tfrun.CLIPath(); err != nil {
		return err
	}
	if cfg.selected(phaseQuery) {
		cfg.queryCLI = findQueryCLI(root, cfg.cli, queryCLI)
		if cfg.queryCLI == "" {
			logf("no Terraform >= 1.14 found for the query phase: it is skipped (-query-cli to name one)")
		}
	}
	if cfg.cpuProfile != "" {
		if cfg.cpuProfile, err = filepath.Abs(cfg.cpuProfile); err != nil {
			return err
		}
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
		Pace:        cfg.pace,
		Concurrency: cfg.concurrency,
		BaselineMax: cfg.baselineMaxN,
		Phases:      cfg.phases,

		RequestsPerSecond: cfg.requestsPerSecond,
	}
	if cfg.queryCLI != "" {
		rep.QueryCLI = terraformVersion(cfg.queryCLI)
	}
	if cfg.providerIn != "" {
		rep.Revision = "provider binary " + cfg.providerIn + " (benchmark from " + rep.Revision + ")"
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
		if cfg.baseline && n <= cfg.baselineMaxN && slices.ContainsFunc(cfg.phases, func(p string) bool { return slices.Contains(phases, p) }) {
			logf("baseline: N=%d (SDK algorithm, sequential; slow on purpose)", n)
			b, err := runBaseline(ctx, cfg, n)
			if err != nil {
				return err
			}
			baselines[n] = b
		}
		// Write what we have after each size: a long run keeps its results.
		if err := finish(cfg, rep, rateBaselines{cfg.rate: baselines}, false); err != nil {
			return err
		}
	}
	return finish(cfg, rep, rateBaselines{cfg.rate: baselines}, true)
}

// rateBaselines are the baselines measured, by rate limit and N.
type rateBaselines map[float64]map[int]map[string]baselineResult

// finish fills in the baselines (each run's from those at its rate) and
// verdicts and writes every output.
func finish(cfg config, rep *Report, baselines rateBaselines, final bool) error {
	for _, rate := range rates(rep.Runs) {
		fillBaselines(rep.Runs, rate, baselines[rate])
	}
	rep.Verdicts = verdicts(rep.Runs)
	return write(cfg, rep, final)
}

// write prints the report (when final) and writes every output.
func write(cfg config, rep *Report, final bool) error {
	if final {
		fmt.Println()
		writeTable(os.Stdout, rep)
		fmt.Println()
		fmt.Print(notes(rep))
		fmt.Println("CPU seconds per 1,000 batches (= ms per batch):")
		fmt.Println()
		writeGrowth(os.Stdout, rep.Runs)
		fmt.Println()
		writeVerdicts(os.Stdout, rep.Verdicts)
	}
	if err := writeFiles(cfg.out, cfg.images, rep); err != nil {
		return err
	}
	written := []string{filepath.Join(cfg.out, "results.md"), filepath.Join(cfg.out, "results.json")}
	plots := map[string]func(*os.File) error{
		"performance.svg": func(f *os.File) error {
			title := fmt.Sprintf("isahitlab_webhook, project scope: wall time against N (L = %v, R = %s)", cfg.latency, ratesLabel(rep.Runs))
			return writeSVG(f, wallChart(title), plotSeries(rep.Runs))
		},
	}
	for _, mode := range cfg.modes {
		plots[cpuPlotName(mode)] = func(f *os.File) error {
			title := fmt.Sprintf("CPU per batch against N, %s (solid: provider, dashed: terraform)", mode)
			return writeSVG(f, cpuChart(title), cpuSeries(rep.Runs, mode))
		}
	}
	for name, plot := range plots {
		f, err := os.Create(filepath.Join(cfg.images, name))
		if err != nil {
			return err
		}
		if err := plot(f); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		written = append(written, f.Name())
	}
	if final {
		slices.Sort(written[2:])
		fmt.Printf("\nwrote %s\n", strings.Join(written, ", "))
	}
	return nil
}

// findQueryCLI picks the Terraform of the query phase: the one asked for
// ("none" for none), else the CLI in use when it is 1.14 or later, else the
// newest .tools/bin/terraform-v1.* that is (make testacc TF=... builds them).
func findQueryCLI(root, cli, asked string) string {
	switch asked {
	case "none":
		return ""
	case "":
	default:
		return asked
	}
	if queryCapable(terraformVersion(cli)) {
		return cli
	}
	matches, _ := filepath.Glob(filepath.Join(root, ".tools", "bin", "terraform-v1.*"))
	best, bestV := "", ""
	for _, m := range matches {
		v := terraformVersion(m)
		if queryCapable(v) && (best == "" || versionLess(bestV, v)) {
			best, bestV = m, v
		}
	}
	return best
}

// queryCapable reports whether a Terraform version has terraform query.
func queryCapable(v string) bool { return v != "unknown" && !versionLess(v, "1.14.0") }

// versionLess compares dotted versions numerically (a pre-release suffix is ignored).
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(strings.SplitN(pa[i], "-", 2)[0])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(strings.SplitN(pb[i], "-", 2)[0])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// mergeReports writes the runs of several results.json files as one report
// (several runs of the benchmark, e.g. one per N, measured on the same tree
// and machine).
func mergeReports(cfg config, files []string) error {
	var rep *Report
	var commands []string
	for _, f := range files {
		b, err := os.ReadFile(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		commands = append(commands, r.Command)
		for i := range r.Runs {
			for j := range r.Runs[i].Phases {
				p := &r.Runs[i].Phases[j]
				// Files from before machine_metered: the bench's own CPU says it was.
				p.Metered = p.Metered || p.BenchCPU > 0
			}
		}
		if rep == nil {
			rep = &r
			continue
		}
		rep.Runs = append(rep.Runs, r.Runs...)
		if rep.QueryCLI == "" {
			rep.QueryCLI = r.QueryCLI
		}
		// R, pace and requests_per_second are per run; the rest is the report's.
		if r.Terraform != rep.Terraform || r.Latency != rep.Latency || r.Concurrency != rep.Concurrency {
			logf("warning: %s was measured with other settings (Terraform %s, L %v, concurrency %d)",
				f, r.Terraform, time.Duration(r.Latency), r.Concurrency)
		}
		if !strings.Contains(rep.Revision, r.Revision) {
			logf("note: %s was measured on %s, %s on %s", f, r.Revision, files[0], rep.Revision)
			rep.Revision += "; " + r.Revision
		}
	}
	if rep == nil {
		return errors.New("-merge: no file")
	}
	sortRuns(rep.Runs)
	rep.Command = strings.Join(commands, "\n")
	cfg.modes = nil
	for _, r := range rep.Runs {
		if !slices.Contains(cfg.modes, r.Mode) {
			cfg.modes = append(cfg.modes, r.Mode)
		}
	}
	cfg.latency = time.Duration(rep.Latency)
	if cfg.out == "" || cfg.images == "" {
		root, err := tfrun.RepoRoot()
		if err != nil {
			return err
		}
		if cfg.out == "" {
			cfg.out = filepath.Join(root, ".bench")
		}
		if cfg.images == "" {
			// The merged report is the performance guide's: its charts go
			// where the guide links them, under docs/.
			cfg.images = filepath.Join(root, filepath.FromSlash(guideImages))
		}
	}
	for _, dir := range []string{cfg.out, cfg.images} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return finish(cfg, rep, measuredBaselines(rep.Runs), true)
}

// sortRuns orders merged runs by N, then settings, then mode.
func sortRuns(runs []Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i], runs[j]
		if a.N != b.N {
			return a.N < b.N
		}
		if c := compareSetup(a, b); c != 0 {
			return c < 0
		}
		return a.Mode < b.Mode
	})
}

// measuredBaselines are the baselines the runs measured, by rate and N, to
// scale to the other runs' N at the same rate.
func measuredBaselines(runs []Run) rateBaselines {
	out := rateBaselines{}
	for _, r := range runs {
		for _, p := range r.Phases {
			if p.BaselineStatus != baselineMeasured {
				continue
			}
			if out[r.Rate] == nil {
				out[r.Rate] = map[int]map[string]baselineResult{}
			}
			if out[r.Rate][r.N] == nil {
				out[r.Rate][r.N] = map[string]baselineResult{}
			}
			out[r.Rate][r.N][p.Name] = baselineResult{Wall: time.Duration(p.Baseline), Calls: p.BaselineCalls}
		}
	}
	return out
}

// fillBaselines sets the baseline of each phase of the runs at rate: measured
// at its N, else scaled linearly from the largest N measured, else skipped.
// The baseline's SDK algorithm runs under the same rate limit, so a run
// takes only those measured at its own.
func fillBaselines(runs []Run, rate float64, baselines map[int]map[string]baselineResult) {
	largest := 0
	for n := range baselines {
		largest = max(largest, n)
	}
	for i := range runs {
		r := &runs[i]
		if r.Rate != rate {
			continue
		}
		for j := range r.Phases {
			p := &r.Phases[j]
			if !slices.Contains(phases, p.Name) {
				continue // a probe: the SDK has no counterpart
			}
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
	switch {
	case cfg.providerIn != "":
		if cfg.providerBin, err = filepath.Abs(cfg.providerIn); err != nil {
			return err
		}
	case cfg.cpuProfile != "":
		// The provider with a CPU profiler (profprovider/main.go).
		cfg.providerBin = filepath.Join(realDir, "terraform-provider-isahitlab")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", cfg.providerBin, "./tools/bench/profprovider")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building profprovider: %v\n%s", err, out)
		}
	default:
		if cfg.providerBin, err = tfrun.BuildProvider(ctx, realDir); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(cfg.wrapperDir, "terraform-provider-isahitlab"), "./tools/bench/rsswrap")
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
	parts := []string{"go", "run", "./tools/bench"}
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
