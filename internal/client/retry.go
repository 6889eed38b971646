package client

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the wait before retry number n (1-based): a random point
// (u in [0,1)) between lo and lo*2^(n-1), the latter capped at hi. Full
// jitter spreads the retries of many workers failing together.
func backoff(n int, lo, hi time.Duration, u float64) time.Duration {
	if n < 1 {
		n = 1
	}
	ceil := float64(lo) * math.Pow(2, float64(n-1))
	if ceil > float64(hi) || math.IsInf(ceil, 0) {
		ceil = float64(hi)
	}
	if ceil < float64(lo) {
		ceil = float64(lo)
	}
	return time.Duration(float64(lo) + u*(ceil-float64(lo)))
}

// parseRetryAfter reads a Retry-After value: delay seconds (decimals
// tolerated) or an HTTP date. ok is false when absent or unreadable.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) {
			return 0, false
		}
		// Guard the conversion against absurd values.
		if secs > 24*3600 {
			secs = 24 * 3600
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// retryableStatus: 429 and 5xx may succeed later; other answers will not.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// honoursRetryAfter: CONTRACT.md has the server send Retry-After on these.
func honoursRetryAfter(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// sleepCtx waits d or until ctx ends, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
