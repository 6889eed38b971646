package main

import (
	"encoding/xml"
	"errors"
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
	// 1,100 requests of which 100 refused, at 500/s: 1,000 accepted need 2 s.
	if got := floor(1100, 100, 500); got != 2*time.Second {
		t.Errorf("floor = %v, want 2s", got)
	}
	if got := floor(1100, 0, 0); got != 0 {
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

func TestMinCalls(t *testing.T) {
	for _, c := range []struct {
		phase        string
		n, added     int
		withWorkflow bool
		want         int
	}{
		// login + project check + 100 pages + set 10,000 workflows.
		{phaseCreate, 10000, 0, true, 2 + 100 + 10000},
		// the same plus one batch read per batch.
		{phaseCreate, 10000, 0, false, 2 + 100 + 10000 + 10000},
		{phaseRefresh, 10000, 0, true, 2 + 100 + 10000},
		{phaseRefresh, 1001, 0, true, 2 + 11 + 1001},
		// refresh of 11,000, then set the 1,000 new ones.
		{phaseUpdate, 11000, 1000, true, 2 + 110 + 11000 + 1000},
		{phaseDestroy, 11000, 0, false, 2 + 110 + 11000 + 22000},
	} {
		if got := minCalls(c.phase, c.n, c.added, c.withWorkflow); got != c.want {
			t.Errorf("minCalls(%s, %d, %d, %v) = %d, want %d", c.phase, c.n, c.added, c.withWorkflow, got, c.want)
		}
	}
}

// phase builds a phase whose floor at 500/s is calls/500 s.
func phase(name string, wall time.Duration, calls int, baseline time.Duration, status string, rssKiB int64) Phase {
	return Phase{Name: name, Wall: Seconds(wall), Calls: calls, Baseline: Seconds(baseline), BaselineStatus: status, PeakRSSKB: rssKiB}
}

func TestVerdicts(t *testing.T) {
	runs := []Run{
		// Only N = 10,000 is judged: this run would miss everything.
		{N: 1000, Mode: modeWith, StateBytesPerBatch: 500, StateBytes: 1, Phases: []Phase{
			phase(phaseCreate, time.Hour, 1000, time.Second, baselineMeasured, 1<<30),
		}},
		{N: 10000, Mode: modeWith, StateBytes: 999000, StateBytesPerBatch: 99.9, Phases: []Phase{
			// floor 40 s: 52 s is exactly 1.3x; baseline 1040 s is exactly 20x.
			phase(phaseCreate, 52*time.Second, 20000, 1040*time.Second, baselineEstimated, 100*1024),
			// floor 20 s: 26.2 s is 1.31x; baseline 520 s is 19.8x.
			phase(phaseRefresh, 26200*time.Millisecond, 10000, 520*time.Second, baselineMeasured, 150*1024),
			phase(phaseUpdate, time.Hour, 10, 0, baselineSkipped, 0), // not a target
		}},
		{N: 10000, Mode: modeWithout, StateBytes: 1000000, StateBytesPerBatch: 100, Phases: []Phase{
			phase(phaseCreate, 10*time.Second, 20000, 0, baselineSkipped, 0),
		}},
	}
	got := map[string]Verdict{}
	for _, v := range verdicts(runs, 500) {
		if v.N != 10000 {
			t.Errorf("verdict at N=%d: only N=10,000 is judged when present", v.N)
		}
		got[v.Mode+"/"+v.Target] = v
	}
	for key, want := range map[string]string{
		modeWith + "/create within 1.3x of floor":           "PASS",
		modeWith + "/create >= 20x faster than baseline":    "PASS",
		modeWith + "/refresh within 1.3x of floor":          "MISS",
		modeWith + "/refresh >= 20x faster than baseline":   "MISS",
		modeWith + "/peak RSS < 150 MB":                     "MISS", // 150 MB is not under 150
		modeWith + "/state < 100 bytes/batch":               "PASS",
		modeWithout + "/create within 1.3x of floor":        "PASS",
		modeWithout + "/create >= 20x faster than baseline": "n/a",
		modeWithout + "/peak RSS < 150 MB":                  "n/a",
		modeWithout + "/state < 100 bytes/batch":            "MISS",
	} {
		if v, ok := got[key]; !ok {
			t.Errorf("no verdict %q", key)
		} else if v.Result != want {
			t.Errorf("%s: %s (%s), want %s", key, v.Result, v.Value, want)
		}
	}
	if v := got[modeWith+"/create >= 20x faster than baseline"]; !strings.Contains(v.Value, "estimated") {
		t.Errorf("a verdict on an estimated baseline must say so: %q", v.Value)
	}
	if _, ok := got[modeWith+"/update within 1.3x of floor"]; ok {
		t.Error("update is not a target")
	}
	// No rate limit: no floor, so no verdict on it.
	for _, v := range verdicts(runs, 0) {
		if strings.Contains(v.Target, "floor") && v.Result != "n/a" {
			t.Errorf("without a rate limit %q is %s, want n/a", v.Target, v.Result)
		}
	}
	// Without N = 10,000 the largest N is judged.
	for _, v := range verdicts(runs[:1], 500) {
		if v.N != 1000 {
			t.Errorf("verdict at N=%d, want the largest N run (1000)", v.N)
		}
	}
}

func TestFillBaselines(t *testing.T) {
	runs := []Run{
		{N: 1000, Phases: []Phase{{Name: phaseCreate}, {Name: phaseRefresh}}},
		{N: 10000, Phases: []Phase{{Name: phaseCreate}, {Name: phaseRefresh}}},
	}
	fillBaselines(runs, map[int]map[string]baselineResult{
		1000: {phaseCreate: {Wall: 70 * time.Second, Calls: 1100}, phaseRefresh: {Wall: 90 * time.Second, Calls: 2100}},
	})
	if p := runs[0].Phases[1]; p.BaselineStatus != baselineMeasured || time.Duration(p.Baseline) != 90*time.Second || p.BaselineCalls != 2100 {
		t.Errorf("N=1000 refresh: %+v, want the measured 90 s", p)
	}
	if p := runs[1].Phases[0]; p.BaselineStatus != baselineEstimated || time.Duration(p.Baseline) != 700*time.Second || p.BaselineCalls != 11000 {
		t.Errorf("N=10000 create: %+v, want 700 s estimated (10 x the measured 70 s)", p)
	}
	fillBaselines(runs, nil)
	if p := runs[1].Phases[0]; p.BaselineStatus != baselineSkipped || p.Baseline != 0 {
		t.Errorf("no baseline at all: %+v, want skipped", p)
	}
}

func TestWriteTable(t *testing.T) {
	rep := &Report{Rate: 500, Runs: []Run{{N: 10000, Mode: modeWith, StateBytesPerBatch: 42, Phases: []Phase{
		phase(phaseCreate, 52*time.Second, 20000, 700*time.Second, baselineEstimated, 2048),
		phase(phaseRefresh, 26*time.Second, 10000, 0, baselineSkipped, 2048),
	}}}}
	rep.Runs[0].Phases[0].TerraformRSSKB = 900 * 1024
	var b strings.Builder
	writeTable(&b, rep)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want header, rule and 2 rows:\n%s", len(lines), b.String())
	}
	for _, want := range []string{"| 52.00 s |", "| 40.00 s | 1.30x |", "skipped, est. ~700.00 s", "13.5x", "2.0 MB", "900 MB", "42.0 B"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("create row lacks %q:\n%s", want, lines[2])
		}
	}
	if !strings.Contains(lines[3], "| skipped | - |") {
		t.Errorf("refresh row should show a skipped baseline and no speed-up:\n%s", lines[3])
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
	if err := writeSVG(&b, `wall time <N> & "baseline"`, series); err != nil {
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

func TestPeakRSS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rss")
	if _, err := peakRSS(path); err == nil {
		t.Error("a missing file must be an error: the wrapper did not run")
	}
	if err := os.WriteFile(path, []byte("2048\n90112\n4096\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := peakRSS(path); err != nil || got != 90112 {
		t.Errorf("peakRSS = %d, %v; want 90112", got, err)
	}
	if err := os.WriteFile(path, []byte("2048\nnot a number\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := peakRSS(path); err == nil {
		t.Error("a bad line must be an error")
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
