package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// List-document modes (emulator.SetListOmitsWorkflow).
const (
	modeWith    = "with-workflow"
	modeWithout = "without-workflow"
)

const (
	benchAccessID  = "bench-access-id"
	benchSecretKey = "bench-secret-key"
	hookURL        = "https://hooks.example.com/bench"

	// The rsswrap program's settings (see rsswrap/main.go).
	envWrapTarget = "ISAHITLAB_RSSWRAP_TARGET"
	envWrapOut    = "ISAHITLAB_RSSWRAP_OUT"
)

func addBatches(emu *emulator.Emulator, project string, from, count int) {
	for i := range count {
		emu.AddBatch(project, fmt.Sprintf("batch-%d", from+i))
	}
}

// providerBlock is the provider's configuration in every workspace of a
// scenario: the emulator's endpoint, and max_concurrency and
// requests_per_second only when asked (else the provider's defaults).
func providerBlock(cfg config, endpoint string) string {
	opt := ""
	if cfg.concurrency > 0 {
		opt += fmt.Sprintf("\n  max_concurrency = %d", cfg.concurrency)
	}
	if cfg.requestsPerSecond > 0 {
		opt += "\n  requests_per_second = " + strconv.FormatFloat(cfg.requestsPerSecond, 'f', -1, 64)
	}
	return fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = %q
  secret_key = %q%s
}
`, endpoint, benchAccessID, benchSecretKey, opt)
}

// workspace makes a scratch directory with the CLI settings and the
// wrapper's environment; usage is the wrapper's output file.
func workspace(cfg config, cli string) (ws *tfrun.Workspace, usage string, err error) {
	dir, err := os.MkdirTemp("", "isahitlab-bench-")
	if err != nil {
		return nil, "", err
	}
	if ws, err = tfrun.NewWorkspace(dir, cli, cfg.wrapperDir); err != nil {
		return nil, "", err
	}
	usage = filepath.Join(dir, "provider-usage.txt")
	ws.Env = append(ws.Env, envWrapTarget+"="+cfg.providerBin, envWrapOut+"="+usage)
	return ws, usage, nil
}

// selected reports whether the run asked for a phase.
func (cfg config) selected(phase string) bool { return slices.Contains(cfg.phases, phase) }

// runScenario seeds an emulator with n batches and times the phases of the
// real Terraform CLI against it. create runs whenever a later phase but
// batches needs its state (reported only when asked for); the other phases
// run when asked for.
func runScenario(ctx context.Context, cfg config, n int, mode string) (Run, error) {
	emu := emulator.New(emulator.Options{AccessID: benchAccessID, SecretKey: benchSecretKey,
		ListOmitsWorkflow: mode == modeWithout,
		Faults:            emulator.Faults{Latency: cfg.latency, RateLimit: cfg.rate}})
	project := emu.AddProject("bench")
	addBatches(emu, project, 0, n)
	span := &spanRecorder{next: emu}
	srv := httptest.NewServer(span)
	defer srv.Close()

	ws, usage, err := workspace(cfg, cfg.cli)
	if err != nil {
		return Run{}, err
	}
	dir := ws.Dir
	if err := ws.WriteConfig(providerBlock(cfg, srv.URL) + fmt.Sprintf(`
resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = %q
}
`, project, hookURL)); err != nil {
		return Run{}, err
	}

	// Before create: the phases of a warm scenario share what the provider learns.
	pace, err := newPacer(cfg.pace, dir)
	if err != nil {
		return Run{}, err
	}
	run := Run{N: n, Mode: mode, Rate: cfg.rate, Pace: cfg.pace, RequestsPerSecond: cfg.requestsPerSecond}
	batches, added := n, 0
	needCreate := false
	for _, p := range cfg.phases {
		needCreate = needCreate || p != phaseBatches
	}
	var order []string
	for _, p := range []string{phaseCreate, phaseRefresh, phaseUpdate, phaseBatches, phaseQuery, phaseHealth, phaseDestroy} {
		if cfg.selected(p) || (p == phaseCreate && needCreate) {
			order = append(order, p)
		}
	}
	for _, phase := range order {
		if phase == phaseQuery && cfg.queryCLI == "" {
			logf("  provider N=%d %s query: skipped, no Terraform >= 1.14 found (-query-cli)", n, mode)
			continue
		}
		if phase == phaseUpdate {
			added = n / 10
			addBatches(emu, project, n, added) // not timed
			batches += added
		}
		// The probes run in a workspace of their own; the phases in the resource's.
		pws, pusage, cli := ws, usage, cfg.cli
		var args []string
		switch phase {
		case phaseCreate, phaseUpdate:
			args = []string{"apply", "-auto-approve"}
		case phaseRefresh:
			args = []string{"plan", "-detailed-exitcode"}
		case phaseDestroy:
			args = []string{"destroy", "-auto-approve"}
		case phaseBatches, phaseQuery, phaseHealth:
			if phase == phaseQuery {
				cli = cfg.queryCLI
			}
			if pws, pusage, err = probeWorkspace(cfg, cli, phase, srv.URL, project, batches); err != nil {
				return run, err
			}
			args = []string{"plan"}
			if phase == phaseQuery {
				args = []string{"query"}
			}
		}
		paceDir, paceDone, err := pace.forPhase(phase)
		if err != nil {
			return run, err
		}
		setEnv(pws, envPaceDir, paceDir)
		emu.ResetCalls()
		span.reset()
		_ = os.Remove(pusage)
		profileEnv(cfg, pws, n, mode, phase)

		pctx, cancel := context.WithTimeout(ctx, cfg.phaseTimeout)
		m := startMeter()
		start := time.Now()
		if phase != phaseQuery { // terraform query has no -input
			args = append(args, "-input=false")
		}
		res, err := runCLI(pctx, pws, append(args, "-no-color")...)
		wall := time.Since(start)
		benchCPU, othersCPU, metered := m.stop(res.cpu)
		cancel()
		if err != nil || res.code != 0 {
			// Keep the workspace to look at; exit 2 of plan means it found changes.
			why := ""
			switch {
			case ctx.Err() != nil:
				why = " (the benchmark was interrupted: it passed the signal on)"
			case errors.Is(pctx.Err(), context.DeadlineExceeded):
				why = fmt.Sprintf(" (stopped after -phase-timeout=%v)", cfg.phaseTimeout)
			case strings.Contains(res.out, "Interrupt received"):
				why = " (terraform received an interrupt from outside the benchmark)"
			}
			return run, fmt.Errorf("scenario N=%d %s %s: terraform %s exited %d (%v)%s; workspace kept in %s\n%s",
				n, mode, phase, args[0], res.code, err, why, pws.Dir, tail(res.out, 40))
		}
		calls := emu.Calls()
		p := Phase{
			Name:      phase,
			Batches:   batches,
			Wall:      Seconds(wall),
			Calls:     emu.TotalCalls(),
			Throttled: calls["429"],
			MinCalls:  minCalls(phase, batches, added, mode == modeWith),
			Endpoints: calls,
			APIStart:  Seconds(span.start().Sub(start)),
			APISpan:   Seconds(span.span()),
			InFlight:  emu.MaxInFlight(),

			ProcessSpan: Seconds(span.processSpan()),

			TerraformRSSKB:    res.rssKiB,
			TerraformTotalCPU: Seconds(res.cpu),
			BenchCPU:          Seconds(benchCPU),
			OthersCPU:         Seconds(othersCPU),
			Metered:           metered,
		}
		if phase == phaseQuery {
			p.Note = "Terraform " + terraformVersion(cli)
		}
		p.PerSecondOK, p.PerSecond429 = span.perSecond()
		u, err := readUsage(pusage)
		if err != nil {
			return run, fmt.Errorf("scenario N=%d %s %s: %w", n, mode, phase, err)
		}
		p.PeakRSSKB, p.ProviderCPU, p.ProviderProcs = u.PeakKiB, Seconds(u.CPU), u.Procs
		p.TerraformCPU = Seconds(res.cpu - u.CPU - u.WrapperCPU)
		if p.TerraformCPU < 0 {
			// The provider processes were not in terraform's rusage (not reaped by it).
			logf("  warning: terraform's CPU (%v) is less than its providers' (%v): not subtracting them", res.cpu, u.CPU)
			p.TerraformCPU = Seconds(res.cpu)
		}
		// A fast run that did not do the work would be no result at all.
		switch phase {
		case phaseBatches, phaseQuery, phaseHealth:
			if p.Results, err = probeResults(phase, res.out); err != nil {
				return run, fmt.Errorf("scenario N=%d %s %s: %w; workspace kept in %s", n, mode, phase, err, pws.Dir)
			}
			if p.Results != batches {
				return run, fmt.Errorf("scenario N=%d %s %s: %d results, want %d; workspace kept in %s\n%s", n, mode, phase, p.Results, batches, pws.Dir, tail(res.out, 20))
			}
		default:
			want := batches
			if phase == phaseDestroy {
				want = 0
			}
			if held := holding(emu, project); held != want {
				return run, fmt.Errorf("scenario N=%d %s %s: %d batches hold the webhook, want %d; workspace kept in %s", n, mode, phase, held, want, dir)
			}
		}
		if phase == phaseCreate {
			st, err := os.Stat(filepath.Join(dir, "terraform.tfstate"))
			if err != nil {
				return run, err
			}
			run.StateBytes, run.StateBytesPerBatch = st.Size(), float64(st.Size())/float64(n)
		}
		logf("  provider N=%d %s %-7s %8.2f s  %6d calls (fewest %d)  %4d 429s  span %6.2f s (%.2fx floor, processes %.2fx)  in flight %2d  provider cpu %7.2f s (%d procs) rss %5.1f MB  terraform cpu %6.2f s rss %5.0f MB  others %.1f cores",
			n, mode, phase, wall.Seconds(), p.Calls, p.MinCalls, p.Throttled, time.Duration(p.APISpan).Seconds(), run.spanRatio(p), run.processRatio(p), p.InFlight,
			time.Duration(p.ProviderCPU).Seconds(), p.ProviderProcs, float64(p.PeakRSSKB)/1024,
			time.Duration(p.TerraformCPU).Seconds(), float64(p.TerraformRSSKB)/1024, p.OthersCores())
		if cfg.selected(phase) {
			run.Phases = append(run.Phases, p)
		}
		paceDone()
		if pws != ws {
			_ = os.RemoveAll(pws.Dir)
		}
	}
	_ = os.RemoveAll(dir)
	return run, nil
}

// probeWorkspace writes the configuration of a probe: a plan that reads the
// batches data source (an output counts its objects), or a query of the
// list resource with a limit above the project's size.
func probeWorkspace(cfg config, cli, phase, endpoint, project string, batches int) (*tfrun.Workspace, string, error) {
	ws, usage, err := workspace(cfg, cli)
	if err != nil {
		return nil, "", err
	}
	switch phase {
	case phaseBatches:
		err = ws.WriteConfig(providerBlock(cfg, endpoint) + fmt.Sprintf(`
data "isahitlab_batches" "all" {
  project_id = %q
}

output "batches" {
  value = length(data.isahitlab_batches.all.batches)
}
`, project))
	case phaseQuery:
		if err = ws.WriteConfig(providerBlock(cfg, endpoint)); err == nil {
			err = os.WriteFile(filepath.Join(ws.Dir, "bench.tfquery.hcl"), []byte(fmt.Sprintf(`list "isahitlab_webhook" "all" {
  provider = isahitlab
  limit    = %d

  config {
    project_id = %q
  }
}
`, batches+100, project)), 0o600)
		}
	case phaseHealth:
		err = writeHealthConfig(ws, cfg, endpoint, project)
	}
	return ws, usage, err
}

// probeResults counts what a probe read, from its output.
func probeResults(phase, out string) (int, error) {
	switch phase {
	case phaseBatches:
		m := regexp.MustCompile(`(?m)^\s*\+ batches\s*=\s*(\d+)\s*$`).FindStringSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("no batches output in the plan:\n%s", tail(out, 20))
		}
		return strconv.Atoi(m[1])
	case phaseQuery:
		// One line per result: "list.isahitlab_webhook.all   <identity>   <display name>".
		return strings.Count(out, "list.isahitlab_webhook.all"), nil
	case phaseHealth:
		return healthResults(out)
	}
	return 0, nil
}

// cliResult is one CLI run.
type cliResult struct {
	code   int
	out    string
	rssKiB int64         // peak RSS of the process (or of a child it reaped)
	cpu    time.Duration // user + system, the children it reaped included
}

// runCLI runs terraform in ws and returns its exit code, output, peak RSS
// and CPU; err is set only when it could not run at all. Cancelling ctx
// interrupts it as Ctrl-C would, so it can stop its provider cleanly.
func runCLI(ctx context.Context, ws *tfrun.Workspace, args ...string) (cliResult, error) {
	cmd := ws.Command(ctx, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	res := cliResult{code: -1}
	if cmd.ProcessState != nil {
		res.rssKiB, res.cpu = childUsage(cmd.ProcessState)
	}
	res.out = buf.String()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
		return res, nil
	case err != nil:
		return res, err
	}
	res.code = 0
	return res, nil
}

// usage is what rsswrap recorded over the provider processes of a phase.
type usage struct {
	PeakKiB    int64         // the largest peak RSS
	CPU        time.Duration // user + system of the provider processes
	WrapperCPU time.Duration // rsswrap's own
	Procs      int
}

// readUsage sums the lines rsswrap wrote, one per provider process; an
// empty or missing file means the wrapper never ran. A line is "peak KiB
// [user µs system µs [own user µs own system µs]]".
func readUsage(path string) (usage, error) {
	var u usage
	f, err := os.Open(path)
	if err != nil {
		return u, fmt.Errorf("no provider usage recorded (did terraform start the wrapper?): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		var v []int64
		for _, fl := range fields {
			x, err := strconv.ParseInt(fl, 10, 64)
			if err != nil {
				return u, fmt.Errorf("%s: bad line %q", path, sc.Text())
			}
			v = append(v, x)
		}
		if len(v) != 1 && len(v) != 3 && len(v) != 5 {
			return u, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		u.Procs++
		u.PeakKiB = max(u.PeakKiB, v[0])
		if len(v) >= 3 {
			u.CPU += time.Duration(v[1]+v[2]) * time.Microsecond
		}
		if len(v) == 5 {
			u.WrapperCPU += time.Duration(v[3]+v[4]) * time.Microsecond
		}
	}
	if err := sc.Err(); err != nil {
		return u, err
	}
	if u.Procs == 0 {
		return u, fmt.Errorf("%s: empty: the wrapper recorded no provider process", path)
	}
	return u, nil
}

// holding counts the project's batches whose workflow holds the bench url.
func holding(emu *emulator.Emulator, project string) int {
	held := 0
	for _, id := range emu.ProjectBatches(project) {
		b, _ := emu.Batch(id)
		if w, ok := emu.Webhook(b.WorkflowID); ok && w.URL == hookURL {
			held++
		}
	}
	return held
}

// spanRecorder notes when the first API request of a phase arrived and the
// last one was answered (the rest of the wall time is Terraform's own), and
// counts answers per second of the phase, accepted and 429: the rate the
// provider actually drew from the server over time.
//
// It also sums the process span: a phase may run several provider
// processes one after another (apply = a plan process that refreshes, then
// an apply process), and the time between them, while Terraform plans and
// starts the next, is Terraform's. Each process starts its API work with a
// login (it keeps no token between processes), so logins cut the phase's
// requests into segments, each from its first request to its last answer;
// the process span is their sum. A re-login inside a process costs
// nothing: it cuts at almost no gap, and at none while requests are in
// flight (the segment then ends at the login). A login retried after a
// refused one (429, 5xx) continues the segment: that wait is the provider's.
type spanRecorder struct {
	next          http.Handler
	clock         func() time.Time // time.Now when nil (tests set it)
	mu            sync.Mutex
	first, last   time.Time
	ok, throttled []int // per second since first

	inFlight     int
	segOpen      bool
	segStart     time.Time     // the open segment's first request
	segLast      time.Time     // its last answer (zero before any)
	loginRefused bool          // the open segment's last login answer was a refusal
	closedSpan   time.Duration // the closed segments' sum
}

// loginPath ends the path of the login request (the emulator's and the
// API's, whatever prefix the endpoint has).
const loginPath = "api/user-manager/auth/login"

func (s *spanRecorder) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

func isLogin(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, loginPath)
}

func (s *spanRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	login := isLogin(r)
	s.mu.Lock()
	now := s.now()
	if s.first.IsZero() {
		s.first = now
	}
	switch {
	case login && s.segOpen && s.loginRefused:
		s.loginRefused = false // a retry: the same process
	case login || !s.segOpen:
		if s.inFlight > 0 {
			s.segLast = now // busy until this login: no gap
		}
		s.closeSegment()
		s.segOpen, s.segStart, s.segLast = true, now, time.Time{}
	}
	s.inFlight++
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	s.last = s.now()
	s.segLast = s.last // an answer to an earlier segment's request extends this one: the provider was at work
	if login {
		s.loginRefused = sw.status == http.StatusTooManyRequests || sw.status >= 500
	}
	sec := int(s.last.Sub(s.first) / time.Second)
	for len(s.ok) <= sec {
		s.ok, s.throttled = append(s.ok, 0), append(s.throttled, 0)
	}
	if sw.status == http.StatusTooManyRequests {
		s.throttled[sec]++
	} else {
		s.ok[sec]++
	}
}

// closeSegment adds the open segment, up to its last answer, to the closed
// ones (s.mu held).
func (s *spanRecorder) closeSegment() {
	s.closedSpan += s.openSpan()
	s.segOpen, s.loginRefused = false, false
}

// openSpan is the open segment's first request to its last answer so far
// (s.mu held; 0 without an answer).
func (s *spanRecorder) openSpan() time.Duration {
	if !s.segOpen || s.segLast.Before(s.segStart) {
		return 0
	}
	return s.segLast.Sub(s.segStart)
}

// statusWriter remembers the answer's status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the connection (the emulator
// hijacks it to drop a request).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *spanRecorder) reset() {
	s.mu.Lock()
	s.first, s.last = time.Time{}, time.Time{}
	s.ok, s.throttled = nil, nil
	// Not inFlight: it counts requests still being answered, whatever the phase.
	s.segOpen, s.segStart, s.segLast, s.loginRefused, s.closedSpan = false, time.Time{}, time.Time{}, false, 0
	s.mu.Unlock()
}

// start is when the first request arrived (zero before any).
func (s *spanRecorder) start() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

func (s *spanRecorder) span() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() {
		return 0
	}
	return s.last.Sub(s.first)
}

// processSpan is the sum of the segments' spans: the API span without the
// gaps between provider processes (see spanRecorder).
func (s *spanRecorder) processSpan() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closedSpan + s.openSpan()
}

// perSecond returns copies of the per-second counts.
func (s *spanRecorder) perSecond() (ok, throttled []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.ok...), append([]int(nil), s.throttled...)
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
