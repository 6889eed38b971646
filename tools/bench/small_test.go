package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// spanPhase is a phase with an API span and 429s, for issue 22's targets:
// one provider process, so its process span is its API span.
func spanPhase(name string, minCalls int, wall, span time.Duration, throttled int) Phase {
	return Phase{Name: name, Batches: 100, MinCalls: minCalls, Calls: minCalls + throttled, Throttled: throttled,
		Wall: Seconds(wall), APISpan: Seconds(span), ProcessSpan: Seconds(span)}
}

func TestSpanRatioAndOutside(t *testing.T) {
	// 103 calls at 100/s: a floor of 1.03 s; a span of 1.133 s is 1.10x.
	p := spanPhase(phaseCreate, 103, 3*time.Second, 1133*time.Millisecond, 0)
	r := Run{N: 100, Rate: 100}
	if got := r.spanRatio(p); got < 1.0999 || got > 1.1001 {
		t.Errorf("span ratio at 100/s = %v, want 1.10", got)
	}
	// The same phase at 500/s: floor 0.206 s, 5.5x.
	if got := (Run{Rate: 500}).spanRatio(p); got < 5.4999 || got > 5.5001 {
		t.Errorf("span ratio at 500/s = %v, want 5.5 (each run at its own rate)", got)
	}
	if got := (Run{}).spanRatio(p); got != 0 {
		t.Errorf("span ratio without a rate limit = %v, want 0", got)
	}
	if got := p.outside(); got != 1867*time.Millisecond {
		t.Errorf("outside the API = %v, want wall - span = 1.867s", got)
	}
	// Two processes: 0.927 s of API work, 0.206 s between them.
	p.ProcessSpan = Seconds(927 * time.Millisecond)
	if got := r.processRatio(p); got < 0.8999 || got > 0.9001 {
		t.Errorf("process span ratio at 100/s = %v, want 0.90", got)
	}
	if got := p.between(); got != 206*time.Millisecond {
		t.Errorf("between processes = %v, want API span - process span = 0.206s", got)
	}
	var b strings.Builder
	writeTable(&b, &Report{Runs: []Run{{N: 100, Mode: modeWith, Rate: 100, Phases: []Phase{p}}}})
	if want := "| 3.00 s | 103 | 0 | 103 | 1.03 s | 2.91x | 1.13 s | 1.10x | 0.90x | 0.21 s | 1.87 s |"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
	if head := strings.SplitN(b.String(), "\n", 2)[0]; !strings.Contains(head, "| API span | span/floor | process span/floor | between processes | outside API |") {
		t.Errorf("table header: %s", head)
	}
}

// The targets of issue 22: at N <= 1,000, every phase but the batches
// probe within 1.15x of its floor over its process span, at most one 429;
// each run at its own rate.
func TestSmallTargets(t *testing.T) {
	// Floors: 103 calls at 100/s = 1.03 s; 1,012 at 500/s = 2.024 s.
	runs := []Run{
		{N: 100, Mode: modeWith, Rate: 100, Pace: paceWarm, Phases: []Phase{
			spanPhase(phaseRefresh, 103, 5*time.Second, 1194800*time.Microsecond, 2), // 1.16x, two 429s
			spanPhase(phaseCreate, 103, 5*time.Second, 1184500*time.Microsecond, 1),  // exactly 1.15x, one 429
			spanPhase(phaseHealth, 103, 5*time.Second, 1030*time.Millisecond, 0),
			spanPhase(phaseBatches, 2, 5*time.Second, 10*time.Second, 9), // not judged
		}},
		{N: 1000, Mode: modeWithout, Rate: 500, Pace: paceCold, Phases: []Phase{
			spanPhase(phaseUpdate, 1012, 5*time.Second, 2024*time.Millisecond, 0),
			spanPhase(phaseDestroy, 1012, 5*time.Second, 2500*time.Millisecond, 0),
			spanPhase(phaseQuery, 1012, 5*time.Second, 2100*time.Millisecond, 0),
		}},
		{N: 100, Mode: modeWith, Phases: []Phase{ // no rate limit: no floor
			spanPhase(phaseCreate, 103, 5*time.Second, time.Second, 0),
		}},
		{N: 10000, Mode: modeWith, Rate: 500, Phases: []Phase{
			spanPhase(phaseCreate, 10102, 25*time.Second, 25*time.Second, 50),
		}},
	}
	got := map[string]Verdict{}
	for _, v := range verdicts(runs) {
		if v.Hint || !isSmallTarget(v.Target) {
			continue
		}
		key := v.Setup + "/" + v.Target
		if _, dup := got[key]; dup {
			t.Errorf("verdict %q twice", key)
		}
		got[key] = v
	}
	want := map[string]string{
		"100/s warm/create process span within 1.15x of floor":  "PASS 1.15x",
		"100/s warm/create at most 1 429":                       "PASS 1",
		"100/s warm/refresh process span within 1.15x of floor": "MISS 1.16x",
		"100/s warm/refresh at most 1 429":                      "MISS 2",
		"100/s warm/health process span within 1.15x of floor":  "PASS 1.00x",
		"100/s warm/health at most 1 429":                       "PASS 0",
		"500/s cold/update process span within 1.15x of floor":  "PASS 1.00x",
		"500/s cold/update at most 1 429":                       "PASS 0",
		"500/s cold/destroy process span within 1.15x of floor": "MISS 1.24x",
		"500/s cold/destroy at most 1 429":                      "PASS 0",
		"500/s cold/query process span within 1.15x of floor":   "PASS 1.04x",
		"500/s cold/query at most 1 429":                        "PASS 0",
		"no limit/create process span within 1.15x of floor":    "n/a 0.00x",
		"no limit/create at most 1 429":                         "PASS 0",
	}
	for key, w := range want {
		v, ok := got[key]
		if !ok {
			t.Errorf("no verdict %q", key)
			continue
		}
		if g := v.Result + " " + v.Value; g != w {
			t.Errorf("%s: %s, want %s", key, g, w)
		}
	}
	for key, v := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected verdict %q (N=%d): the batches probe, phases that did not run and N > 1,000 are not judged", key, v.N)
		}
	}
	var b strings.Builder
	writeVerdicts(&b, verdicts(runs[:1]))
	if want := "| refresh at most 1 429 | 100 | 100/s warm | with-workflow | 2 | MISS |"; !strings.Contains(b.String(), want) {
		t.Errorf("targets table lacks %q:\n%s", want, b.String())
	}
}

// oldResults is a results.json from before the per-run settings.
const oldResults = `{
  "command": "go run ./tools/bench -n 100",
  "revision": "commit 0000000",
  "latency_s": 0.02,
  "rate_limit_per_s": 500,
  "max_concurrency": 0,
  "runs": [
    {"n": 100, "mode": "with-workflow", "state_bytes": 2000, "state_bytes_per_batch": 20,
     "phases": [{"phase": "create", "batches": 100, "wall_s": 2, "calls": 103, "throttled": 0, "min_calls": 103,
                 "api_span_s": 0.618, "bench_cpu_s": 0.5}]}
  ]
}`

func TestOldResultsTakeTheReportsSettings(t *testing.T) {
	var rep Report
	if err := json.Unmarshal([]byte(oldResults), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Rate != 500 || rep.Runs[0].Pace != "" || rep.Runs[0].RequestsPerSecond != 0 {
		t.Fatalf("runs %+v: want the report's 500/s, no pace, no requests_per_second", rep.Runs)
	}
	if p := rep.Runs[0].Phases[0]; p.MinCalls != 103 || time.Duration(p.APISpan) != 618*time.Millisecond {
		t.Errorf("phase %+v: fields lost", p)
	}
	// Before process_span_s: the API span stands for it.
	if p := rep.Runs[0].Phases[0]; time.Duration(p.ProcessSpan) != 618*time.Millisecond {
		t.Errorf("old phase's process span %v, want its API span 0.618s", time.Duration(p.ProcessSpan))
	}
	if s := rep.Runs[0].setup(); s != "500/s" {
		t.Errorf("setup %q, want 500/s", s)
	}
	// A run's own settings win over the report's, 0 (no rate limit) included.
	b := strings.Replace(oldResults, `"mode": "with-workflow",`, `"mode": "with-workflow", "rate_limit_per_s": 0, "pace": "cold", "requests_per_second": 90,`, 1)
	if err := json.Unmarshal([]byte(b), &rep); err != nil {
		t.Fatal(err)
	}
	if r := rep.Runs[0]; r.Rate != 0 || r.Pace != paceCold || r.RequestsPerSecond != 90 || rep.Rate != 500 {
		t.Errorf("run %+v (report rate %g): want its own 0/s, cold, 90", r, rep.Rate)
	}
	// Round trip: what is written is read back the same.
	rep.Runs[0].Rate = 250
	js, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Runs[0].Rate != 250 || back.Rate != 500 || back.Command != rep.Command || back.Runs[0].Phases[0].Wall != rep.Runs[0].Phases[0].Wall {
		t.Errorf("round trip: %+v, want run rate 250 under a report at 500", back)
	}
}

// -merge of a run at 100/s and an older file's run at 500/s: each floor at
// its own rate, baselines only from the same rate, and the merged file
// merges again the same.
func TestMergePerRunRate(t *testing.T) {
	dir := t.TempDir()
	newer := Report{Command: "go run ./tools/bench -n 100 -rate 100", Revision: "commit 0000000", Latency: Seconds(20 * time.Millisecond),
		Rate: 100, Pace: paceWarm, Runs: []Run{{N: 100, Mode: modeWith, Rate: 100, Pace: paceWarm, Phases: []Phase{
			// 1.133 s over the floor at 100/s (1.03 s): 1.10x.
			{Name: phaseCreate, Batches: 100, Wall: Seconds(3 * time.Second), Calls: 103, MinCalls: 103, APISpan: Seconds(1133 * time.Millisecond),
				ProcessSpan: Seconds(1133 * time.Millisecond), Baseline: Seconds(10 * time.Second), BaselineCalls: 120, BaselineStatus: baselineMeasured},
		}}}}
	js, err := json.Marshal(newer)
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := os.WriteFile(a, js, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(oldResults), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(what string, files ...string) {
		t.Helper()
		out := t.TempDir()
		if err := mergeReports(config{out: out, images: out}, files); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep Report
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Runs) != 2 || rep.Runs[0].Rate != 100 || rep.Runs[1].Rate != 500 {
			t.Fatalf("%s: runs %+v, want the 100/s run then the 500/s one", what, rep.Runs)
		}
		// The old run: 0.618 s over 0.206 s at its 500/s is 3.00x (0.60x at
		// 100/s); its process span is its API span, the only one it has.
		want := map[string]string{"100/s warm": "PASS 1.10x", "500/s": "MISS 3.00x"}
		for _, v := range rep.Verdicts {
			if v.Target == "create process span within 1.15x of floor" {
				if g := v.Result + " " + v.Value; g != want[v.Setup] {
					t.Errorf("%s: %s at %s, want %s", what, g, v.Setup, want[v.Setup])
				}
				delete(want, v.Setup)
			}
		}
		if len(want) > 0 {
			t.Errorf("%s: no span verdict for %v", what, want)
		}
		if p := rep.Runs[1].Phases[0]; p.BaselineStatus != baselineSkipped {
			t.Errorf("%s: the 500/s run's baseline is %q (%v), want skipped: the one measured was at 100/s", what, p.BaselineStatus, p.Baseline)
		}
		md, err := os.ReadFile(filepath.Join(out, "results.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range []string{"| 100 | 100/s warm | with-workflow | create | 3.00 s | 103 | 0 | 103 | 1.03 s |",
			"| 100 | 500/s | with-workflow | create | 2.00 s | 103 | 0 | 103 | 0.21 s |", "R = 100/s, 500/s per run"} {
			if !strings.Contains(string(md), row) {
				t.Errorf("%s: results.md lacks %q", what, row)
			}
		}
	}
	check("merge", b, a)
	// The merged file's report rate is the first file's; its runs keep theirs.
	out := t.TempDir()
	if err := mergeReports(config{out: out, images: out}, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	check("merge of a merge", filepath.Join(out, "results.json"))
}

func TestPacer(t *testing.T) {
	if _, err := newPacer("lukewarm", t.TempDir()); err == nil {
		t.Error("an unknown pace mode must be an error")
	}
	// Warm: one directory per scenario, there before the first phase, shared by every phase.
	warm, err := newPacer(paceWarm, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	create, done, err := warm.forPhase(phaseCreate)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(create); err != nil || !st.IsDir() {
		t.Fatalf("warm directory %s: %v", create, err)
	}
	learned := filepath.Join(create, "pace.json")
	if err := os.WriteFile(learned, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	done()
	for _, phase := range []string{phaseRefresh, phaseHealth, phaseDestroy} {
		d, done, err := warm.forPhase(phase)
		if err != nil {
			t.Fatal(err)
		}
		if d != create {
			t.Errorf("warm %s: %s, want the scenario's %s", phase, d, create)
		}
		if _, err := os.Stat(learned); err != nil {
			t.Errorf("warm %s: what create learned is gone: %v", phase, err)
		}
		done()
	}
	// Another scenario never shares it.
	other, err := newPacer(paceWarm, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if d, _, _ := other.forPhase(phaseCreate); d == create {
		t.Error("two scenarios share a pace directory")
	}
	// Cold: a fresh, empty directory per phase, removed after it.
	cold, err := newPacer(paceCold, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, done1, err := cold.forPhase(phaseCreate)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(first, "pace.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	done1()
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("cold: %s outlived its phase (%v)", first, err)
	}
	second, done2, err := cold.forPhase(phaseRefresh)
	if err != nil {
		t.Fatal(err)
	}
	defer done2()
	if entries, err := os.ReadDir(second); err != nil || len(entries) != 0 || second == first {
		t.Errorf("cold: refresh got %s (%d entries, %v), want a fresh empty one", second, len(entries), err)
	}
}

// The terraform command sees the phase's pace directory, whatever the
// user's environment says and however many phases set it before.
func TestSetEnvReachesTheCommand(t *testing.T) {
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env command")
	}
	t.Setenv(envPaceDir, "/the/user/cache")
	ws := &tfrun.Workspace{Dir: t.TempDir(), CLI: env, Env: []string{"A=1"}}
	setEnv(ws, envPaceDir, "/first")
	setEnv(ws, envPaceDir, "/second")
	if len(ws.Env) != 2 || ws.Env[0] != "A=1" {
		t.Errorf("Env = %q, want A=1 and one %s", ws.Env, envPaceDir)
	}
	out, err := ws.Command(context.Background()).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, envPaceDir+"=") {
			got = append(got, line)
		}
	}
	if len(got) != 1 || got[0] != envPaceDir+"=/second" {
		t.Errorf("the command saw %q, want %s=/second", got, envPaceDir)
	}
}

func TestProviderBlockRequestsPerSecond(t *testing.T) {
	if b := providerBlock(config{}, "http://x"); strings.Contains(b, "requests_per_second") || strings.Contains(b, "max_concurrency") {
		t.Errorf("unset arguments written:\n%s", b)
	}
	b := providerBlock(config{requestsPerSecond: 87.5, concurrency: 4}, "http://x")
	for _, want := range []string{"\n  requests_per_second = 87.5\n", "\n  max_concurrency = 4"} {
		if !strings.Contains(b, want) {
			t.Errorf("provider block lacks %q:\n%s", want, b)
		}
	}
}

func TestNotesShowPaceAndRequestsPerSecond(t *testing.T) {
	rep := &Report{Rate: 100, Runs: []Run{
		{N: 100, Mode: modeWith, Rate: 100, Pace: paceWarm},
		{N: 100, Mode: modeWith, Rate: 500, Pace: paceCold, RequestsPerSecond: 450},
	}}
	n := notes(rep)
	for _, want := range []string{"R = 100/s, 500/s per run", "warm = one fresh directory per scenario", "cold = a fresh directory per phase",
		"requests_per_second = 450"} {
		if !strings.Contains(n, want) {
			t.Errorf("notes lack %q:\n%s", want, n)
		}
	}
	one := notes(&Report{Rate: 500, Runs: []Run{{N: 100, Rate: 500, Pace: paceWarm}}})
	if !strings.Contains(one, "rate limit 500 requests/s (token bucket, burst 50;") || strings.Contains(one, "requests_per_second =") || strings.Contains(one, "cold =") {
		t.Errorf("notes of one warm run at 500/s:\n%s", one)
	}
}

// Small projects are sizes like any other: 100 batches is one list page.
func TestParseSizesSmall(t *testing.T) {
	ns, err := parseSizes("100, 1000")
	if err != nil || len(ns) != 2 || ns[0] != 100 || ns[1] != 1000 {
		t.Errorf("parseSizes = %v, %v; want [100 1000]", ns, err)
	}
	if _, err := parseSizes("5"); err == nil {
		t.Error("a project of 5 batches must be refused")
	}
	if got := minCalls(phaseUpdate, 110, 10, true); got != 2+2+110+1+10 {
		t.Errorf("update at N=100 (110 batches, two pages): %d fewest calls, want 125", got)
	}
}
