package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFloorRatioSpeedup(t *testing.T) {
	// 1,000 calls at 500/s need 2 s.
	if got := floor(1000, 500); got != 2*time.Second {
		t.Errorf("floor = %v, want 2s", got)
	}
	if got := floor(1100, 0); got != 0 {
		t.Errorf("floor without a rate limit = %v, want 0", got)
	}
	if got := ratio(2600*time.Millisecond, 2*time.Second); got < 1.2999 || got > 1.3001 {
		t.Errorf("ratio = %v, want 1.3", got)
	}
	if got := ratio(time.Second, 0); got != 0 {
		t.Errorf("ratio over no floor = %v, want 0", got)
	}
	if got := speedup(10*time.Second, 250*time.Second); got != 25 {
		t.Errorf("speedup = %v, want 25", got)
	}
	if got := speedup(10*time.Second, 0); got != 0 {
		t.Errorf("speedup without a baseline = %v, want 0", got)
	}
}

// TestMinCalls keeps the floor at what TestCLI_workPerPhaseIsLinear
// (internal/provider) pins at 1,000 batches, plus a login per provider
// process that calls the API.
func TestMinCalls(t *testing.T) {
	const n, added = 1000, 100
	total := n + added
	pages := func(b int) int { return (b + 99) / 100 }
	for _, c := range []struct {
		phase        string
		n, added     int
		withWorkflow bool
		want         int
	}{
		// A1 + P1 + B2 pages + W2 per workflow, no read back.
		{phaseCreate, n, 0, true, 1 + 1 + pages(n) + n},
		// the same plus one batch read per batch.
		{phaseCreate, n, 0, false, 1 + 1 + pages(n) + n + n},
		// A1 + P1 + B2 pages + W1 per workflow.
		{phaseRefresh, n, 0, true, 1 + 1 + pages(n) + n},
		{phaseRefresh, 1001, 0, true, 2 + 11 + 1001},
		// The plan's refresh: A1 + P1 + B2 pages + W1 per workflow; the apply:
		// A1 + W2 per new one (no second walk).
		{phaseUpdate, total, added, true, 1 + 1 + pages(total) + total + 1 + added},
		{phaseUpdate, total, added, false, 1 + 1 + pages(total) + total + total + 1 + added},
		// The refresh, then A1 + W1 and W2 per workflow (a read just before
		// each clear, no second walk).
		{phaseDestroy, total, 0, true, 1 + 1 + pages(total) + total + 1 + 2*total},
		{phaseDestroy, total, 0, false, 1 + 1 + pages(total) + 2*total + 1 + 2*total},
		// The data source lists (no project check); the list resource reads each workflow.
		{phaseBatches, total, 0, true, 1 + pages(total)},
		{phaseBatches, total, 0, false, 1 + pages(total) + total},
		{phaseQuery, total, 0, true, 2 + pages(total) + total},
	} {
		if got := minCalls(c.phase, c.n, c.added, c.withWorkflow); got != c.want {
			t.Errorf("minCalls(%s, %d, %d, %v) = %d, want %d", c.phase, c.n, c.added, c.withWorkflow, got, c.want)
		}
	}
}

// phase builds a phase of 10,000 batches whose floor at 500/s is minCalls/500 s.
func phase(name string, wall time.Duration, minCalls int, baseline time.Duration, status string, rssKiB int64) Phase {
	return Phase{Name: name, Batches: 10000, Wall: Seconds(wall), Calls: minCalls, MinCalls: minCalls,
		Baseline: Seconds(baseline), BaselineStatus: status, PeakRSSKB: rssKiB}
}

// cpuPhase is a phase with CPU times for the growth checks.
func cpuPhase(name string, batches int, provider, terraform time.Duration) Phase {
	return Phase{Name: name, Batches: batches, ProviderCPU: Seconds(provider), TerraformCPU: Seconds(terraform)}
}

func TestVerdicts(t *testing.T) {
	runs := []Run{
		// Neither 10,000 nor 100,000: only the small-project targets when they ran.
		{N: 1000, Mode: modeWith, Rate: 500, StateBytesPerBatch: 500, StateBytes: 1, Phases: []Phase{
			phase(phaseCreate, time.Hour, 1000, time.Second, baselineMeasured, 1<<30),
		}},
		{N: 10000, Mode: modeWith, Rate: 500, StateBytes: 399000, StateBytesPerBatch: 39.9, Phases: []Phase{
			// floor 40 s: 46 s is exactly 1.15x.
			phase(phaseCreate, 46*time.Second, 20000, 0, baselineSkipped, 100*1024),
			// floor 20 s: 23.2 s is 1.16x.
			phase(phaseRefresh, 23200*time.Millisecond, 10000, 0, baselineSkipped, 150*1024),
			phase(phaseBatches, time.Hour, 10, 0, "", 0), // a probe: no target
		}},
		{N: 100000, Mode: modeWith, Rate: 500, StateBytes: 4000000, StateBytesPerBatch: 40, Phases: []Phase{
			// floor 400 s: 460 s is exactly 1.15x; 250 MB is not under 250.
			phase(phaseDestroy, 460*time.Second, 200000, 0, baselineSkipped, 250*1024),
		}},
	}
	got := map[string]Verdict{}
	for _, v := range verdicts(runs) {
		if v.N == 1000 && !isSmallTarget(v.Target) {
			t.Errorf("verdict at N=1,000 (%s): only the small-project targets when 10,000 or 100,000 ran", v.Target)
		}
		if v.N > smallMaxN && isSmallTarget(v.Target) {
			t.Errorf("small-project target at N=%d: %s", v.N, v.Target)
		}
		got[fmt.Sprint(v.N)+"/"+v.Target] = v
	}
	for key, want := range map[string]string{
		"10000/create within 1.15x of floor":   "PASS",
		"10000/refresh within 1.15x of floor":  "MISS",
		"10000/state < 40 bytes/batch":         "PASS",
		"100000/destroy within 1.15x of floor": "PASS",
		"100000/state < 40 bytes/batch":        "MISS",
		"100000/provider peak RSS < 250 MB":    "MISS",
	} {
		if v, ok := got[key]; !ok {
			t.Errorf("no verdict %q", key)
		} else if v.Result != want || v.Hint {
			t.Errorf("%s: %s (%s, hint %v), want %s", key, v.Result, v.Value, v.Hint, want)
		}
	}
	for key := range got {
		if strings.Contains(key, phaseBatches) {
			t.Errorf("a probe has no floor target: %q", key)
		}
	}
	// No rate limit: no floor, so no verdict on it.
	unlimited := append([]Run(nil), runs...)
	for i := range unlimited {
		unlimited[i].Rate = 0
	}
	for _, v := range verdicts(unlimited) {
		if strings.Contains(v.Target, "floor") && v.Result != "n/a" {
			t.Errorf("without a rate limit %q is %s, want n/a", v.Target, v.Result)
		}
	}
	// Without 10,000 or 100,000 the largest N is judged against the 10,000 bar, as a hint.
	mid := runs[0]
	mid.N = 5000
	vs := verdicts([]Run{mid})
	if len(vs) == 0 {
		t.Fatal("no verdict at the largest N")
	}
	for _, v := range vs {
		if v.N != 5000 || !v.Hint {
			t.Errorf("verdict %+v: want N=5000 as a hint", v)
		}
	}
	// At N <= 1,000 the small-project targets judge the phases: no wall/floor hint, the state one stays.
	var hints []string
	for _, v := range verdicts(runs[:1]) {
		if v.Hint {
			hints = append(hints, v.Target)
		} else if !isSmallTarget(v.Target) {
			t.Errorf("verdict %+v at N=1,000: neither a small-project target nor a hint", v)
		}
	}
	if len(hints) != 2 || !strings.HasPrefix(hints[0], "state") || !strings.Contains(hints[1], "RSS") {
		t.Errorf("hints at N=1,000: %q, want the state and RSS ones, no wall/floor", hints)
	}
}

// isSmallTarget reports whether a target is one of issue 22's.
func isSmallTarget(target string) bool {
	return strings.Contains(target, "process span within") || strings.Contains(target, "429")
}

func TestGrowth(t *testing.T) {
	runs := []Run{
		{N: 1000, Mode: modeWith, Rate: 500, Phases: []Phase{cpuPhase(phaseCreate, 1000, 2*time.Second, time.Second)}},
		{N: 10000, Mode: modeWith, Rate: 500, Phases: []Phase{
			cpuPhase(phaseCreate, 10000, 5*time.Second, 2*time.Second),
			cpuPhase(phaseUpdate, 11000, 11*time.Second, 11*time.Second),
		}},
		{N: 100000, Mode: modeWith, Rate: 500, Phases: []Phase{
			// provider 0.5 -> 0.65 s per 1k: 1.3x; terraform 0.2 -> 0.3: 1.5x.
			cpuPhase(phaseCreate, 100000, 65*time.Second, 30*time.Second),
			cpuPhase(phaseUpdate, 110000, 110*time.Second, 110*time.Second),
		}},
	}
	gs := growth(runs)
	byKey := map[string]Growth{}
	for _, g := range gs {
		byKey[g.Phase+"/"+g.Process] = g
	}
	if g := byKey["create/provider"]; g.Ratio < 1.2999 || g.Ratio > 1.3001 || g.PerN[1000] != 2 || g.Hi != 100000 || g.Lo != 10000 {
		t.Errorf("create/provider: %+v, want 2 at 1k and a ratio of 1.3 (100k/10k)", g)
	}
	if g := byKey["update/terraform"]; g.Ratio < 0.9999 || g.Ratio > 1.0001 {
		t.Errorf("update/terraform: %+v, want 1.0 (per 1,000 batches of the phase)", g)
	}
	got := map[string]string{}
	for _, v := range verdicts(runs) {
		got[v.Target] = v.Result
	}
	for target, want := range map[string]string{
		"provider CPU/1k batches, create: 100k/10k <= 1.3":  "PASS",
		"terraform CPU/1k batches, create: 100k/10k <= 1.3": "MISS",
		"provider CPU/1k batches, update: 100k/10k <= 1.3":  "PASS",
	} {
		if got[target] != want {
			t.Errorf("%s: %q, want %s (all: %v)", target, got[target], want, got)
		}
	}
	var b strings.Builder
	writeGrowth(&b, runs)
	for _, want := range []string{"| mode | R, pace | phase | process | N = 1k | N = 10k | N = 100k | growth |", "| with-workflow | 500/s | create | provider | 2.000 | 0.500 | 0.650 | 1.30x (100k/10k) |", "| with-workflow | 500/s | update | provider | - | 1.000 | 1.000 | 1.00x (100k/10k) |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("growth table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestFillBaselines(t *testing.T) {
	runs := []Run{
		{N: 1000, Rate: 500, Phases: []Phase{{Name: phaseCreate}, {Name: phaseRefresh}}},
		{N: 10000, Rate: 500, Phases: []Phase{{Name: phaseCreate}, {Name: phaseRefresh}}},
		// Another rate: the baselines measured at 500/s are not its own.
		{N: 1000, Rate: 100, Phases: []Phase{{Name: phaseCreate}}},
	}
	fillBaselines(runs, 500, map[int]map[string]baselineResult{
		1000: {phaseCreate: {Wall: 70 * time.Second, Calls: 1100}, phaseRefresh: {Wall: 90 * time.Second, Calls: 2100}},
	})
	if p := runs[2].Phases[0]; p.BaselineStatus != "" || p.Baseline != 0 {
		t.Errorf("a run at 100/s took a baseline measured at 500/s: %+v", p)
	}
	if p := runs[0].Phases[1]; p.BaselineStatus != baselineMeasured || time.Duration(p.Baseline) != 90*time.Second || p.BaselineCalls != 2100 {
		t.Errorf("N=1000 refresh: %+v, want the measured 90 s", p)
	}
	if p := runs[1].Phases[0]; p.BaselineStatus != baselineEstimated || time.Duration(p.Baseline) != 700*time.Second || p.BaselineCalls != 11000 {
		t.Errorf("N=10000 create: %+v, want 700 s estimated (10 x the measured 70 s)", p)
	}
	fillBaselines(runs, 500, nil)
	if p := runs[1].Phases[0]; p.BaselineStatus != baselineSkipped || p.Baseline != 0 {
		t.Errorf("no baseline at all: %+v, want skipped", p)
	}
}

func TestWriteTable(t *testing.T) {
	create := phase(phaseCreate, 48*time.Second, 20000, 700*time.Second, baselineEstimated, 2048)
	create.Calls, create.Throttled = 20100, 100
	create.ProviderCPU, create.TerraformCPU = Seconds(5*time.Second), Seconds(2500*time.Millisecond)
	create.TerraformRSSKB = 900 * 1024
	create.APISpan, create.ProcessSpan = Seconds(44*time.Second), Seconds(42*time.Second)
	rep := &Report{Rate: 500, Runs: []Run{{N: 10000, Mode: modeWith, Rate: 500, Pace: paceWarm, StateBytesPerBatch: 19.5, Phases: []Phase{
		phase(phaseBatches, 3*time.Second, 101, 0, "", 2048),
		create,
		phase(phaseRefresh, 26*time.Second, 10000, 0, baselineSkipped, 2048),
	}}}}
	var b strings.Builder
	writeTable(&b, rep)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want header, rule and 3 rows:\n%s", len(lines), b.String())
	}
	// The resource's phases first, then the probes.
	// span/floor 44 / 40 s; process span/floor 42 / 40 s; between processes 44 - 42 s; outside the API 48 - 44 s.
	for _, want := range []string{"| 10000 | 500/s warm | with-workflow | create |", "| 48.00 s | 20100 | 100 | 20000 | 40.00 s | 1.20x | 44.00 s | 1.10x | 1.05x | 2.00 s | 4.00 s | 0.500 s | 0.250 s |", "est. ~700.00 s", "14.6x", "2.0 MB", "19.5 B"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("create row lacks %q:\n%s", want, lines[2])
		}
	}
	if !strings.Contains(lines[3], "| skipped | - |") {
		t.Errorf("refresh row should show a skipped baseline and no speed-up:\n%s", lines[3])
	}
	if !strings.Contains(lines[4], "| batches |") || !strings.HasSuffix(lines[4], "| - | - |") {
		t.Errorf("the probe comes last, without a baseline:\n%s", lines[4])
	}
}

// svgDoc is the part of the chart the test reads.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Groups  []struct {
		Class   string `xml:"class,attr"`
		Name    string `xml:"data-name,attr"`
		Circles []struct {
			Class string `xml:"class,attr"`
			Fill  string `xml:"fill,attr"`
		} `xml:"circle"`
		Lines []struct{} `xml:"line"`
		Texts []string   `xml:"text"`
	} `xml:"g"`
}

func TestWriteSVG(t *testing.T) {
	runs := []Run{
		{N: 1000, Mode: modeWith, Phases: []Phase{
			phase(phaseCreate, 5*time.Second, 0, 70*time.Second, baselineMeasured, 0),
			phase(phaseRefresh, 3*time.Second, 0, 90*time.Second, baselineMeasured, 0),
			phase(phaseUpdate, 4*time.Second, 0, 80*time.Second, baselineMeasured, 0),
		}},
		{N: 1000, Mode: modeWithout, Phases: []Phase{
			phase(phaseCreate, 7*time.Second, 0, 70*time.Second, baselineMeasured, 0),
			phase(phaseRefresh, 5*time.Second, 0, 90*time.Second, baselineMeasured, 0),
		}},
		{N: 10000, Mode: modeWith, Phases: []Phase{
			phase(phaseCreate, 45*time.Second, 0, 700*time.Second, baselineEstimated, 0),
			phase(phaseRefresh, 22*time.Second, 0, 900*time.Second, baselineEstimated, 0),
		}},
		{N: 10000, Mode: modeWithout, Phases: []Phase{
			phase(phaseCreate, 65*time.Second, 0, 700*time.Second, baselineEstimated, 0),
			phase(phaseRefresh, 42*time.Second, 0, 900*time.Second, baselineEstimated, 0),
		}},
	}
	series := plotSeries(runs)
	var b strings.Builder
	if err := writeSVG(&b, wallChart(`wall time <N> & "baseline"`), series); err != nil {
		t.Fatal(err)
	}
	// Well-formed: every token decodes.
	dec := xml.NewDecoder(strings.NewReader(b.String()))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
		}
	}
	var doc svgDoc
	if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	// Each series: its points, the estimated ones hollow, and a segment between them.
	want := map[string]struct{ points, hollow int }{
		"provider apply (" + modeWith + ")":      {2, 0},
		"provider refresh (" + modeWith + ")":    {2, 0},
		"provider apply (" + modeWithout + ")":   {2, 0},
		"provider refresh (" + modeWithout + ")": {2, 0},
		"baseline apply":                         {2, 1}, // once per N, not per mode
		"baseline refresh":                       {2, 1},
	}
	seen := map[string]bool{}
	var legend []string
	for _, g := range doc.Groups {
		switch g.Class {
		case "legend":
			legend = g.Texts
		case "series":
			w, ok := want[g.Name]
			if !ok {
				t.Errorf("unexpected series %q", g.Name)
				continue
			}
			seen[g.Name] = true
			hollow := 0
			for _, c := range g.Circles {
				if c.Class == "estimated" && c.Fill == "white" {
					hollow++
				}
			}
			if len(g.Circles) != w.points || hollow != w.hollow || len(g.Lines) != w.points-1 {
				t.Errorf("series %q: %d points (%d hollow), %d segments; want %d (%d), %d",
					g.Name, len(g.Circles), hollow, len(g.Lines), w.points, w.hollow, w.points-1)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("series %q missing", name)
		}
		if !strings.Contains(strings.Join(legend, "\n"), name) {
			t.Errorf("legend lacks %q", name)
		}
	}
	for _, label := range []string{"batches in the project", "wall time, seconds", "10k", ">1k<"} {
		if !strings.Contains(b.String(), label) {
			t.Errorf("chart lacks %q", label)
		}
	}
}

func TestCPUSeries(t *testing.T) {
	runs := []Run{
		{N: 1000, Mode: modeWith, Phases: []Phase{cpuPhase(phaseCreate, 1000, 2*time.Second, time.Second), cpuPhase(phaseQuery, 1000, time.Second, 0)}},
		{N: 10000, Mode: modeWith, Phases: []Phase{cpuPhase(phaseCreate, 10000, 5*time.Second, 2*time.Second)}},
		{N: 10000, Mode: modeWithout, Phases: []Phase{cpuPhase(phaseCreate, 10000, 9*time.Second, 2*time.Second)}},
	}
	series := cpuSeries(runs, modeWith)
	want := map[string]int{"provider create": 2, "provider query": 1, "terraform create": 2} // no zero (log axis)
	if len(series) != len(want) {
		t.Errorf("%d series, want %d: %+v", len(series), len(want), series)
	}
	for _, s := range series {
		if len(s.Points) != want[s.Name] {
			t.Errorf("series %q: %d points, want %d", s.Name, len(s.Points), want[s.Name])
		}
		if s.Dashed != strings.HasPrefix(s.Name, "terraform") {
			t.Errorf("series %q: terraform's lines are dashed, the provider's solid", s.Name)
		}
	}
	if p := series[0].Points[1]; series[0].Name != "provider create" || p.X != 10000 || p.Y != 0.5 {
		t.Errorf("provider create at 10k: %+v, want 0.5 s per 1,000 batches", p)
	}
	var b strings.Builder
	if err := writeSVG(&b, cpuChart("cpu"), series); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"CPU ms per batch", "0.5 ms per batch"} {
		if !strings.Contains(b.String(), label) {
			t.Errorf("chart lacks %q", label)
		}
	}
	if strings.Contains(b.String(), "estimated, not run") {
		t.Error("no point is estimated: the legend should not say so")
	}
}

func TestReadUsage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage")
	if _, err := readUsage(path); err == nil {
		t.Error("a missing file must be an error: the wrapper did not run")
	}
	// Three provider processes; the first from an older wrapper (RSS only).
	if err := os.WriteFile(path, []byte("2048\n90112 1500000 500000 1000 2000\n4096 250000 0 0 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := readUsage(path)
	if err != nil || u.PeakKiB != 90112 || u.CPU != 2250*time.Millisecond || u.WrapperCPU != 3*time.Millisecond || u.Procs != 3 {
		t.Errorf("readUsage = %+v, %v; want peak 90112 KiB, 2.25 s, 3 ms of wrapper, 3 processes", u, err)
	}
	for _, bad := range []string{"2048\nnot a number\n", "1 2\n", ""} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readUsage(path); err == nil {
			t.Errorf("%q must be an error", bad)
		}
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"1.11.4", "1.14.0", true}, {"1.14.9", "1.14.0", false}, {"1.14.0", "1.14.0", false},
		{"1.16.4", "1.9.9", false}, {"1.14.0-beta1", "1.14.0", false},
	} {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if queryCapable("1.11.4") || !queryCapable("1.14.9") || queryCapable("unknown") {
		t.Error("terraform query came with 1.14")
	}
}

func TestProbeResults(t *testing.T) {
	plan := "Changes to Outputs:\n  + batches = 11000\n\nYou can apply this plan"
	if n, err := probeResults(phaseBatches, plan); err != nil || n != 11000 {
		t.Errorf("batches: %d, %v; want 11000", n, err)
	}
	if _, err := probeResults(phaseBatches, "No changes."); err == nil {
		t.Error("a plan without the output must be an error")
	}
	query := "list.isahitlab_webhook.all   project_id=p,workflow_id=a   hooks.example.com/bench — batch \"b1\"\n" +
		"list.isahitlab_webhook.all   project_id=p,workflow_id=b   hooks.example.com/bench — batch \"b2\"\n"
	if n, _ := probeResults(phaseQuery, query); n != 2 {
		t.Errorf("query: %d results, want 2", n)
	}
}

func TestSpanRecorder(t *testing.T) {
	rec := &spanRecorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		time.Sleep(20 * time.Millisecond)
	})}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	get := func(path string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if rec.span() != 0 {
		t.Error("span before any request")
	}
	for _, p := range []string{"/a", "/busy", "/b", "/busy", "/busy"} {
		get(p)
	}
	if s := rec.span(); s < 40*time.Millisecond || s > time.Second {
		t.Errorf("span %v: want from the first request's arrival to the last answer (>= 2 x 20 ms)", s)
	}
	ok, throttled := rec.perSecond()
	if len(ok) != 1 || ok[0] != 2 || throttled[0] != 3 {
		t.Errorf("per second: ok %v, 429 %v; want [2] and [3]", ok, throttled)
	}
	rec.reset()
	if ok, _ := rec.perSecond(); rec.span() != 0 || len(ok) != 0 {
		t.Error("reset kept the previous phase's figures")
	}
}

func TestParseBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal: busy = 100+0+50+0+7+0 ticks.
	if got := parseBusy("cpu  100 0 50 183660 1689 0 7 0 0 0"); got != 1570*time.Millisecond {
		t.Errorf("parseBusy = %v, want 1.57s", got)
	}
	for _, bad := range []string{"cpu0 1 2 3 4 5 6 7 8", "cpu 1 2", "cpu a b c d e f g h"} {
		if got := parseBusy(bad); got != 0 {
			t.Errorf("parseBusy(%q) = %v, want 0", bad, got)
		}
	}
	if machineBusy() <= 0 {
		t.Skip("no /proc/stat here")
	}
}
