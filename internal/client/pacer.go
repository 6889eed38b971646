package client

import (
	"sync"
	"time"
)

// Adaptive pacing (AIMD). The API's rate limit is unknown, so the client
// sends freely until the first 429, then spaces all its requests (one Client,
// one pace) at a shared rate:
//   - first 429: just under the rate the server was seen to accept (three
//     quarters of an estimate while traffic is younger than pacerWindow,
//     when the measure is noise); see firstRate;
//   - each later 429: multiply by pacerDecrease, counting a burst of 429s
//     from many workers once (epoch and short window, see observe);
//   - each pacerIncreaseEvery in which the pace held a request back: add a
//     step, pulled faster toward a target just under the rate that last drew
//     a 429 (the ceiling); see increase;
//   - at the target, hold for holdFor, then probe above it, by the step
//     for pacerLinearProbes intervals, then doubling it. A probe that meets
//     a 429 near the ceiling confirms it: the hold doubles (up to
//     pacerHoldMax), so a steady limit is probed less and less and a short
//     phase ends without a 429 and its second of Retry-After;
//   - far below the highest rate the server accepted, probe at once (a
//     shared limit, or 429s that were not the limit's);
//   - a slot granted before a decrease is granted again at the new rate when
//     it comes (regrant), so the decrease acts at once.
//
// A fan-out thus runs just under the limit: it neither hammers the server
// (each 429 costs a worker a Retry-After wait of at least a second) nor
// crawls. What was learned outlives the process (paceFile): the next
// process of the same Terraform command, or the next command, starts at it.
// A configured cap (requests_per_second) paces from the first request and is
// never exceeded. pacer_test.go simulates a token-bucket server to hold this.
const (
	// pacerFirstFactor: the first rate is this share of the accepted rate
	// observed over the last pacerWindow.
	pacerFirstFactor = 0.95
	// pacerYoungFactor replaces it when requests have flowed for less than
	// pacerWindow (see firstRate). Not lower: a first contact's guess is
	// what short processes run at until a longer one measures the limit,
	// and the second of Retry-After of a further 429 mostly overlaps the
	// first burst's.
	pacerYoungFactor = 0.75
	// pacerDecrease: multiplicative decrease on a 429.
	pacerDecrease = 0.85
	// A 429 decreases the rate only for a request granted its slot after
	// the last decrease (an epoch), and at most once per short window of two
	// request intervals, bounded by these: a burst of 429s from many workers
	// counts once, yet a rate still too high is cut again within a few round
	// trips. (A longer window lets every worker run into 429 and sit out its
	// Retry-After, which stalls a fan-out.)
	pacerMinDecreaseGap = 10 * time.Millisecond
	pacerMaxDecreaseGap = 250 * time.Millisecond
	// pacerTargetShare: the pace climbs back to this share of the ceiling:
	// the rate that drew the last 429 (just above the limit, as a token
	// bucket refuses only once its burst is spent), or the limit measured
	// from the answers accepted (see observeLocked).
	pacerTargetShare = 0.97
	// pacerHoldMin and pacerHoldMax bound holdFor, the time spent at the
	// target before probing above it.
	pacerHoldMin = 4 * time.Second
	pacerHoldMax = 30 * time.Second
	// pacerConfirmShare: a 429 met while probing at no more than this share
	// of the ceiling confirms the ceiling (the hold doubles); above it the
	// limit had risen and the hold starts over from pacerHoldMin.
	pacerConfirmShare = 1.25
	// pacerSharedShare: at a ceiling below this share of the highest rate
	// accepted over a full window (peak), the pace probes at once and its
	// hold stays the shortest: another client is taking part of the limit,
	// or the 429s were not the limit's (a server refusing a share of
	// requests whatever the rate), and the pace must take back what is
	// free within seconds rather than ratchet down.
	pacerSharedShare = 0.8
	// pacerIncreaseEvery and pacerIncreaseShare: the additive step is
	// pacerIncreaseShare x (rate set at the last decrease) per interval in
	// which the pace delayed a request, with no 429.
	pacerIncreaseEvery = 250 * time.Millisecond
	pacerIncreaseShare = 0.025
	// pacerCeilingPull: share of the gap to the ceiling regained per
	// interval when that beats the additive step (see increase).
	pacerCeilingPull = 0.25
	// pacerLinearProbes: the first intervals of a probe add the step alone,
	// then it doubles per interval, capped at 2^pacerMaxProbe. A token
	// bucket answers an excess only once its burst is spent, so a probe
	// that doubled from the start would be far above the limit by the time
	// the 429 came, and a whole window of workers would meet it.
	pacerLinearProbes = 4
	pacerMaxProbe     = 10
	// pacerMinRate floors the rate (requests per second).
	pacerMinRate = 1.0
	// pacerPeakShare floors decreases at this share of the highest rate the
	// server was seen to accept over a full window. A server that refuses a
	// share of requests whatever the rate (a limit shared with other
	// tenants, say) would otherwise cut the pace every window down to a
	// crawl; under a real limit L the accepted rate never exceeds L plus its
	// burst, so the floor stays well under L and costs nothing.
	pacerPeakShare = 0.5
	// pacerMinEmptyGap and pacerWindow bound the time between two 429s
	// over which the answers accepted measure the limit (observeLocked):
	// shorter, a few answers more or less swing the measure; longer, the
	// bucket may have filled and overflowed in between, and the measure
	// falls below the limit.
	pacerMinEmptyGap = 100 * time.Millisecond
	// pacerWindow, split in pacerBuckets, is the span over which request and
	// acceptance rates are measured.
	pacerWindow  = time.Second
	pacerBuckets = 10
)

// rateWindow counts events in pacerBuckets buckets spanning pacerWindow.
type rateWindow struct {
	counts [pacerBuckets]int
	slots  [pacerBuckets]int64 // bucket number each count belongs to
	first  time.Time           // first event ever, to rate a young window fairly
}

func bucketOf(t time.Time) int64 {
	return t.UnixNano() / int64(pacerWindow/pacerBuckets)
}

func (w *rateWindow) add(now time.Time) {
	if w.first.IsZero() {
		w.first = now
	}
	b := bucketOf(now)
	i := int(b % pacerBuckets)
	if w.slots[i] != b {
		w.slots[i] = b
		w.counts[i] = 0
	}
	w.counts[i]++
}

// rate returns events per second over the window (or since the first event
// when that is shorter, but at least one bucket long).
func (w *rateWindow) rate(now time.Time) float64 {
	if w.first.IsZero() {
		return 0
	}
	cur := bucketOf(now)
	n := 0
	for i := range w.counts {
		if w.slots[i] > cur-pacerBuckets && w.slots[i] <= cur {
			n += w.counts[i]
		}
	}
	span := now.Sub(w.first)
	if span > pacerWindow {
		span = pacerWindow
	}
	if minSpan := pacerWindow / pacerBuckets; span < minSpan {
		span = minSpan
	}
	return float64(n) / span.Seconds()
}

// pacer is shared by all requests of one Client. Hand-written: no library
// models the AIMD policy, and x/time/rate could only space the slots, which
// setRate must move under the same lock as the rate.
type pacer struct {
	mu  sync.Mutex
	now func() time.Time

	rate         float64 // requests per second; 0 = unlimited
	limit        float64 // configured cap in requests per second; 0 = none
	ceiling      float64 // rate that drew the last 429
	measured     bool    // ceiling measured or configured, not a first burst's
	holdFor      time.Duration
	heldSince    time.Time // when the rate reached the target; zero: not yet
	probe        int       // intervals spent probing above the target
	step         float64   // additive increase per interval
	next         time.Time // earliest start granted to the next request
	epoch        uint64    // bumped on each decrease
	lastDecrease time.Time
	lastIncrease time.Time
	binding      bool // a request waited for the pace since lastIncrease

	sent         rateWindow
	accepted     rateWindow
	throttledWin rateWindow

	throttled int64 // 429s seen
	decreases int64

	peakAccepted float64 // highest accepted rate over a full window
	peakBefore   float64 // peakAccepted of the processes before (paceFile)

	last429          time.Time // the last 429 (the server's bucket empty)
	acceptedSince429 int64     // answers accepted since

	file        *paceFile // where the pace is handed on; nil: nowhere
	restored    bool      // started from a saved state
	lastSave    time.Time
	decreasedAt time.Time // last decrease not saved yet; zero: none
	pruned      bool
}

// newPacer returns a pacer capped at limit requests per second (0: no cap;
// the pace then starts unlimited and learns from the first 429).
func newPacer(now func() time.Time, limit float64) *pacer {
	p := &pacer{now: now, holdFor: pacerHoldMin}
	if limit > 0 {
		p.limit = limit
		p.rate = limit
		p.ceiling = limit / pacerTargetShare
		p.measured = true
		p.step = limit * pacerIncreaseShare
	}
	return p
}

// reserve grants the next request a start slot: it returns how long to wait
// before sending and the epoch to hand back to observe.
func (p *pacer) reserve() (time.Duration, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.sent.add(now)
	if p.rate <= 0 {
		return 0, p.epoch
	}
	p.maybeIncrease(now)
	start := p.next
	if start.Before(now) {
		start = now
	}
	delay := start.Sub(now)
	if delay > 0 {
		p.binding = true
	}
	p.next = start.Add(interval(p.rate))
	return delay, p.epoch
}

// regrant is called when a request's slot comes. A slot granted before the
// last decrease is replaced by one at the new rate (delay is the wait until
// it; 0 when the grant stands), so a decrease takes effect at once instead
// of after every slot already handed out at the rate that drew the 429.
func (p *pacer) regrant(epoch uint64) (time.Duration, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if epoch == p.epoch || p.rate <= 0 {
		return 0, epoch
	}
	now := p.now()
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(interval(p.rate))
	return start.Sub(now), p.epoch
}

// maybeIncrease applies the additive increase once per pacerIncreaseEvery,
// only when the pace was what held requests back (else the rate would grow
// without meaning while demand is low, and the next 429 would find it far
// above the limit).
func (p *pacer) maybeIncrease(now time.Time) {
	if now.Sub(p.lastIncrease) < pacerIncreaseEvery || now.Sub(p.lastDecrease) < pacerIncreaseEvery {
		return
	}
	if p.binding {
		target := p.ceiling * pacerTargetShare
		if p.rate >= target && p.heldSince.IsZero() {
			p.heldSince = now
		}
		switch {
		case p.rate >= target && p.ceiling < pacerSharedShare*p.peak():
			// Far below what the server accepted before: the limit is
			// shared for now, or the 429s were not the limit's (a server
			// refusing a share of requests whatever the rate). Probe at
			// once, doubling, to take back what is free.
			p.rate, p.probe = increase(p.rate, target, p.step, max(p.probe, pacerLinearProbes))
		case p.rate < target || now.Sub(p.heldSince) >= p.holdFor:
			p.rate, p.probe = increase(p.rate, target, p.step, p.probe)
		}
		if p.limit > 0 {
			p.rate = min(p.rate, p.limit)
		}
	}
	p.binding = false
	p.lastIncrease = now
}

// increase returns the rate after one interval in which the pace held
// requests back, and the new probe count. Below the target (just under the
// rate that last drew a 429) it adds the additive step, or a quarter of the
// gap when that is more, never passing the target: a cautious start or a
// deep cut is regained in a few intervals, and the approach to the known
// limit slows as it nears it. At or above the target (once the hold is over,
// see maybeIncrease) the limit may be higher than known: the step doubles
// each interval (probe) until a 429 answers, so an estimate that was too low
// cannot leave a fan-out crawling.
func increase(rate, target, step float64, probe int) (float64, int) {
	if rate < target {
		inc := step
		if g := (target - rate) * pacerCeilingPull; g > inc {
			inc = g
		}
		return min(rate+inc, target), 0
	}
	doublings := min(max(probe-pacerLinearProbes, 0), pacerMaxProbe)
	return rate + step*float64(uint(1)<<uint(doublings)), probe + 1
}

// restore starts the pace from a state a previous process saved.
func (p *pacer) restore(st paceState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	// A measured ceiling starts the pace at its target: the rate saved may
	// be a decrease's, and a short phase would end before the pace climbed
	// back. A ceiling from a first burst alone overstates the limit: start
	// at the rate saved, and climb.
	r := st.Rate
	if st.Measured {
		r = max(r, st.Ceiling*pacerTargetShare)
	}
	if p.limit > 0 {
		r = min(r, p.limit)
	}
	p.rate = r
	p.ceiling = max(st.Ceiling, r)
	p.measured = st.Measured
	p.peakBefore = st.Peak
	p.holdFor = min(max(time.Duration(st.HoldMS)*time.Millisecond, pacerHoldMin), pacerHoldMax)
	p.step = r * pacerIncreaseShare
	p.lastIncrease = now
	if r >= p.ceiling*pacerTargetShare {
		p.heldSince = now
	}
	p.restored = true
}

// observe records the answer to a request granted in epoch: throttled is true
// for a 429. It hands the pace on when a save is due, outside the lock.
func (p *pacer) observe(epoch uint64, throttled bool) {
	p.mu.Lock()
	now := p.now()
	p.observeLocked(now, epoch, throttled)
	st, due := p.dueSave(now)
	prune := due && !p.pruned
	p.pruned = p.pruned || due
	p.mu.Unlock()
	if due {
		_ = p.file.save(st) // best effort: the next process just learns again
		if prune {
			p.file.prune(now)
		}
	}
}

// dueSave returns the state to save now, if a save is due: only a pace
// learned from the server (a 429 here, or a saved state) is handed on, at
// most every paceSaveEvery, or soon after a decrease.
func (p *pacer) dueSave(now time.Time) (paceState, bool) {
	if p.file == nil || p.rate <= 0 || (p.decreases == 0 && !p.restored) {
		return paceState{}, false
	}
	wait := paceSaveEvery
	if !p.decreasedAt.IsZero() {
		wait = paceSaveAfterDecrease
	}
	if now.Sub(p.lastSave) < wait {
		return paceState{}, false
	}
	p.lastSave, p.decreasedAt = now, time.Time{}
	return paceState{Rate: p.rate, Ceiling: p.ceiling, Measured: p.measured, Peak: p.peak(), HoldMS: p.holdFor.Milliseconds(), Saved: now.Unix()}, true
}

func (p *pacer) observeLocked(now time.Time, epoch uint64, throttled bool) {
	if !throttled {
		p.accepted.add(now)
		p.acceptedSince429++
		if now.Sub(p.accepted.first) >= pacerWindow {
			p.peakAccepted = max(p.peakAccepted, p.accepted.rate(now))
		}
		return
	}
	p.throttledWin.add(now)
	p.throttled++
	// A 429 says the server's bucket is empty now. Between two empty
	// instants it accepted at most its rate times the time between (less
	// what overflowed a full bucket): a measure of the limit from below
	// that, unlike a window's, a burst cannot inflate, and that is ready
	// within the first second.
	sinceEmpty, acceptedBetween := now.Sub(p.last429), p.acceptedSince429
	p.last429, p.acceptedSince429 = now, 0
	if p.rate <= 0 {
		r, ceiling := firstRate(p.sent.rate(now), p.accepted.rate(now), p.throttledWin.rate(now), now.Sub(p.sent.first))
		p.setRate(now, r, ceiling)
		return
	}
	if epoch < p.epoch || now.Sub(p.lastDecrease) < decreaseGap(p.rate) {
		return
	}
	ceiling, measured := p.rate, false
	if now.Sub(p.sent.first) >= pacerWindow {
		measured = true
		// Over a full window a token bucket accepts its rate plus at most
		// its burst: a tighter bound on the limit than the rate that drew
		// the 429 (which a burst lets run above it for a while), so the
		// ceiling comes down to the limit in a step or two. Bounded, as the
		// window may hold idle time.
		ceiling = min(p.rate, max(p.accepted.rate(now), p.rate*pacerDecrease))
	}
	if sinceEmpty >= pacerMinEmptyGap && sinceEmpty <= pacerWindow {
		measured = true
		ceiling = min(ceiling, max(float64(acceptedBetween)/sinceEmpty.Seconds(), p.rate*pacerDecrease))
	}
	if p.probe > 0 {
		// A probe above the target met the limit. Near the ceiling it
		// confirms it: keep it (the probe's overshoot says nothing of the
		// limit) and probe less often. Far above, the limit had risen.
		if p.rate <= p.ceiling*pacerConfirmShare {
			ceiling, measured = p.ceiling, p.measured
			p.holdFor = min(2*p.holdFor, pacerHoldMax)
			if p.ceiling < pacerSharedShare*p.peak() {
				// Far below what this process saw accepted: the limit is
				// shared for now, and may come back soon.
				p.holdFor = pacerHoldMin
			}
		} else {
			p.holdFor = pacerHoldMin
		}
	}
	p.measured = measured
	p.setRate(now, p.rate*pacerDecrease, ceiling)
}

// firstRate sets the pace at the first 429 from the rates (per second, over
// the last pacerWindow) of requests sent and of answers accepted and refused,
// and from how long requests have been flowing (age). It returns the rate and
// the ceiling that increase pulls toward.
//
// In steady state the accepted rate is the server's limit: start just under
// it. Early on (age under pacerWindow, e.g. a fan-out's first burst) the
// measures are mostly noise and a rate too high makes every worker run into
// 429 and sit out its Retry-After, so start below the estimate
// (pacerYoungFactor) and let the pull toward the ceiling find the limit
// within a few intervals. Either way the start is never below half the
// estimate, so it cannot crawl.
func firstRate(sent, accepted, refused float64, age time.Duration) (float64, float64) {
	est := accepted
	if answered := accepted + refused; answered > 0 {
		if s := sent * accepted / answered; s > est {
			est = s
		}
	}
	if est < sent/2 {
		est = sent / 2
	}
	if age < pacerWindow {
		return est * pacerYoungFactor, max(sent, est)
	}
	return est * pacerFirstFactor, max(sent, est)
}

// setRate applies a decrease to r; ceiling is the rate that drew the 429.
func (p *pacer) setRate(now time.Time, r, ceiling float64) {
	r = max(r, pacerMinRate, pacerPeakShare*p.peakAccepted)
	if p.limit > 0 {
		r = min(r, p.limit)
	}
	p.rate = r
	p.ceiling = ceiling
	p.heldSince = time.Time{}
	p.probe = 0
	p.step = r * pacerIncreaseShare
	p.epoch++
	p.decreases++
	p.lastDecrease = now
	p.decreasedAt = now
	p.lastIncrease = now
	p.binding = false
	// Leave one slot of room so the server's bucket can refill before the
	// next request; slots granted before are granted again (regrant).
	p.next = now.Add(interval(r))
}

// peak is the highest rate the server was seen to accept over a full
// window, by this process or the ones before it.
func (p *pacer) peak() float64 { return max(p.peakAccepted, p.peakBefore) }

// currentRate returns the paced rate in requests per second (0: unlimited).
func (p *pacer) currentRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// decreaseGap is the shortest time between two decreases at rate.
func decreaseGap(rate float64) time.Duration {
	return min(max(2*interval(rate), pacerMinDecreaseGap), pacerMaxDecreaseGap)
}

func interval(rate float64) time.Duration {
	return time.Duration(float64(time.Second) / rate)
}
