package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSpanRecorder is a spanRecorder on a clock the test sets: a request
// arrives at the time set before it and is answered at its X-Answer-At (ms),
// with its X-Status; one with X-Hold waits for release.
type fakeSpanRecorder struct {
	*spanRecorder
	mu      sync.Mutex
	now     time.Time
	held    chan struct{} // a held request has arrived
	release chan struct{}
}

var fakeEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newFakeSpanRecorder() *fakeSpanRecorder {
	f := &fakeSpanRecorder{now: fakeEpoch, held: make(chan struct{}), release: make(chan struct{})}
	f.spanRecorder = &spanRecorder{
		clock: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Hold") != "" {
				f.held <- struct{}{}
				<-f.release
			}
			ms, _ := strconv.Atoi(r.Header.Get("X-Answer-At"))
			f.set(ms)
			if st, _ := strconv.Atoi(r.Header.Get("X-Status")); st != 0 {
				w.WriteHeader(st)
			}
		}),
	}
	return f
}

func (f *fakeSpanRecorder) set(ms int) {
	f.mu.Lock()
	f.now = fakeEpoch.Add(time.Duration(ms) * time.Millisecond)
	f.mu.Unlock()
}

// step is one request: a login or another call, arriving at at ms and
// answered at answer ms with status (0: 200).
type step struct {
	login      bool
	at, answer int
	status     int
}

func (f *fakeSpanRecorder) request(s step, hold bool) {
	f.set(s.at)
	method, path := http.MethodGet, "/api/project-manager/projects/p"
	if s.login {
		method, path = http.MethodPost, "/"+loginPath
	}
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("X-Answer-At", strconv.Itoa(s.answer))
	if s.status != 0 {
		req.Header.Set("X-Status", strconv.Itoa(s.status))
	}
	if hold {
		req.Header.Set("X-Hold", "1")
	}
	f.ServeHTTP(httptest.NewRecorder(), req)
}

func TestSpanRecorderProcessSpan(t *testing.T) {
	L := func(at, answer int) step { return step{login: true, at: at, answer: answer} }
	G := func(at, answer int) step { return step{at: at, answer: answer} }
	for _, c := range []struct {
		name          string
		steps         []step
		span, process int // ms
	}{
		{"no request", nil, 0, 0},
		// A plan process, 400 ms of Terraform, then an apply process: 50 + 40 ms.
		{"logins split processes", []step{L(0, 10), G(10, 30), G(30, 50), L(400, 410), G(410, 440)}, 440, 90},
		// The request before any login opens a segment; the login closes it at its answer.
		{"a request before any login", []step{G(0, 10), L(20, 30), G(30, 50)}, 50, 10 + 30},
		// A re-login at once after the last answer: no gap, nothing lost.
		{"re-login", []step{L(0, 10), G(10, 30), L(30, 40), G(40, 60)}, 60, 60},
		// A login refused (429) and retried 1 s later: the wait is the provider's.
		{"login retried after a 429", []step{{login: true, at: 0, answer: 10, status: http.StatusTooManyRequests}, L(1000, 1010), G(1010, 1030)}, 1030, 1030},
		// ... but a later login, after a successful one, is a new process again.
		{"login after a retried one", []step{{login: true, at: 0, answer: 10, status: http.StatusTooManyRequests}, L(100, 110), G(110, 130), L(500, 510)}, 510, 130 + 10},
		// A 429 on another call does not make the next login a retry.
		{"login after a throttled call", []step{L(0, 10), {at: 10, answer: 20, status: http.StatusTooManyRequests}, L(300, 310)}, 310, 20 + 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSpanRecorder()
			for _, s := range c.steps {
				f.request(s, false)
			}
			if got, want := f.span(), time.Duration(c.span)*time.Millisecond; got != want {
				t.Errorf("API span %v, want %v", got, want)
			}
			if got, want := f.processSpan(), time.Duration(c.process)*time.Millisecond; got != want {
				t.Errorf("process span %v, want %v", got, want)
			}
		})
	}

	// A re-login while a request is in flight: the segment ends at the
	// login, not at its last answer before it (the provider was at work).
	t.Run("re-login with a request in flight", func(t *testing.T) {
		f := newFakeSpanRecorder()
		f.request(L(0, 10), false)
		done := make(chan struct{})
		go func() { f.request(G(10, 50), true); close(done) }() // answered at 50 ms
		<-f.held
		f.request(L(20, 30), false)
		f.request(G(30, 40), false)
		f.set(50)
		close(f.release)
		<-done
		if got := f.processSpan(); got != 50*time.Millisecond || f.span() != got {
			t.Errorf("process span %v, API span %v: want both 50ms", got, f.span())
		}
	})

	// reset forgets the previous phase's segments.
	f := newFakeSpanRecorder()
	for _, s := range []step{L(0, 10), G(10, 30), L(400, 410)} {
		f.request(s, false)
	}
	f.reset()
	if f.processSpan() != 0 {
		t.Errorf("process span %v after reset, want 0", f.processSpan())
	}
	f.request(G(1000, 1020), false)
	if got := f.processSpan(); got != 20*time.Millisecond {
		t.Errorf("process span %v after reset and one request, want 20ms", got)
	}
}

// The small-project span target judges the process span: a phase whose API
// span is twice the floor passes when its processes' own span is within
// 1.15x, and the time between processes is in neither.
func TestSmallTargetJudgesProcessSpan(t *testing.T) {
	// 125 calls at 100/s: a floor of 1.25 s.
	update := spanPhase(phaseUpdate, 125, 6*time.Second, 2500*time.Millisecond, 0)
	update.ProcessSpan = Seconds(1400 * time.Millisecond) // 1.12x; 1.1 s between processes
	destroy := spanPhase(phaseDestroy, 125, 6*time.Second, 1500*time.Millisecond, 0)
	destroy.ProcessSpan = Seconds(1450 * time.Millisecond) // 1.16x, though the span is 1.20x
	runs := []Run{{N: 100, Mode: modeWith, Rate: 100, Pace: paceWarm, Phases: []Phase{update, destroy}}}
	got := map[string]string{}
	for _, v := range verdicts(runs) {
		if strings.Contains(v.Target, "span") {
			got[v.Target] = v.Result + " " + v.Value
		}
	}
	want := map[string]string{
		"update process span within 1.15x of floor":  "PASS 1.12x",
		"destroy process span within 1.15x of floor": "MISS 1.16x",
	}
	if len(got) != len(want) {
		t.Errorf("span verdicts %v, want %v", got, want)
	}
	for target, w := range want {
		if got[target] != w {
			t.Errorf("%s: %q, want %q", target, got[target], w)
		}
	}
	n := notes(&Report{Rate: 100, Runs: runs})
	for _, s := range []string{"process span/floor", "between processes = API span - process span", "time between processes is Terraform's"} {
		if !strings.Contains(n, s) {
			t.Errorf("notes lack %q:\n%s", s, n)
		}
	}
}

// A results.json from before process_span_s: each phase's process span is
// its API span; a file that has it keeps it, 0 included.
func TestProcessSpanFallback(t *testing.T) {
	const old = `{"phase": "update", "min_calls": 125, "api_span_s": 2.5}`
	var p Phase
	if err := json.Unmarshal([]byte(old), &p); err != nil {
		t.Fatal(err)
	}
	if p.MinCalls != 125 || time.Duration(p.APISpan) != 2500*time.Millisecond || time.Duration(p.ProcessSpan) != 2500*time.Millisecond {
		t.Errorf("old phase: min calls %d, API span %v, process span %v; want 125, 2.5s, 2.5s",
			p.MinCalls, time.Duration(p.APISpan), time.Duration(p.ProcessSpan))
	}
	for _, c := range []struct {
		js   string
		want time.Duration
	}{
		{`{"phase": "update", "api_span_s": 2.5, "process_span_s": 1.4}`, 1400 * time.Millisecond},
		{`{"phase": "update", "api_span_s": 0, "process_span_s": 0}`, 0},
	} {
		var p Phase
		if err := json.Unmarshal([]byte(c.js), &p); err != nil {
			t.Fatal(err)
		}
		if time.Duration(p.ProcessSpan) != c.want {
			t.Errorf("%s: process span %v, want %v", c.js, time.Duration(p.ProcessSpan), c.want)
		}
	}
	// Written and read back the same, through a whole report.
	rep := Report{Rate: 100, Runs: []Run{{N: 100, Mode: modeWith, Rate: 100, Phases: []Phase{
		{Name: phaseUpdate, MinCalls: 125, APISpan: Seconds(2500 * time.Millisecond), ProcessSpan: Seconds(1400 * time.Millisecond)}}}}}
	js, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"process_span_s":1.4`) {
		t.Errorf("results.json lacks process_span_s: %s", js)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if p := back.Runs[0].Phases[0]; time.Duration(p.ProcessSpan) != 1400*time.Millisecond || p.MinCalls != 125 {
		t.Errorf("round trip: %+v", p)
	}
}
