// Package client speaks the Isahit Lab HTTP API as CONTRACT.md (next to this
// file) describes it: login, token renewal and re-login after revocation,
// retries with backoff, adaptive pacing under a rate limit, pagination, and
// typed errors with secrets redacted. It knows nothing of Terraform beyond
// logging through terraform-plugin-log.
package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/time/rate"
)

// DefaultEndpoint is the API's base URL when none is configured.
const DefaultEndpoint = "https://hub-api.isahit.com/"

// Defaults applied by New for zero Config values.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultRetryWaitMin   = 200 * time.Millisecond
	DefaultRetryWaitMax   = 30 * time.Second
	DefaultMaxRetryAfter  = 30 * time.Second
	DefaultMaxConcurrency = 8
	DefaultPageSize       = 100
	DefaultUserAgent      = "terraform-provider-isahitlab"
)

// maxBodyBytes bounds how much of an answer is read into memory.
const maxBodyBytes = 32 << 20

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	Endpoint       string        // base URL; "" means DefaultEndpoint; normalised to end with "/"
	AccessID       string        // access id
	SecretKey      string        // secret key
	UserAgent      string        // e.g. "terraform-provider-isahitlab/1.2.3"
	RequestTimeout time.Duration // per attempt; 0 -> 30s
	MaxRetries     int           // retries after the first attempt for idempotent calls; <0 -> 0
	RetryWaitMin   time.Duration // first backoff; 0 -> 200ms
	RetryWaitMax   time.Duration // backoff cap; 0 -> 30s
	// MaxRetryAfter is the longest Retry-After the client waits out; 0 ->
	// 30s. A longer one ends the call with an error: retrying sooner than
	// the server asked would only be refused again. MaxRetryAfterName names
	// the setting that raises it, for that error.
	MaxRetryAfter     time.Duration
	MaxRetryAfterName string
	// RequestsPerSecond caps the pace, which then starts there (the quota
	// the caller knows); 0: no cap, the pace is learned from 429 answers.
	RequestsPerSecond float64
	// PaceDir is where a learned pace is handed on to the next process
	// (see paceFile); "": nowhere.
	PaceDir        string
	MaxConcurrency int          // size of the client's connection pool / fan-out bound; 0 -> 8
	HTTPClient     *http.Client // optional (tests); default: own transport sized for MaxConcurrency

	// PageSize is the `limit` asked of list endpoints; 0 -> 100. (The
	// benchmark's SDK baseline uses 10.) The server may answer with less.
	PageSize int
}

// Client is safe for concurrent use; all its requests share one token and
// one adaptive pace.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	secrets *secrets
	pacer   *pacer
	auth    authState

	// Seams for tests.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	rand  func() float64

	// Bounds of the 401 replays of one request (see tokenRefused); fields
	// so that tests can lower them.
	maxFreshRefusals, maxTokenReplays int

	nRequests atomic.Int64
	nRetries  atomic.Int64
	nLogins   atomic.Int64
	n429      atomic.Int64
	n401      atomic.Int64
}

// New validates cfg and returns a Client. No request is made: login is lazy.
func New(cfg Config) (*Client, error) {
	base, err := normaliseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	cfg.Endpoint = base.String()
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax <= 0 {
		cfg.RetryWaitMax = DefaultRetryWaitMax
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.MaxRetryAfterName == "" {
		cfg.MaxRetryAfterName = "the longest wait allowed"
	}
	if cfg.RequestsPerSecond < 0 || math.IsNaN(cfg.RequestsPerSecond) || math.IsInf(cfg.RequestsPerSecond, 0) {
		cfg.RequestsPerSecond = 0
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: newTransport(cfg.MaxConcurrency)}
	}
	c := &Client{
		cfg:     cfg,
		base:    base,
		http:    hc,
		secrets: newSecrets(cfg.SecretKey),
		now:     time.Now,
		sleep:   sleepCtx,
		rand:    rand.Float64,

		maxFreshRefusals: maxFreshRefusals,
		maxTokenReplays:  maxTokenReplays,
	}
	c.auth.limit = rate.NewLimiter(loginRate, loginBurst)
	c.pacer = newPacer(func() time.Time { return c.now() }, cfg.RequestsPerSecond)
	c.pacer.file = newPaceFile(cfg.PaceDir, cfg.Endpoint, cfg.AccessID)
	if st, ok := c.pacer.file.load(c.now()); ok {
		c.pacer.restore(st)
	}
	return c, nil
}

// normaliseEndpoint checks that e is an absolute http(s) URL and makes its
// path end with "/", so relative API paths keep a prefix such as /prefix.
func normaliseEndpoint(e string) (*url.URL, error) {
	if e == "" {
		e = DefaultEndpoint
	}
	bad := func(why string) error {
		return fmt.Errorf("invalid endpoint %q: %s", e, why)
	}
	if strings.TrimSpace(e) != e || strings.ContainsAny(e, " \t\r\n") {
		return nil, bad("it contains spaces")
	}
	u, err := url.Parse(e)
	if err != nil {
		return nil, bad("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("the scheme must be http or https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, bad("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, bad("a base URL takes no query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// newTransport keeps MaxConcurrency connections alive (plus one for login),
// so a fan-out does not open and close connections per request.
func newTransport(maxConc int) http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t := dt.Clone()
	t.MaxIdleConnsPerHost = maxConc + 1
	if t.MaxIdleConns < maxConc+1 {
		t.MaxIdleConns = maxConc + 1
	}
	return t
}

// Endpoint returns the normalised base URL.
func (c *Client) Endpoint() string { return c.cfg.Endpoint }

// MaxConcurrency returns the configured fan-out bound (after defaults).
func (c *Client) MaxConcurrency() int { return c.cfg.MaxConcurrency }

// Stats are counters over the Client's life, for progress logs and benchmarks.
type Stats struct {
	Requests    int64   // HTTP requests sent (attempts, logins included)
	Retries     int64   // attempts that were retries
	RateLimited int64   // 429 answers
	Logins      int64   // login requests
	Refused     int64   // 401 answers to calls made with a token (each followed by a new login or a replay)
	Rate        float64 // current adaptive rate in requests/s; 0 = not limited
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.nRequests.Load(),
		Retries:     c.nRetries.Load(),
		RateLimited: c.n429.Load(),
		Logins:      c.nLogins.Load(),
		Refused:     c.n401.Load(),
		Rate:        c.pacer.currentRate(),
	}
}

// MaskContext returns ctx with tflog masking of every secret the client knows
// (secret key, tokens, webhook header values), for callers that log too.
func (c *Client) MaskContext(ctx context.Context) context.Context {
	list := c.secrets.snapshot()
	if len(list) == 0 {
		return ctx
	}
	ctx = tflog.MaskMessageStrings(ctx, list...)
	return tflog.MaskAllFieldValuesStrings(ctx, list...)
}

// Redact makes a server's text safe to show: every secret the client knows,
// raw or in any escaped or encoded form (see package redact), replaced with
// "***"; the whole text withheld when it holds one too short to mask.
func (c *Client) Redact(s string) string { return c.secrets.current().Clean(s, 0) }

// Clean is Redact with extra values (say, a webhook's header) searched for
// too, and the text then cut to limit bytes (limit <= 0: no cut).
func (c *Client) Clean(s string, limit int, extra ...string) string {
	return c.secrets.current(extra...).Clean(s, limit)
}

// Remember adds values (a configured webhook header, a write-only one being
// sent) to the secrets the client redacts and masks. Values already known
// and empty ones are ignored.
func (c *Client) Remember(values ...string) { c.secrets.add(values...) }

// request describes one API call; body is kept as bytes so every attempt can
// replay it.
type request struct {
	method      string
	path        string // relative, no leading slash, ids already escaped
	query       url.Values
	body        []byte
	contentType string
	idempotent  bool // may be retried on 429, 5xx and connection errors
	noAuth      bool // login: no Authorization header, no 401 replay
}

func (r *request) display() string {
	if len(r.query) == 0 {
		return r.path
	}
	return r.path + "?" + r.query.Encode()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do runs a request with authentication, pacing, retries and 401 replays.
// It returns the answer for a 2xx, an *APIError for any other status, or the
// transport or context error.
//
// A 401 to a call made with a token means the token was revoked, however
// fresh (see CONTRACT.md, "Tokens"): the token is dropped, one shared login
// runs, and the request is replayed without counting as a retry. The
// replays are bounded by tokenRefused, logins by the login bucket.
func (c *Client) do(ctx context.Context, r *request) (*response, error) {
	maxAttempts := 1
	if r.idempotent {
		maxAttempts += c.cfg.MaxRetries
	}
	replays := 0
	mayHaveActed := false // an earlier attempt may have reached the server and been applied
	var refusedChain []*issued
	replaying := false // between a 401 and the answer to the replay
	defer func() {
		if replaying {
			c.replayDone()
		}
	}()
	for attempt := 1; ; attempt++ {
		var tok *issued
		if !r.noAuth {
			var err error
			if tok, err = c.token(ctx, replaying); err != nil {
				return nil, err
			}
		}
		resp, err := c.attempt(ctx, r, tok.String(), attempt)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.display(), ctxErr)
		}
		if err == nil && tok != nil && resp.status == http.StatusUnauthorized {
			replays++
			if err := c.tokenRefused(ctx, r, tok, resp, replays, &refusedChain); err != nil {
				return nil, err
			}
			if !replaying {
				replaying = true
				c.replayStart()
			}
			attempt--
			continue
		}
		if replaying {
			replaying = false
			c.replayDone()
		}
		if err == nil && tok != nil && pastAuth(resp.status) {
			tok.accepted.Store(true)
		}
		if err == nil && resp.status >= 200 && resp.status < 300 {
			return resp, nil
		}
		var fail error
		var wait time.Duration
		if err != nil {
			fail = c.redactErr(err)
		} else {
			e := c.newAPIError(resp.status, r.method, r.display(), resp.body)
			if !retryableStatus(resp.status) {
				e.EarlierAttemptMayHaveActed = mayHaveActed
				return nil, e
			}
			fail = e
			if honoursRetryAfter(resp.status) {
				wait, _ = parseRetryAfter(resp.header.Get("Retry-After"), c.now())
				if wait > c.cfg.MaxRetryAfter {
					e.EarlierAttemptMayHaveActed = mayHaveActed
					return nil, &RetryAfterError{Wait: wait, Max: c.cfg.MaxRetryAfter, Setting: c.cfg.MaxRetryAfterName, Err: e}
				}
			}
		}
		// A transport error or a 5xx may come after the server acted; a 429 is
		// a refusal at the door.
		mayHaveActed = mayHaveActed || err != nil || resp.status >= 500
		if attempt >= maxAttempts {
			switch {
			case err != nil && attempt > 1:
				return nil, fmt.Errorf("%s %s: %w (gave up after %d attempts)", r.method, r.display(), fail, attempt)
			case err != nil:
				return nil, fmt.Errorf("%s %s: %w", r.method, r.display(), fail)
			case attempt > 1:
				return nil, fmt.Errorf("%w (gave up after %d attempts)", fail, attempt)
			}
			return nil, fail
		}
		if b := backoff(attempt, c.cfg.RetryWaitMin, c.cfg.RetryWaitMax, c.rand()); b > wait {
			wait = b
		}
		c.nRetries.Add(1)
		tflog.Warn(c.MaskContext(ctx), "retrying Isahit Lab API request", map[string]any{
			"method":  r.method,
			"path":    r.display(),
			"attempt": attempt,
			"wait_ms": wait.Milliseconds(),
			"reason":  fail.Error(),
		})
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.display(), err)
		}
	}
}

// attempt sends the request once: wait for the pace, then send with a
// per-attempt timeout and read the whole answer.
func (c *Client) attempt(ctx context.Context, r *request, token string, n int) (*response, error) {
	delay, epoch := c.pacer.reserve()
	for delay > 0 {
		if err := c.sleep(ctx, delay); err != nil {
			return nil, err
		}
		delay, epoch = c.pacer.regrant(epoch)
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()

	ref, err := url.Parse(r.path)
	if err != nil {
		return nil, fmt.Errorf("building URL for %q: %w", r.path, err)
	}
	ref.RawQuery = r.query.Encode()
	u := c.base.ResolveReference(ref)

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	c.nRequests.Add(1)
	start := time.Now()
	resp, err := c.http.Do(req)
	var out *response
	if err == nil {
		var data []byte
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
		_ = resp.Body.Close()
		if err == nil {
			out = &response{status: resp.StatusCode, header: resp.Header, body: data}
		}
		// A status line was received: the server answered, so the pace learns
		// from it even if the body was cut.
		c.pacer.observe(epoch, resp.StatusCode == http.StatusTooManyRequests)
		if resp.StatusCode == http.StatusTooManyRequests {
			c.n429.Add(1)
		}
	}
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		// The per-attempt timeout fired: say so rather than "context deadline
		// exceeded", which reads as Terraform's own deadline.
		err = &timeoutError{after: c.cfg.RequestTimeout, err: err}
	}

	fields := map[string]any{
		"method":      r.method,
		"path":        r.display(),
		"attempt":     n,
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if out != nil {
		fields["status"] = out.status
	} else {
		fields["error"] = c.secrets.redact(err.Error())
	}
	tflog.Debug(c.MaskContext(ctx), "Isahit Lab API request", fields)
	return out, err
}

// timeoutError is a per-attempt timeout (retryable), distinct from the
// caller's context ending.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no complete answer within the request timeout of %s", e.after)
}

// Timeout marks it as a net.Error timeout.
func (e *timeoutError) Timeout() bool { return true }

// Temporary is part of net.Error. (No Unwrap: a per-attempt timeout must not
// match context.DeadlineExceeded, which callers read as their own deadline.)
func (e *timeoutError) Temporary() bool { return true }

var _ net.Error = (*timeoutError)(nil)
