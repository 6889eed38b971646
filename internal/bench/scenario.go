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

// runScenario seeds an emulator with n batches and times the four phases of
// the real Terraform CLI against it.
func runScenario(ctx context.Context, cfg config, n int, mode string) (Run, error) {
	emu := emulator.New(emulator.Options{AccessID: benchAccessID, SecretKey: benchSecretKey,
		ListOmitsWorkflow: mode == modeWithout,
		Faults:            emulator.Faults{Latency: cfg.latency, RateLimit: cfg.rate}})
	project := emu.AddProject("bench")
	addBatches(emu, project, 0, n)
	span := &spanRecorder{next: emu}
	srv := httptest.NewServer(span)
	defer srv.Close()

	dir, err := os.MkdirTemp("", "isahitlab-bench-")
	if err != nil {
		return Run{}, err
	}
	ws, err := tfrun.NewWorkspace(dir, cfg.cli, cfg.wrapperDir)
	if err != nil {
		return Run{}, err
	}
	rssFile := filepath.Join(dir, "rss.txt")
	ws.Env = append(ws.Env, envWrapTarget+"="+cfg.providerBin, envWrapOut+"="+rssFile)
	if err := ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint        = %q
  access_id       = %q
  secret_key      = %q
  max_concurrency = %d
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = %q
}
`, srv.URL, benchAccessID, benchSecretKey, cfg.concurrency, project, hookURL)); err != nil {
		return Run{}, err
	}

	run := Run{N: n, Mode: mode}
	batches, added := n, 0
	for _, phase := range phases {
		args := map[string][]string{
			phaseCreate:  {"apply", "-auto-approve"},
			phaseRefresh: {"plan", "-detailed-exitcode"},
			phaseUpdate:  {"apply", "-auto-approve"},
			phaseDestroy: {"destroy", "-auto-approve"},
		}[phase]
		if phase == phaseUpdate {
			added = n / 10
			addBatches(emu, project, n, added) // not timed
			batches += added
		}
		emu.ResetCalls()
		span.reset()
		_ = os.Remove(rssFile)

		start := time.Now()
		code, out, tfRSS, err := runCLI(ctx, ws, append(args, "-input=false", "-no-color")...)
		wall := time.Since(start)
		if err != nil || code != 0 {
			// Keep the workspace to look at; exit 2 of plan means it found changes.
			return run, fmt.Errorf("scenario N=%d %s %s: terraform %s exited %d (%v); workspace kept in %s\n%s",
				n, mode, phase, args[0], code, err, dir, tail(out, 40))
		}
		calls := emu.Calls()
		p := Phase{
			Name:      phase,
			Wall:      Seconds(wall),
			Calls:     emu.TotalCalls(),
			Throttled: calls["429"],
			MinCalls:  minCalls(phase, batches, added, mode == modeWith),
			Endpoints: calls,
			APIStart:  Seconds(span.start().Sub(start)),
			APISpan:   Seconds(span.span()),
			InFlight:  emu.MaxInFlight(),

			TerraformRSSKB: tfRSS,
		}
		p.PerSecondOK, p.PerSecond429 = span.perSecond()
		if p.PeakRSSKB, err = peakRSS(rssFile); err != nil {
			return run, fmt.Errorf("scenario N=%d %s %s: %w", n, mode, phase, err)
		}
		// A fast run that did not do the work would be no result at all.
		want := batches
		if phase == phaseDestroy {
			want = 0
		}
		if held := holding(emu, project); held != want {
			return run, fmt.Errorf("scenario N=%d %s %s: %d batches hold the webhook, want %d; workspace kept in %s", n, mode, phase, held, want, dir)
		}
		if phase == phaseCreate {
			st, err := os.Stat(filepath.Join(dir, "terraform.tfstate"))
			if err != nil {
				return run, err
			}
			run.StateBytes, run.StateBytesPerBatch = st.Size(), float64(st.Size())/float64(n)
		}
		run.Phases = append(run.Phases, p)
		logf("  provider N=%d %s %-7s %8.2f s  %6d calls  %4d 429s  span %6.2f s  in flight %2d  rss %5.1f MB  terraform %5.0f MB",
			n, mode, phase, wall.Seconds(), p.Calls, p.Throttled, time.Duration(p.APISpan).Seconds(), p.InFlight,
			float64(p.PeakRSSKB)/1024, float64(p.TerraformRSSKB)/1024)
	}
	_ = os.RemoveAll(dir)
	return run, nil
}

// runCLI runs terraform in ws and returns its exit code, output and peak
// RSS in KiB; err is set only when it could not run at all. Cancelling ctx
// interrupts it as Ctrl-C would, so it can stop its provider cleanly.
func runCLI(ctx context.Context, ws *tfrun.Workspace, args ...string) (code int, out string, rssKiB int64, err error) {
	cmd := ws.Command(ctx, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	err = cmd.Run()
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rssKiB = ru.Maxrss
		}
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), buf.String(), rssKiB, nil
	case err != nil:
		return -1, buf.String(), rssKiB, err
	}
	return 0, buf.String(), rssKiB, nil
}

// peakRSS is the largest KiB value rsswrap recorded, one line per provider
// process; an empty or missing file means the wrapper never ran.
func peakRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("no provider peak RSS recorded (did terraform start the wrapper?): %w", err)
	}
	defer f.Close()
	var peak int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		peak = max(peak, v)
	}
	return peak, sc.Err()
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
type spanRecorder struct {
	next          http.Handler
	mu            sync.Mutex
	first, last   time.Time
	ok, throttled []int // per second since first
}

func (s *spanRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
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
