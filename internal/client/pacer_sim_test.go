package client

import (
	"math"
	"testing"
	"time"
)

// simClient is one process of a phase simulation: its pacer, its workers
// and the requests it has to send (n; <= 0: until the simulation ends).
type simClient struct {
	p       *pacer
	workers int
	n       int
	start   time.Duration // offset of its first request

	sent, done, refused int
	first, last         time.Time

	// warmAt, when set, starts the counts of answers after a warm-up.
	warmAt              time.Time
	warmOK, warmRefused int
}

// runPhases runs clients against one token-bucket server (the emulator's
// model: rate limit, burst limit/10, 429 with Retry-After = whole seconds
// until a token, at least 1) until each has its n requests accepted or dur
// has passed.
func runPhases(clk *fakeClock, limit float64, latency, dur time.Duration, clients ...*simClient) {
	start := clk.now()
	burst := math.Max(1, limit/10)
	tokens, last := burst, start
	var q simQueue
	for ci, c := range clients {
		for w := 0; w < c.workers; w++ {
			q.add(simEvent{at: start.Add(c.start), worker: ci})
		}
	}
	for !q.empty() {
		e := q.next()
		if e.at.After(start.Add(dur)) {
			break
		}
		clk.set(e.at)
		c := clients[e.worker]
		switch e.kind {
		case 0:
			if c.n > 0 && c.sent >= c.n {
				continue // this worker's queue is empty
			}
			c.sent++
			d, ep := c.p.reserve()
			q.add(simEvent{at: e.at.Add(d), worker: e.worker, kind: 1, epoch: ep})
		case 1:
			if d, ep := c.p.regrant(e.epoch); ep != e.epoch {
				q.add(simEvent{at: e.at.Add(d), worker: e.worker, kind: 1, epoch: ep})
				continue
			}
			tokens = math.Min(burst, tokens+limit*secondsBetween(last, e.at))
			last = e.at
			ok := tokens >= 1
			if ok {
				tokens--
			}
			if c.first.IsZero() {
				c.first = e.at
			}
			if !c.warmAt.IsZero() && e.at.After(c.warmAt) {
				if ok {
					c.warmOK++
				} else {
					c.warmRefused++
				}
			}
			q.add(simEvent{at: e.at.Add(latency), worker: e.worker, kind: 2, epoch: e.epoch, ok: ok})
		case 2:
			c.p.observe(e.epoch, !e.ok)
			if e.ok {
				c.done++
				c.last = e.at
				if sampleHook != nil {
					sampleHook(e.at, c)
				}
				q.add(simEvent{at: e.at, worker: e.worker})
				continue
			}
			c.refused++
			c.sent-- // the same request again, after Retry-After
			wait := math.Max(1, math.Ceil((1-tokens)/limit))
			q.add(simEvent{at: e.at.Add(time.Duration(wait) * time.Second), worker: e.worker})
		}
	}
}

// span is first request to last answer, over the floor n/limit.
func (c *simClient) spanRatio(limit float64) float64 {
	return c.last.Sub(c.first).Seconds() / (float64(c.n) / limit)
}

// TestPacerSmallPhasesAtTheFloor follows a pipeline's commands: each phase
// is a new process (a new pacer) whose pace was handed on by the previous
// one through the pace file. Once learned, phases of a hundred to a few
// thousand requests run within 1.15x of the floor (n/limit) with at most one
// 429. Without the file each phase would start as phase 0 does.
func TestPacerSmallPhasesAtTheFloor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit    float64
		n        int
		maxRatio float64
	}{
		{100, 120, 1.15}, {100, 1100, 1.15}, {500, 1100, 1.15}, {500, 3300, 1.15}, {100, 2200, 1.15},
		// Phases too short to drain the server's burst never meet the
		// limit: they run at the first contact's cautious guess, below it,
		// until a longer phase measures it. Slower, never a 429.
		{500, 120, 1.35},
	} {
		clk := newFakeClock()
		file := newPaceFile(t.TempDir(), "https://api.example/", "id")
		for phase := 0; phase < 6; phase++ {
			p := newPacer(clk.now, 0)
			p.file = file
			if st, ok := file.load(clk.now()); ok {
				p.restore(st)
			} else if phase > 0 {
				t.Fatalf("R=%.0f n=%d phase %d: nothing handed on by phase %d", tc.limit, tc.n, phase, phase-1)
			}
			c := &simClient{p: p, workers: 16, n: tc.n}
			runPhases(clk, tc.limit, 20*time.Millisecond, 10*time.Minute, c)
			ratio := c.spanRatio(tc.limit)
			t.Logf("R=%.0f n=%d phase %d: span/floor %.3f, 429s %d, rate %.1f, hold %v", tc.limit, tc.n, phase, ratio, c.refused, p.rate, p.holdFor)
			if c.done != tc.n {
				t.Fatalf("done %d of %d", c.done, tc.n)
			}
			// First contact costs 429s; the ceiling it learns may be a
			// little high and come down by a 429 or two in the next phases,
			// and the hold before a probe grows as probes confirm it.
			if phase >= 1 && ratio > tc.maxRatio {
				t.Errorf("R=%.0f n=%d phase %d: span/floor %.2f, want <= %.2f", tc.limit, tc.n, phase, ratio, tc.maxRatio)
			}
			if phase >= 4 && c.refused > 1 {
				t.Errorf("R=%.0f n=%d phase %d: %d 429s, want <= 1 once learned", tc.limit, tc.n, phase, c.refused)
			}
			clk.advance(5 * time.Second) // Terraform between two processes
		}
	}
}

// TestPacerSharedLimit: two applies on one limit. A runs alone, B joins at
// 10 s and leaves when done: together they keep the limit busy with few
// 429s, and A takes the whole limit back within seconds once B is gone.
func TestPacerSharedLimit(t *testing.T) {
	t.Parallel()
	const limit = 500.0
	clk := newFakeClock()
	a := &simClient{p: newPacer(clk.now, 0), workers: 16}
	b := &simClient{p: newPacer(clk.now, 0), workers: 16, start: 10 * time.Second, n: 10000}
	var timeline []simSample
	sampleHook = func(now time.Time, c *simClient) {
		if c == a {
			timeline = append(timeline, simSample{now, a.done})
		}
	}
	defer func() { sampleHook = nil }()
	runPhases(clk, limit, 20*time.Millisecond, 100*time.Second, a, b)
	start := timeline[0].at
	rateIn := func(from, to time.Duration) float64 {
		var n0, n1 int
		for _, s := range timeline {
			d := s.at.Sub(start)
			if d < from {
				n0 = s.done
			}
			if d < to {
				n1 = s.done
			}
		}
		return float64(n1-n0) / (to - from).Seconds()
	}
	bEnd := b.last.Sub(start)
	alone, shared, after := rateIn(2*time.Second, 10*time.Second), rateIn(15*time.Second, bEnd)+float64(b.done)/(bEnd.Seconds()-10), rateIn(bEnd, bEnd+10*time.Second)
	// After B, A holds before it probes (a steady limit is probed less),
	// so it takes the limit back within seconds rather than at once.
	if alone < 0.95*limit || shared < 0.9*limit || after < 0.8*limit {
		t.Errorf("accepted: A alone %.0f/s, both %.0f/s, A after B %.0f/s; want >= 95%%, 90%%, 80%% of %.0f/s", alone, shared, after, limit)
	}
	if share := float64(a.refused+b.refused) / float64(a.done+b.done); share > 0.005 {
		t.Errorf("%.2f%% of requests got 429, want <= 0.5%%", 100*share)
	}
	t.Logf("A alone: %.0f/s; shared: A %.0f/s, B %.0f/s until %v; A after B: %.0f/s (first 10 s), %.0f/s (then); 429s A %d, B %d",
		rateIn(2*time.Second, 10*time.Second), rateIn(15*time.Second, bEnd), float64(b.done)/(bEnd.Seconds()-10), bEnd,
		rateIn(bEnd, bEnd+10*time.Second), rateIn(bEnd+10*time.Second, 100*time.Second), a.refused, b.refused)
}

type simSample struct {
	at   time.Time
	done int
}

// sampleHook, when set, sees each accepted answer of a simulation.
var sampleHook func(time.Time, *simClient)
