package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const loginPath = "api/user-manager/auth/login"

// tokenTTLFallback is assumed when the login answer has no usable
// expires_in; the 401 replay covers an earlier expiry.
const tokenTTLFallback = time.Hour

// maxRenewMargin: a token is renewed 10% of its life before expiry, but no
// more than this early.
const maxRenewMargin = 30 * time.Second

type authState struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time // renew from here on
	expiresAt time.Time // still usable until here while a renewal runs
	flight    *loginFlight
	failed    error // credentials refused: kept, so workers do not storm the login
}

// loginFlight is one login shared by every caller that needs a token while
// it runs.
type loginFlight struct {
	done  chan struct{}
	token string
	err   error
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
// due for renewal. Concurrent callers share one login.
func (c *Client) token(ctx context.Context) (string, error) {
	for {
		a := &c.auth
		a.mu.Lock()
		if a.failed != nil {
			a.mu.Unlock()
			return "", a.failed
		}
		now := c.now()
		if a.token != "" && now.Before(a.refreshAt) {
			t := a.token
			a.mu.Unlock()
			return t, nil
		}
		if f := a.flight; f != nil {
			// A renewal is running: keep using the current token while it
			// lasts rather than queue behind the login.
			if a.token != "" && now.Before(a.expiresAt) {
				t := a.token
				a.mu.Unlock()
				return t, nil
			}
			a.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err != nil {
				if f.leaderGone && ctx.Err() == nil {
					continue
				}
				return "", f.err
			}
			return f.token, nil
		}
		f := &loginFlight{done: make(chan struct{})}
		a.flight = f
		a.mu.Unlock()

		start := c.now()
		tok, ttl, err := c.login(ctx)

		a.mu.Lock()
		a.flight = nil
		if err == nil {
			a.token = tok
			a.refreshAt = renewAt(start, ttl)
			a.expiresAt = start.Add(ttl)
		} else if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrBadRequest) {
			a.failed = err
		}
		f.token, f.err = tok, err
		f.leaderGone = err != nil && ctx.Err() != nil
		a.mu.Unlock()
		close(f.done)
		return tok, err
	}
}

// invalidate drops tok after the API refused it, unless another caller has
// already replaced it.
func (c *Client) invalidate(tok string) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	if c.auth.token == tok {
		c.auth.token = ""
	}
}

// login runs A1: form-encoded credentials, no Authorization header. It is
// retried like an idempotent call on 429, 5xx and connection errors, never on
// 400 or 401.
func (c *Client) login(ctx context.Context) (string, time.Duration, error) {
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
			return "", 0, &APIError{StatusCode: ae.StatusCode, Method: ae.Method, Path: ae.Path, Message: msg}
		}
		return "", 0, fmt.Errorf("logging in to the Isahit Lab API: %w", err)
	}
	var body struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   jsonInt `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		// The body holds the token: never quote it.
		return "", 0, fmt.Errorf("logging in to the Isahit Lab API: unreadable answer (HTTP %d)", resp.status)
	}
	tok := strings.TrimSpace(body.AccessToken)
	if tok == "" {
		return "", 0, fmt.Errorf("logging in to the Isahit Lab API: the answer (HTTP %d) has no access_token", resp.status)
	}
	c.secrets.add(tok)
	ttl := time.Duration(body.ExpiresIn) * time.Second
	if body.ExpiresIn <= 0 {
		ttl = tokenTTLFallback
	}
	return tok, ttl, nil
}
