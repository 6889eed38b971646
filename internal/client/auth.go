package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/time/rate"
)

const loginPath = "api/user-manager/auth/login"

// tokenTTLFallback is assumed when the login answer has no usable
// expires_in; a 401 replay covers an earlier expiry.
const tokenTTLFallback = time.Hour

// A server's expires_in is clamped to [minTokenTTL, maxTokenTTL]: a tiny
// value must not renew in a hot loop, a huge one must neither overflow
// time.Duration nor keep a token forever.
const (
	minTokenTTL = 2 * time.Second
	maxTokenTTL = 24 * time.Hour
)

// maxRenewMargin: a token is renewed 10% of its life before expiry, but no
// more than this early.
const maxRenewMargin = 30 * time.Second

// A server may revoke any token at any time, a fresh one included, so a 401
// on a call means "log in again and replay". These bound the replays of one
// request (see Client.tokenRefused).
const (
	// maxFreshRefusals: give up after this many 401s in a row for tokens
	// the server never accepted: the login works but its tokens do not.
	maxFreshRefusals = 3
	// maxTokenReplays: give up after this many 401 replays in all, even if
	// every token served other requests (a request always losing the race
	// against revocations).
	maxTokenReplays = 64
)

// Logins are a token bucket, so a server revoking tokens over and over
// gets a few logins a second, never a storm.
const (
	loginBurst = 4
	loginRate  = 4.0 // per second, once the burst is spent
)

// ErrTokensRefused: the API accepted the login but kept answering 401 to
// the tokens it issued. It is not ErrUnauthorized: the credentials work.
var ErrTokensRefused = errors.New("the API kept refusing freshly issued access tokens")

// issued is one access token. accepted records that the server answered a
// request made with it past authentication, so a later 401 for it is a
// revocation rather than a refusal of a fresh token.
type issued struct {
	value    string
	accepted atomic.Bool
}

func (t *issued) String() string {
	if t == nil {
		return ""
	}
	return t.value
}

type authState struct {
	mu        sync.Mutex
	cur       *issued   // nil: none, or refused
	refreshAt time.Time // renew from here on
	expiresAt time.Time // still usable until here while a renewal runs
	flight    *loginFlight
	failed    error // credentials refused: kept, so workers do not storm the login
	limit     *rate.Limiter

	// replaying counts requests between a 401 and the answer to their
	// replay; while there are any, gate is open and other requests wait on
	// it before sending. Replays thus get the new token first: when the
	// server revokes every few requests, new requests would otherwise take
	// its share over and over and starve the replays.
	replaying int
	gate      chan struct{} // closed when replaying drops to 0
}

// loginFlight is one login shared by every caller that needs a token while
// it runs. Hand-written rather than x/sync/singleflight: callers must tell,
// under a.mu with the token, whether a renewal runs (to keep using the old
// token meanwhile, which singleflight cannot ask without joining), and live
// waiters start a new login when the leader's context ended.
type loginFlight struct {
	done chan struct{}
	tok  *issued
	err  error
	// leaderGone: the login failed because its caller's context ended;
	// waiters whose own context is alive start a new one.
	leaderGone bool
}

// renewAt returns when a token obtained at start with the given life should
// be renewed.
func renewAt(start time.Time, ttl time.Duration) time.Time {
	margin := ttl / 10
	if margin > maxRenewMargin {
		margin = maxRenewMargin
	}
	return start.Add(ttl - margin)
}

// token returns a valid access token, logging in when there is none or it is
// due for renewal. Concurrent callers share one login. Unless replay is set
// (the caller replays a request after a 401), it first waits for pending
// replays (see authState.gate).
func (c *Client) token(ctx context.Context, replay bool) (*issued, error) {
	a := &c.auth
	for {
		a.mu.Lock()
		if a.failed != nil {
			a.mu.Unlock()
			return nil, a.failed
		}
		if g := a.gate; g != nil && !replay {
			a.mu.Unlock()
			select {
			case <-g:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		now := c.now()
		if a.cur != nil && now.Before(a.refreshAt) {
			t := a.cur
			a.mu.Unlock()
			return t, nil
		}
		if f := a.flight; f != nil {
			// A renewal is running: keep using the current token while it
			// lasts rather than queue behind the login.
			if a.cur != nil && now.Before(a.expiresAt) {
				t := a.cur
				a.mu.Unlock()
				return t, nil
			}
			a.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil {
				if f.leaderGone && ctx.Err() == nil {
					continue
				}
				return nil, f.err
			}
			return f.tok, nil
		}
		f := &loginFlight{done: make(chan struct{})}
		a.flight = f
		slot := a.limit.ReserveN(now, 1)
		wait := slot.DelayFrom(now)
		a.mu.Unlock()

		var err error
		if wait > 0 {
			tflog.Debug(c.MaskContext(ctx), "waiting before logging in to the Isahit Lab API again", map[string]any{"wait_ms": wait.Milliseconds()})
			if err = c.sleep(ctx, wait); err != nil {
				err = fmt.Errorf("waiting to log in to the Isahit Lab API: %w", err)
			}
		}
		var tok *issued
		var ttl time.Duration
		start := c.now()
		if err == nil {
			tok, ttl, err = c.login(ctx)
		} else {
			// Give the slot back, so cancelled waits do not lengthen the next ones.
			slot.CancelAt(c.now())
		}

		a.mu.Lock()
		a.flight = nil
		if err == nil {
			a.cur = tok
			a.refreshAt = renewAt(start, ttl)
			a.expiresAt = start.Add(ttl)
		} else if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrBadRequest) {
			a.failed = err
		}
		f.tok, f.err = tok, err
		f.leaderGone = err != nil && ctx.Err() != nil
		a.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

// replayStart and replayDone bracket a request's replay after a 401.
func (c *Client) replayStart() {
	a := &c.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replaying == 0 {
		a.gate = make(chan struct{})
	}
	a.replaying++
}

func (c *Client) replayDone() {
	a := &c.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replaying--; a.replaying == 0 {
		close(a.gate)
		a.gate = nil
	}
}

// refused drops tok after the API answered 401 to it, so that the next
// token() logs in. When tok has already been replaced, nothing changes: the
// caller retries with the current token and no new login happens.
func (c *Client) refused(tok *issued) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.cur == tok {
		c.auth.cur = nil
	}
}

// pastAuth reports whether an answer shows that the server accepted the
// token: anything but 401 and the answers a proxy or limiter may give before
// authentication (429, 5xx).
func pastAuth(status int) bool {
	return status != http.StatusUnauthorized && status != http.StatusTooManyRequests && status < 500
}

// tokenRefused handles a 401 to a call made with tok: it records the
// refusal in chain (the tokens refused to this request since the last one
// the server had accepted) and either drops tok for a new login (nil) or
// gives up. Whether a token was accepted is read only now, so a 401 that
// overtook another request's success with the same token is not counted.
func (c *Client) tokenRefused(ctx context.Context, r *request, tok *issued, resp *response, replays int, chain *[]*issued) error {
	*chain = append(*chain, tok)
	for i := len(*chain) - 1; i >= 0; i-- {
		if (*chain)[i].accepted.Load() {
			*chain = (*chain)[i+1:]
			break
		}
	}
	c.n401.Add(1)
	last := c.newAPIError(resp.status, r.method, r.display(), resp.body).Message
	if last == "" {
		last = http.StatusText(resp.status)
	}
	switch {
	case len(*chain) >= c.maxFreshRefusals:
		return fmt.Errorf("%s %s: %w: %d tokens in a row were refused (HTTP 401) before the API accepted any request made with them, although each login succeeded; last answer: %s",
			r.method, r.display(), ErrTokensRefused, len(*chain), last)
	case replays >= c.maxTokenReplays:
		return fmt.Errorf("%s %s: %w: gave up after %d logins and replays, each answered HTTP 401; last answer: %s",
			r.method, r.display(), ErrTokensRefused, replays, last)
	}
	tflog.Debug(c.MaskContext(ctx), "Isahit Lab API refused the access token: logging in again and replaying", map[string]any{
		"method":  r.method,
		"path":    r.display(),
		"replays": replays,
	})
	c.refused(tok)
	return nil
}

// login runs A1: form-encoded credentials, no Authorization header. It is
// retried like an idempotent call on 429, 5xx and connection errors, never on
// 400 or 401.
func (c *Client) login(ctx context.Context) (*issued, time.Duration, error) {
	form := url.Values{"access_id": {c.cfg.AccessID}, "secret_key": {c.cfg.SecretKey}}
	c.nLogins.Add(1)
	resp, err := c.do(ctx, &request{
		method:      http.MethodPost,
		path:        loginPath,
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		idempotent:  true,
		noAuth:      true,
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
			msg := "the API refused the credentials (access id and secret key)"
			if ae.Message != "" {
				msg += ": " + ae.Message
			}
			return nil, 0, &APIError{StatusCode: ae.StatusCode, Method: ae.Method, Path: ae.Path, Message: msg}
		}
		return nil, 0, fmt.Errorf("logging in to the Isahit Lab API: %w", err)
	}
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		// The body holds the token: never quote it.
		return nil, 0, fmt.Errorf("logging in to the Isahit Lab API: unreadable answer (HTTP %d)", resp.status)
	}
	tok := strings.TrimSpace(body.AccessToken)
	if tok == "" {
		return nil, 0, fmt.Errorf("logging in to the Isahit Lab API: the answer (HTTP %d) has no access_token", resp.status)
	}
	c.secrets.add(tok)
	return &issued{value: tok}, tokenLife(body.ExpiresIn), nil
}

// tokenLife reads expires_in (seconds, a number or a numeric string):
// clamped to [minTokenTTL, maxTokenTTL]; tokenTTLFallback when absent, not a
// number, zero or negative.
func tokenLife(raw json.RawMessage) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(rawText(raw)), 64)
	switch {
	case math.IsInf(f, 1): // "Infinity", or too large for a float64 (err is ErrRange)
		return maxTokenTTL
	case err != nil || math.IsNaN(f) || f <= 0:
		return tokenTTLFallback
	case f >= maxTokenTTL.Seconds():
		return maxTokenTTL
	}
	return max(time.Duration(f*float64(time.Second)), minTokenTTL)
}
