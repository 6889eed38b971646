package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// loginWatch wraps a handler and records the peak of concurrent logins.
type loginWatch struct {
	next       http.Handler
	in, peak   atomic.Int32
	refuseNext atomic.Bool // answer logins 401 (credentials rotated away)
}

func (l *loginWatch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/auth/login") {
		n := l.in.Add(1)
		defer l.in.Add(-1)
		for {
			p := l.peak.Load()
			if n <= p || l.peak.CompareAndSwap(p, n) {
				break
			}
		}
		if l.refuseNext.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"statusCode":401,"message":"Invalid credentials"}`))
			return
		}
	}
	l.next.ServeHTTP(w, r)
}

// A server revoking every token every K requests: a fan-out of hundreds of
// calls succeeds, logins stay about one per K requests, and never overlap.
func TestRevokedTokensFanOutSharesOneLoginPerRevocation(t *testing.T) {
	t.Parallel()
	const k, workers, total = 4, 12, 480
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey,
		Faults: emulator.Faults{RevokeTokensEvery: k, Latency: time.Millisecond}})
	watch := &loginWatch{next: emu}
	srv := httptest.NewServer(watch)
	t.Cleanup(srv.Close)
	p := emu.AddProject("p")
	var batches, workflows []string
	for i := range 8 {
		b := emu.AddBatch(p, fmt.Sprintf("b%d", i))
		info, _ := emu.Batch(b)
		batches, workflows = append(batches, b), append(workflows, info.WorkflowID)
	}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxConcurrency = workers })
	// The login rate bound has its own test; here the count of logins must
	// come from sharing them, not from the bucket.
	c.auth.limit = rate.NewLimiter(rate.Inf, 1)

	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= total; i = int(next.Add(1)) {
				var err error
				if i%2 == 0 {
					_, err = c.GetWorkflow(context.Background(), workflows[i%len(workflows)])
				} else {
					_, err = c.SetupWebhook(context.Background(), Target{BatchID: batches[i%len(batches)]}, WebhookSetting{URL: "https://h.example/x"})
				}
				if err != nil {
					t.Errorf("call %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	calls := emu.Calls()
	t.Logf("calls %v, client %+v, peak concurrent logins %d", calls, c.Stats(), watch.peak.Load())
	if calls["revocations"] < total/k-1 || calls["401"] == 0 {
		t.Fatalf("the server did not revoke as configured: %v", calls)
	}
	if bound := total/k + 2; calls["A1"] > bound {
		t.Fatalf("%d logins for %d calls revoked every %d: want at most %d (one per revocation)", calls["A1"], total, k, bound)
	}
	if watch.peak.Load() != 1 {
		t.Fatalf("%d logins ran at once, want 1 (single flight)", watch.peak.Load())
	}
	if st := c.Stats(); st.Refused != int64(calls["401"]) || st.Retries != 0 {
		t.Fatalf("stats %+v: 401 replays must be counted as refusals, not retries", st)
	}
}

// A 401 for a token that has already been replaced retries with the
// current one: no new login.
func TestRefusedOlderTokenRetriesWithCurrentOne(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	old := c.auth.cur
	emu.ExpireTokens()
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	cur := c.auth.cur
	if cur == nil || cur == old || emu.Calls()["A1"] != 2 {
		t.Fatalf("no new token after the 401 (A1 = %d)", emu.Calls()["A1"])
	}
	c.refused(old) // a late 401 for the old token
	if c.auth.cur != cur {
		t.Fatal("a 401 for an older token dropped the current one")
	}
	if _, err := c.GetBatch(context.Background(), b); err != nil || emu.Calls()["A1"] != 2 {
		t.Fatalf("err %v, logins %d: want the current token reused", err, emu.Calls()["A1"])
	}
}

// A server that refuses every token, however fresh: a clear error after a
// few logins, which is not the credentials error.
func TestServerRefusingEveryTokenGivesUp(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{TokenTTL: time.Nanosecond}) // tokens die at once
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	_, err := c.GetBatch(context.Background(), b)
	if !errors.Is(err, ErrTokensRefused) || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrTokensRefused and not ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "kept refusing freshly issued access tokens") || !strings.Contains(err.Error(), "3 tokens in a row") {
		t.Fatalf("error %q does not say fresh tokens kept being refused", err)
	}
	calls := emu.Calls()
	if calls["A1"] != maxFreshRefusals || calls["B1"] != maxFreshRefusals {
		t.Fatalf("A1=%d B1=%d, want %d and %d", calls["A1"], calls["B1"], maxFreshRefusals, maxFreshRefusals)
	}

	// Concurrent callers share the logins: the total stays small.
	emu.ResetCalls()
	c = newTestClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.GetBatch(context.Background(), b); !errors.Is(err, ErrTokensRefused) {
				t.Errorf("err = %v", err)
			}
		})
	}
	wg.Wait()
	// Unshared, each caller would log in maxFreshRefusals times (24); a
	// caller that starts late may need a few tokens of its own.
	if n := emu.Calls()["A1"]; n > 3*maxFreshRefusals {
		t.Fatalf("%d logins for 8 concurrent callers, want at most %d", n, 3*maxFreshRefusals)
	}
}

// A refused login is the credentials error, at once, even while the server
// revokes tokens: no replay loop around it.
func TestRefusedLoginFailsFastUnderRevocation(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey,
		Faults: emulator.Faults{RevokeTokensEvery: 2}})
	watch := &loginWatch{next: emu}
	srv := httptest.NewServer(watch)
	t.Cleanup(srv.Close)
	b := emu.AddBatch(emu.AddProject("p"), "b")

	wrong := newTestClient(t, srv.URL, func(cfg *Config) { cfg.SecretKey = "wrong-secret-value" })
	start := time.Now()
	_, err := wrong.GetBatch(context.Background(), b)
	if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrTokensRefused) || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("err = %v, want the credentials error", err)
	}
	if d := time.Since(start); d > time.Second || emu.Calls()["A1"] != 1 {
		t.Fatalf("took %v and %d logins, want one login at once", d, emu.Calls()["A1"])
	}

	// The credentials stop working mid-run (a key rotation): the 401 leads
	// to one login, whose refusal ends the call.
	emu.ResetCalls()
	c := newTestClient(t, srv.URL, nil)
	for range 2 {
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	watch.refuseNext.Store(true)
	_, err = c.GetBatch(context.Background(), b)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "refused the credentials") {
		t.Fatalf("err = %v, want the credentials error", err)
	}
	if _, err := c.GetBatch(context.Background(), b); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("later call: %v", err)
	}
	if n := emu.Calls()["A1"]; n != 1 { // the refused login went to the watch, not the emulator
		t.Fatalf("emulator logins %d, want 1", n)
	}
}

// A server that answers 401 to one resource while its tokens work for the
// rest (a refusal it should have sent as 403): that request gives up, the
// others carry on.
func TestOneResourceAlways401GivesUp(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "login"):
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"access_token":"tok-%06d","expires_in":3600}`, n.Add(1))
		case strings.HasSuffix(r.URL.Path, "/victim"):
			w.WriteHeader(http.StatusUnauthorized)
		default:
			_, _ = w.Write([]byte(`{"_id":"ok"}`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.GetBatch(context.Background(), "ok"); err != nil {
					t.Errorf("ok: %v", err)
					return
				}
			}
		})
	}
	start := time.Now()
	_, err := c.GetBatch(context.Background(), "victim")
	close(stop)
	wg.Wait()
	if !errors.Is(err, ErrTokensRefused) || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrTokensRefused", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// Whatever the tokens' history, one request replays at most
// maxTokenReplays times.
func TestTokenReplaysBoundedPerRequest(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{TokenTTL: time.Nanosecond})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	c.maxFreshRefusals, c.maxTokenReplays = 1000, 5
	c.auth.limit = rate.NewLimiter(rate.Inf, 1)
	_, err := c.GetBatch(context.Background(), b)
	if !errors.Is(err, ErrTokensRefused) || !strings.Contains(err.Error(), "gave up after 5 logins and replays") {
		t.Fatalf("err = %v, want the replay bound", err)
	}
	if n := emu.Calls()["B1"]; n != 5 {
		t.Fatalf("B1 = %d, want 5", n)
	}
}

// Logins are rate-bounded: a server revoking after every request gets a
// burst, then one login per 1/loginRate, waited for on the client's clock.
func TestLoginRateIsBounded(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RevokeTokensEvery: 1}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	clk := newFakeClock()
	var mu sync.Mutex
	var waits []time.Duration
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clk.now() }
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		clk.advance(d)
		return ctx.Err()
	}
	const calls = 20
	for range calls {
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if n := emu.Calls()["A1"]; n != calls {
		t.Fatalf("logins %d, want %d (one per revocation)", n, calls)
	}
	if len(waits) != calls-loginBurst {
		t.Fatalf("%d waits (%v), want %d: one per login beyond the burst of %d", len(waits), waits, calls-loginBurst, loginBurst)
	}
	for _, w := range waits {
		if want := time.Duration(float64(time.Second) / loginRate); w < want-time.Millisecond || w > want+time.Millisecond {
			t.Fatalf("login waits %v, want %v each", waits, want)
		}
	}
}

// The wait for a login slot ends with the caller's context.
func TestLoginRateWaitHonoursCancellation(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RevokeTokensEvery: 1}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	c.auth.limit = rate.NewLimiter(0.01, 1) // the next slot is 100 s away
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetBatch(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v", d)
	}
	if n := emu.Calls()["A1"]; n != 1 {
		t.Fatalf("logins %d, want 1 (the second never started)", n)
	}
}

func TestTokenLife(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]time.Duration{
		`3600`:                    time.Hour,
		`"3600"`:                  time.Hour,
		`" 90.5 "`:                90*time.Second + 500*time.Millisecond,
		`1e30`:                    maxTokenTTL,
		`9223372036854775807`:     maxTokenTTL,
		`"9223372036854775807"`:   maxTokenTTL,
		`1e400`:                   maxTokenTTL, // beyond float64
		`"Infinity"`:              maxTokenTTL,
		`86401`:                   maxTokenTTL,
		`-5`:                      tokenTTLFallback,
		`-1e30`:                   tokenTTLFallback,
		`0`:                       tokenTTLFallback,
		`0.0001`:                  minTokenTTL,
		`1`:                       minTokenTTL,
		`1.5`:                     minTokenTTL,
		`"soon"`:                  tokenTTLFallback,
		`"NaN"`:                   tokenTTLFallback,
		`null`:                    tokenTTLFallback,
		``:                        tokenTTLFallback, // absent
		`true`:                    tokenTTLFallback,
		`{"seconds":10}`:          tokenTTLFallback,
		`[3600]`:                  tokenTTLFallback,
		`"3600s"`:                 tokenTTLFallback,
		`"0x10"`:                  tokenTTLFallback,
		`-9223372036854775808`:    tokenTTLFallback,
		`18446744073709551616000`: maxTokenTTL,
	} {
		if got := tokenLife(json.RawMessage(raw)); got != want {
			t.Errorf("expires_in %s: %v, want %v", raw, got, want)
		}
	}
}

// Absurd expires_in values from a real login answer: no overflow, no hot
// loop, renewal within a day.
func TestExpiresInExtremesEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expiresIn string
		renewBy   time.Duration // a call this long after login logs in again
		quietFor  time.Duration // calls within this do not
	}{
		{`1e30`, maxTokenTTL, maxTokenTTL - maxRenewMargin - time.Second},
		{`9223372036854775807`, maxTokenTTL, maxTokenTTL - maxRenewMargin - time.Second},
		{`0.001`, minTokenTTL, minTokenTTL * 8 / 10},
		{`-1`, tokenTTLFallback, tokenTTLFallback - maxRenewMargin - time.Second},
		{`"a while"`, tokenTTLFallback, tokenTTLFallback - maxRenewMargin - time.Second},
	} {
		t.Run(tc.expiresIn, func(t *testing.T) {
			var logins atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "login") {
					w.WriteHeader(http.StatusCreated)
					fmt.Fprintf(w, `{"access_token":"tok-%06d","expires_in":%s}`, logins.Add(1), tc.expiresIn)
					return
				}
				_, _ = w.Write([]byte(`{"_id":"b"}`))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			clk := newFakeClock()
			c.now = clk.now
			get := func() {
				t.Helper()
				if _, err := c.GetBatch(context.Background(), "b"); err != nil {
					t.Fatal(err)
				}
			}
			get()
			for range 5 {
				get() // no hot loop: the token is reused
			}
			clk.advance(tc.quietFor)
			get()
			if logins.Load() != 1 {
				t.Fatalf("logins %d within %v, want 1", logins.Load(), tc.quietFor)
			}
			clk.advance(tc.renewBy - tc.quietFor)
			get()
			if logins.Load() != 2 {
				t.Fatalf("logins %d after %v, want 2 (renewed)", logins.Load(), tc.renewBy)
			}
		})
	}
}
