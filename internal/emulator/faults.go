package emulator

import (
	"math"
	"net/http"
	"time"
)

type faultKind int

const (
	faultNone faultKind = iota
	faultRateLimited
	faultDrop
	faultFail500
	faultFail503
)

// decision is what the fault layer does with one API request.
type decision struct {
	kind       faultKind
	latency    time.Duration
	retryAfter int // seconds, for faultRateLimited
	// revokeEvery is Faults.RevokeTokensEvery, read with the other settings so that a request
	// sees one consistent set.
	revokeEvery int
}

// SetFaults replaces the fault settings; rates are clamped to [0,1] and the rate-limit bucket
// starts full.
func (e *Emulator) SetFaults(f Faults) {
	f.FailRate = clamp01(f.FailRate)
	f.DropRate = clamp01(f.DropRate)
	f.ThrottleRate = clamp01(f.ThrottleRate)
	if f.RateLimit < 0 || math.IsNaN(f.RateLimit) || math.IsInf(f.RateLimit, 0) {
		f.RateLimit = 0
	}
	if f.Latency < 0 {
		f.Latency = 0
	}
	f.RevokeTokensEvery = max(f.RevokeTokensEvery, 0)
	e.mu.Lock()
	e.authorized = 0 // a new count starts with the new setting
	e.mu.Unlock()
	e.fmu.Lock()
	e.faults = f
	e.bucketTokens = burst(f.RateLimit)
	e.bucketLast = time.Now()
	e.fmu.Unlock()
}

// CurrentFaults returns the fault settings in effect.
func (e *Emulator) CurrentFaults() Faults {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	return e.faults
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(x, 1)
}

func burst(rate float64) float64 { return max(1, rate/10) }

// admit takes a token from the bucket (arrival time decides, as a server's limiter would) and
// rolls the failure dice for a request that got through.
func (e *Emulator) admit(now time.Time) decision {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	f := e.faults
	d := decision{latency: f.Latency, revokeEvery: f.RevokeTokensEvery}
	if f.RateLimit > 0 {
		b := burst(f.RateLimit)
		if el := now.Sub(e.bucketLast).Seconds(); el > 0 {
			e.bucketTokens = min(b, e.bucketTokens+el*f.RateLimit)
			e.bucketLast = now
		}
		if e.bucketTokens < 1 {
			d.kind = faultRateLimited
			d.retryAfter = max(1, int(math.Ceil((1-e.bucketTokens)/f.RateLimit)))
			return d
		}
		e.bucketTokens--
	}
	if f.DropRate > 0 || f.FailRate > 0 || f.ThrottleRate > 0 {
		u := e.rng.Float64()
		switch {
		case u < f.ThrottleRate:
			d.kind = faultRateLimited
			d.retryAfter = 1
		case u < f.ThrottleRate+f.DropRate:
			d.kind = faultDrop
		case u < f.ThrottleRate+f.DropRate+f.FailRate:
			if e.rng.IntN(2) == 0 {
				d.kind = faultFail500
			} else {
				d.kind = faultFail503
			}
		}
	}
	return d
}

// dropConnection closes the client's connection without an answer. When the writer cannot be
// hijacked (HTTP/2), aborting the handler resets the stream instead.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
