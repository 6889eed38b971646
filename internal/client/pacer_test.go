package client

import (
	"container/heap"
	"math"
	"slices"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (f *fakeClock) now() time.Time          { return f.t }
func (f *fakeClock) advance(d time.Duration) { f.t = f.t.Add(d) }

func TestPacerUnlimitedUntilFirst429(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	for i := 0; i < 1000; i++ {
		d, _ := p.reserve()
		if d != 0 {
			t.Fatalf("request %d delayed by %v before any 429", i, d)
		}
		p.observe(0, false)
	}
	if r := p.currentRate(); r != 0 {
		t.Fatalf("rate = %v before any 429, want 0 (unlimited)", r)
	}
}

func TestPacerFirst429StartsJustBelowAcceptedRate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	// 200 accepted requests/s for one second.
	for i := 0; i < 200; i++ {
		_, e := p.reserve()
		p.observe(e, false)
		clk.advance(5 * time.Millisecond)
	}
	_, e := p.reserve()
	p.observe(e, true)
	want := 200 * pacerFirstFactor
	// The window counts whole 100 ms buckets, so allow one bucket's error.
	if r := p.currentRate(); math.Abs(r-want) > want*0.12 {
		t.Fatalf("rate after first 429 = %.1f, want about %.1f", r, want)
	}
}

func TestPacerFirst429WithNothingAccepted(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	_, e := p.reserve()
	p.observe(e, true)
	if r := p.currentRate(); r < pacerMinRate {
		t.Fatalf("rate = %v, want at least the floor %v", r, pacerMinRate)
	}
}

func TestPacerSpacesRequestsAtRate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 100, 100) // 10 ms apart
	clk.advance(time.Second)
	var prev time.Duration = -1
	for i := 0; i < 5; i++ {
		d, _ := p.reserve()
		if prev >= 0 && d-prev != 10*time.Millisecond {
			t.Fatalf("request %d: delay %v after %v, want 10ms spacing", i, d, prev)
		}
		prev = d
	}
}

func TestPacerBurstOf429sCountsOnce(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 100, 100)
	clk.advance(time.Second)
	// Eight workers granted slots in the same epoch all come back with 429.
	var epochs []uint64
	for i := 0; i < 8; i++ {
		_, e := p.reserve()
		epochs = append(epochs, e)
	}
	for _, e := range epochs {
		p.observe(e, true)
		clk.advance(time.Millisecond)
	}
	want := 100 * pacerDecrease
	if r := p.currentRate(); math.Abs(r-want) > 1e-9 {
		t.Fatalf("rate after a burst of 429s = %v, want one decrease to %v", r, want)
	}
	// A 429 granted after the decrease but inside the gap is ignored too.
	_, e := p.reserve()
	p.observe(e, true)
	if r := p.currentRate(); math.Abs(r-want) > 1e-9 {
		t.Fatalf("rate = %v after a 429 within %v of the decrease, want %v", r, decreaseGap(want), want)
	}
	// After the gap, a 429 for a request of the new epoch decreases again.
	clk.advance(decreaseGap(want))
	_, e = p.reserve()
	before := p.currentRate() // the reserve may have applied an increase
	p.observe(e, true)
	if r, w2 := p.currentRate(), before*pacerDecrease; math.Abs(r-w2) > 1e-9 {
		t.Fatalf("rate = %v, want a second decrease to %v", r, w2)
	}
}

func TestPacerFloor(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 2, 2)
	for i := 0; i < 20; i++ {
		clk.advance(time.Second)
		_, e := p.reserve()
		p.observe(e, true)
	}
	if r := p.currentRate(); r != pacerMinRate {
		t.Fatalf("rate = %v, want floor %v", r, pacerMinRate)
	}
}

func TestPacerIncreasesOnlyWhenBinding(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 50, 100)

	// Demand far below the rate: one request per interval never waits, so
	// the rate must not grow.
	for i := 0; i < 20; i++ {
		clk.advance(pacerIncreaseEvery)
		if d, _ := p.reserve(); d != 0 {
			t.Fatalf("idle request delayed %v", d)
		}
	}
	if r := p.currentRate(); r != 50 {
		t.Fatalf("rate grew to %v without the pace holding anyone back", r)
	}

	// Demand above the rate: requests wait; each interval applies increase.
	want, probe := 50.0, 0
	for i := 0; i < 6; i++ {
		clk.advance(pacerIncreaseEvery)
		p.reserve()
		p.reserve() // the second one waits: binding
		if i > 0 {
			want, probe = increase(want, 100*pacerTargetShare, 50*pacerIncreaseShare, probe)
		}
		if r := p.currentRate(); math.Abs(r-want) > 1e-9 {
			t.Fatalf("interval %d: rate = %v, want %v", i, r, want)
		}
	}
	if want <= 80 {
		t.Fatalf("rate only reached %v after 5 binding intervals from half the ceiling", want)
	}
}

func TestIncrease(t *testing.T) {
	t.Parallel()
	// Far below the ceiling: a quarter of the gap.
	if r, pr := increase(50, 100, 1, 0); r != 62.5 || pr != 0 {
		t.Fatalf("increase(50, 100) = %v, %d; want 62.5, 0", r, pr)
	}
	// Near it: the additive step.
	if r, _ := increase(99, 100, 1, 0); r != 100 {
		t.Fatalf("increase(99, 100) = %v, want 100", r)
	}
	// Never past the target.
	if r, _ := increase(99.5, 100, 1, 0); r != 100 {
		t.Fatalf("increase(99.5, 100) = %v, want 100 (the target)", r)
	}
	// At it: the step alone for pacerLinearProbes intervals, then doubling.
	r, pr := 100.0, 0
	var incs []float64
	for i := 0; i < pacerLinearProbes+4; i++ {
		nr, np := increase(r, 100, 1, pr)
		incs = append(incs, nr-r)
		r, pr = nr, np
	}
	if want := []float64{1, 1, 1, 1, 1, 2, 4, 8}; !slices.Equal(incs, want) {
		t.Fatalf("probe increments %v, want %v", incs, want)
	}
	// Capped doubling.
	if r, _ := increase(100, 100, 1, 1000); r != 100+float64(uint(1)<<pacerMaxProbe) {
		t.Fatalf("uncapped probe: %v", r)
	}
}

func TestFirstRate(t *testing.T) {
	t.Parallel()
	// Steady state: just under the accepted rate.
	if r, c := firstRate(600, 500, 100, 5*time.Second); math.Abs(r-500*pacerFirstFactor) > 1e-9 || c != 600 {
		t.Fatalf("steady: %v, %v", r, c)
	}
	// Young: half the estimate; ceiling at the rate sent.
	if r, c := firstRate(640, 100, 100, 20*time.Millisecond); r != 320*pacerYoungFactor || c != 640 {
		t.Fatalf("young: %v, %v", r, c)
	}
	// Never below half the rate sent, even with nothing accepted.
	if r, _ := firstRate(100, 0, 10, 5*time.Second); r != 50*pacerFirstFactor {
		t.Fatalf("nothing accepted: %v", r)
	}
}

func TestRateWindow(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	var w rateWindow
	if r := w.rate(clk.now()); r != 0 {
		t.Fatalf("empty window rate %v", r)
	}
	for i := 0; i < 300; i++ { // 300/s for 2 s
		w.add(clk.now())
		clk.advance(time.Second / 300 * 2)
	}
	if r := w.rate(clk.now()); math.Abs(r-150) > 20 {
		t.Fatalf("rate = %v, want about 150 (last second only)", r)
	}
	clk.advance(5 * time.Second)
	if r := w.rate(clk.now()); r != 0 {
		t.Fatalf("rate = %v after the window passed, want 0", r)
	}
}

// simEvent drives the fan-out simulation below.
type simEvent struct {
	at     time.Time
	worker int
	kind   int // 0 ready, 1 send, 2 answer
	epoch  uint64
	ok     bool
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any) {
	if e, ok := x.(simEvent); ok {
		*q = append(*q, e)
	}
}
func (q *simQueue) Pop() any       { o := *q; e := o[len(o)-1]; *q = o[:len(o)-1]; return e }
func (q *simQueue) add(e simEvent) { heap.Push(q, e) }
func (q *simQueue) next() simEvent {
	e, _ := heap.Pop(q).(simEvent)
	return e
}
func (q *simQueue) empty() bool             { return q.Len() == 0 }
func (f *fakeClock) set(t time.Time)        { f.t = t }
func secondsBetween(a, b time.Time) float64 { return b.Sub(a).Seconds() }

// simulate runs workers against a token-bucket server (runPhases) for dur
// and returns the accepted rate after warm-up (the first quarter), the share
// of requests answered 429 after it, and the accepted rate over the whole
// run (start-up included).
func simulate(t *testing.T, limit float64, workers int, latency, dur time.Duration) (float64, float64, float64) {
	t.Helper()
	clk := newFakeClock()
	c := &simClient{p: newPacer(clk.now, 0), workers: workers, warmAt: clk.now().Add(dur / 4)}
	runPhases(clk, limit, latency, dur, c)
	secs := (dur - dur/4).Seconds()
	return float64(c.warmOK) / secs, float64(c.warmRefused) / float64(c.warmOK+c.warmRefused), float64(c.done) / dur.Seconds()
}

// TestPacerFanOutRunsJustUnderTheLimit checks the goal of the pacer: many
// workers against a rate-limited server get most of the limit with few 429s.
func TestPacerFanOutRunsJustUnderTheLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit   float64
		workers int
		latency time.Duration
		dur     time.Duration
	}{
		{500, 16, 20 * time.Millisecond, 20 * time.Second},
		{500, 64, 20 * time.Millisecond, 20 * time.Second},
		{500, 128, 20 * time.Millisecond, 20 * time.Second},
		{50, 8, 5 * time.Millisecond, 20 * time.Second},
		{2000, 64, 10 * time.Millisecond, 20 * time.Second},
		// Short runs: the start-up (first 429s) must not stall the fan-out.
		{200, 16, 2 * time.Millisecond, 2 * time.Second},
		{500, 32, 20 * time.Millisecond, 2 * time.Second},
	} {
		rate, share429, all := simulate(t, tc.limit, tc.workers, tc.latency, tc.dur)
		t.Logf("limit %.0f/s, %d workers, latency %v: accepted %.0f/s (%.0f%%; %.0f%% with start-up), 429 share %.2f%%",
			tc.limit, tc.workers, tc.latency, rate, 100*rate/tc.limit, 100*all/tc.limit, 100*share429)
		if all < 0.85*tc.limit {
			t.Errorf("limit %.0f/s, %d workers: %.0f/s over the whole run, want >= 85%% of the limit (start-up too slow)", tc.limit, tc.workers, all)
		}
		if rate < 0.8*tc.limit {
			t.Errorf("limit %.0f/s, %d workers: accepted only %.0f/s, want >= 80%% of the limit", tc.limit, tc.workers, rate)
		}
		if share429 > 0.02 {
			t.Errorf("limit %.0f/s, %d workers: %.1f%% of requests got 429, want <= 2%%", tc.limit, tc.workers, 100*share429)
		}
	}
}

// A server that refuses a share of requests whatever the rate must not
// drive the pace below half of what it was seen to accept over a full window.
func TestPacerPeakFloorUnderRateInsensitive429s(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	for range 400 { // 200 accepted requests/s for two seconds
		_, e := p.reserve()
		p.observe(e, false)
		clk.advance(5 * time.Millisecond)
	}
	for range 500 { // then a 429 for every tenth request, for a long while
		for i := range 10 {
			wait, e := p.reserve()
			clk.advance(wait + time.Millisecond)
			p.observe(e, i == 0)
		}
	}
	if r, floor := p.currentRate(), 200*0.5; r < floor*0.9 {
		t.Fatalf("rate fell to %.1f under rate-insensitive 429s; want at least about %.1f", r, floor)
	}
}

// After a decrease, a slot granted at the old rate is granted again at the
// new one when it comes: the decrease acts at once, not after every slot
// already handed out at the rate the server refused.
func TestPacerRegrantsSlotsAfterADecrease(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 100, 100)
	clk.advance(time.Second)
	type grant struct {
		at    time.Duration
		epoch uint64
	}
	var grants []grant
	for range 8 {
		d, e := p.reserve()
		grants = append(grants, grant{d, e})
	}
	if d, e := p.regrant(grants[0].epoch); d != 0 || e != grants[0].epoch {
		t.Fatalf("regrant without a decrease = %v, %d; want the grant to stand", d, e)
	}
	start := clk.now()
	p.observe(grants[0].epoch, true) // a 429: 100 -> 85/s
	if p.currentRate() != 100*pacerDecrease {
		t.Fatalf("rate %v, want %v", p.currentRate(), 100*pacerDecrease)
	}
	var prev time.Time
	for i, g := range grants[1:] {
		clk.set(start.Add(g.at)) // the old slot comes
		d, e := p.regrant(g.epoch)
		if e == g.epoch {
			t.Fatalf("slot %d granted before the decrease still stands", i+1)
		}
		at := clk.now().Add(d)
		if !prev.IsZero() && at.Sub(prev) != interval(100*pacerDecrease) {
			t.Fatalf("slot %d regranted %v after the previous, want %v", i+1, at.Sub(prev), interval(100*pacerDecrease))
		}
		prev = at
	}
}

// A probe that meets a 429 near the known ceiling confirms it: the ceiling
// stays and the hold before the next probe doubles, up to pacerHoldMax.
func TestPacerConfirmedProbeHoldsLonger(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 97, 100) // at the target of a ceiling of 100
	holds := []time.Duration{p.holdFor}
	for range 8 {
		// Bind until the probe has gone above the target.
		for p.probe == 0 {
			clk.advance(pacerIncreaseEvery)
			p.reserve()
			p.reserve()
		}
		_, e := p.reserve()
		p.observe(e, true)
		if p.ceiling != 100 {
			t.Fatalf("ceiling %v after a confirmed probe, want 100 kept", p.ceiling)
		}
		holds = append(holds, p.holdFor)
		clk.advance(pacerIncreaseEvery)
	}
	want := []time.Duration{pacerHoldMin}
	for len(want) < len(holds) {
		want = append(want, min(2*want[len(want)-1], pacerHoldMax))
	}
	if want[len(want)-1] != pacerHoldMax {
		t.Fatalf("test too short to reach pacerHoldMax: %v", want)
	}
	if !slices.Equal(holds, want) {
		t.Fatalf("holds %v, want %v", holds, want)
	}
	// A probe far above the ceiling means the limit rose: hold from the start.
	p.setRate(clk.now(), 97, 100)
	p.rate, p.probe = 200, 1
	_, e := p.reserve()
	clk.advance(pacerMaxDecreaseGap)
	p.observe(e, true)
	// The new ceiling is the rate that drew the 429, or what the server
	// accepted over the last window when that is lower (here: nothing, so
	// the bound one decrease below).
	if p.holdFor != pacerHoldMin || p.ceiling != 200*pacerDecrease {
		t.Fatalf("after a 429 at twice the ceiling: hold %v, ceiling %v; want %v, %v", p.holdFor, p.ceiling, pacerHoldMin, 200*pacerDecrease)
	}
}

// A 429 after a full window sets the ceiling from what the server accepted
// over it, when that is below the rate that drew the 429: a token bucket's
// burst lets a pace run above the limit for a while, so that rate overstates
// the limit.
func TestPacerCeilingFromAcceptedRate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 600, 700)
	// 2 s at 600 requests/s of which the server accepted 540/s (the other
	// answers are still out).
	for i := range 1200 {
		_, e := p.reserve()
		if i%10 != 9 {
			p.observe(e, false)
		}
		clk.advance(time.Second / 600)
	}
	_, e := p.reserve()
	p.observe(e, true)
	if c := p.ceiling; c < 530 || c > 550 {
		t.Fatalf("ceiling %.1f after a 429 at 600/s with 540/s accepted, want about 540", c)
	}
}

// Between two 429s the server's bucket went from empty to empty: what it
// accepted in between measures its rate, within the first second too.
func TestPacerCeilingFromTwo429s(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p := newPacer(clk.now, 0)
	p.setRate(clk.now(), 600, 700)
	clk.advance(pacerMaxDecreaseGap)
	_, e := p.reserve()
	p.observe(e, true) // empty: 600 -> 510/s
	if p.rate != 600*pacerDecrease || p.measured {
		t.Fatalf("rate %v, measured %v after a 429 at 600/s; want %v, not measured (one 429 measures nothing)", p.rate, p.measured, 600*pacerDecrease)
	}
	for range 150 { // 500 accepted/s for 300 ms
		clk.advance(2 * time.Millisecond)
		_, e = p.reserve()
		p.observe(e, false)
	}
	_, e = p.reserve()
	p.observe(e, true) // empty again
	if c := p.ceiling; math.Abs(c-500) > 5 || !p.measured {
		t.Fatalf("ceiling %.1f (measured %v) after 150 answers accepted in 300 ms between two 429s, want about 500, measured", c, p.measured)
	}
}

// The next process starts at the target of a measured ceiling, but at the
// rate saved when the ceiling is a first burst's guess.
func TestPacerRestoreTrustsOnlyAMeasuredCeiling(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	for _, tc := range []struct {
		measured bool
		want     float64
	}{{true, 500 * pacerTargetShare}, {false, 400}} {
		p := newPacer(clk.now, 0)
		p.restore(paceState{Rate: 400, Ceiling: 500, Measured: tc.measured, Saved: clk.now().Unix()})
		if p.rate != tc.want {
			t.Fatalf("measured %v: starts at %v, want %v", tc.measured, p.rate, tc.want)
		}
	}
	// A configured cap bounds both.
	p := newPacer(clk.now, 300)
	p.restore(paceState{Rate: 400, Ceiling: 500, Measured: true, Saved: clk.now().Unix()})
	if p.rate != 300 {
		t.Fatalf("with requests_per_second 300: starts at %v", p.rate)
	}
}

// At a target far below what the server accepted before (this process or
// the ones before it, through the pace file), the pace probes at once: the
// limit is shared for now, or the 429s were not the limit's. Near it, the
// pace holds first.
func TestPacerProbesAtOnceFarBelowThePeak(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		peak  float64
		grows bool
	}{{1000, true}, {310, false}, {0, false}} {
		clk := newFakeClock()
		p := newPacer(clk.now, 0)
		p.restore(paceState{Rate: 291, Ceiling: 300, Measured: true, Peak: tc.peak, HoldMS: 8000, Saved: clk.now().Unix()})
		start := p.rate
		for range 4 { // one second of binding intervals, well inside the hold
			clk.advance(pacerIncreaseEvery)
			p.reserve()
			p.reserve()
		}
		if grew := p.rate > start; grew != tc.grows {
			t.Fatalf("peak %v: rate %v -> %v; want growth %v", tc.peak, start, p.rate, tc.grows)
		}
	}
}
