package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestGetBatchLogsInOnceAndDecodes(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	b := emu.AddBatch(p, "batch one")
	info, _ := emu.Batch(b)
	c := newTestClient(t, srv.URL, nil)

	for i := 0; i < 3; i++ {
		got, err := c.GetBatch(context.Background(), b)
		if err != nil {
			t.Fatalf("GetBatch: %v", err)
		}
		want := Batch{ID: b, Name: "batch one", ProjectID: p, Status: "pending", WorkflowID: info.WorkflowID}
		if *got != want {
			t.Fatalf("GetBatch = %+v, want %+v", *got, want)
		}
	}
	if n := emu.Calls()["A1"]; n != 1 {
		t.Fatalf("logins = %d, want 1 (token cached)", n)
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetBatch(context.Background(), b); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := emu.Calls()["A1"]; n != 1 {
		t.Fatalf("logins = %d for 32 concurrent callers, want 1", n)
	}
}

func TestWrongCredentialsOneClearErrorNoStorm(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.SecretKey = "wrong-secret-value" })

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetBatch(context.Background(), b)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
		if !strings.Contains(err.Error(), "refused the credentials") {
			t.Fatalf("error %q does not say the credentials were refused", err)
		}
		if strings.Contains(err.Error(), "wrong-secret-value") {
			t.Fatalf("error leaks the secret key: %q", err)
		}
	}
	// Later calls get the same error without asking again.
	if _, err := c.GetBatch(context.Background(), b); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("later call: %v", err)
	}
	if n := emu.Calls()["A1"]; n != 1 {
		t.Fatalf("login attempts = %d, want 1 (no retry storm)", n)
	}
	if n := emu.Calls()["B1"]; n != 0 {
		t.Fatalf("B1 calls = %d without a token, want 0", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	// Not parallel: each request must reach the server within the 200 ms renewal margin;
	// other tests' load could delay one past it.
	// Real short TTL: calls keep going across two token lifetimes with no
	// 401, because the client renews shortly before expiry.
	// (The emulator's expires_in is whole seconds, so the TTL is too.)
	emu, srv := newEmulator(t, emulator.Options{TokenTTL: 2 * time.Second})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	deadline := time.Now().Add(2200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatalf("GetBatch: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	calls := emu.Calls()
	if calls["401"] != 0 {
		t.Fatalf("got %d 401s, want renewal before expiry", calls["401"])
	}
	if calls["A1"] < 2 {
		t.Fatalf("logins = %d over 1.1 token lifetimes, want >= 2", calls["A1"])
	}
}

func TestRenewalScheduleWithFakeClock(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{TokenTTL: time.Hour})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	clk := newFakeClock()
	c.now = clk.now
	get := func() {
		t.Helper()
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	get()
	clk.advance(time.Hour - 31*time.Second) // not yet in the last 30 s
	get()
	if n := emu.Calls()["A1"]; n != 1 {
		t.Fatalf("logins = %d before the renewal point, want 1", n)
	}
	clk.advance(2 * time.Second) // 29 s before expiry
	get()
	if n := emu.Calls()["A1"]; n != 2 {
		t.Fatalf("logins = %d within 30 s of expiry, want 2 (renewed)", n)
	}
}

func TestExpiredTokenIsReplacedAndCallReplayed(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	emu.ExpireTokens() // the server forgets the token early

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetBatch(context.Background(), b); err != nil {
				t.Errorf("GetBatch after server-side expiry: %v", err)
			}
		}()
	}
	wg.Wait()
	calls := emu.Calls()
	if calls["A1"] != 2 {
		t.Fatalf("logins = %d, want 2 (one shared re-login)", calls["A1"])
	}
	if calls["401"] < 1 {
		t.Fatalf("no 401 seen: the test did not exercise the replay")
	}
}

func TestRateLimitedRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	// 1 request/s, burst 1: the login takes the only token, so the next call
	// gets 429 with Retry-After: 1 and must wait that long, far above the
	// 5 ms backoff floor (Retry-After is capped only by RetryWaitMax).
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RateLimit: 1}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RetryWaitMax = 2 * time.Second })
	start := time.Now()
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatalf("GetBatch: %v", err)
	}
	elapsed := time.Since(start)
	calls := emu.Calls()
	if calls["429"] < 1 {
		t.Fatalf("no 429 seen: the test did not exercise the limit")
	}
	if elapsed < 900*time.Millisecond {
		t.Fatalf("done in %v: Retry-After of 1 s not honoured", elapsed)
	}
	if calls["429"] > 2 {
		t.Fatalf("%d 429s: the client hammered instead of waiting", calls["429"])
	}
}

func TestRetryAfterWaitIsTheMinimum(t *testing.T) {
	t.Parallel()
	emu, _ := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	for _, tc := range []struct {
		status int
		value  string
		min    time.Duration
		max    time.Duration
	}{
		{http.StatusTooManyRequests, "7", 7 * time.Second, 7 * time.Second},
		{http.StatusServiceUnavailable, "3", 3 * time.Second, 3 * time.Second},
		{http.StatusTooManyRequests, time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat), 3 * time.Second, 5 * time.Second},
		// 500 carries no meaningful Retry-After in CONTRACT.md: backoff only.
		{http.StatusInternalServerError, "7", 0, 5 * time.Millisecond},
		// Up to MaxRetryAfter (10 s here) the wait is the server's.
		{http.StatusTooManyRequests, "10", 10 * time.Second, 10 * time.Second},
		// Unreadable values are ignored: backoff only.
		{http.StatusTooManyRequests, "-5", 0, 5 * time.Millisecond},
		{http.StatusTooManyRequests, "Fri, 31 Dec 1999 23:59:59 GMT", 0, 5 * time.Millisecond},
		{http.StatusTooManyRequests, "soon", 0, 5 * time.Millisecond},
	} {
		h := &failFirst{next: emu, match: "task-manager", n: 1, status: tc.status, retryAfter: tc.value}
		s := httptest.NewServer(h)
		c := newTestClient(t, s.URL, func(cfg *Config) { cfg.MaxRetryAfter = 10 * time.Second })
		rec := &sleepRecorder{}
		c.sleep = rec.sleep
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatalf("%d Retry-After %q: %v", tc.status, tc.value, err)
		}
		s.Close()
		// The first wait is the retry's; a pace wait may follow a 429.
		waits := rec.all()
		if len(waits) == 0 {
			t.Fatalf("%d: no wait before the retry", tc.status)
		}
		if waits[0] < tc.min || waits[0] > tc.max {
			t.Fatalf("%d Retry-After %q: waited %v, want within [%v, %v]", tc.status, tc.value, waits[0], tc.min, tc.max)
		}
	}
}

// A Retry-After longer than MaxRetryAfter ends the call at once, with an
// error naming the wait and the setting: retrying sooner would be refused.
func TestRetryAfterBeyondTheMaximumIsNotRetried(t *testing.T) {
	t.Parallel()
	emu, _ := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	for _, tc := range []struct {
		status int
		value  string
		wait   string
	}{
		{http.StatusTooManyRequests, "11", "11s"},
		{http.StatusTooManyRequests, "86400", "24h0m0s"},
		{http.StatusTooManyRequests, "1e300", "24h0m0s"},
		{http.StatusTooManyRequests, "Infinity", "24h0m0s"},
		{http.StatusServiceUnavailable, "Fri, 31 Dec 9999 23:59:59 GMT", "h"},
	} {
		h := &failFirst{next: emu, match: "task-manager", n: 1, status: tc.status, retryAfter: tc.value}
		s := httptest.NewServer(h)
		c := newTestClient(t, s.URL, func(cfg *Config) {
			cfg.MaxRetryAfter = 10 * time.Second
			cfg.MaxRetryAfterName = "max_retry_after"
		})
		rec := &sleepRecorder{}
		c.sleep = rec.sleep
		_, err := c.GetBatch(context.Background(), b)
		s.Close()
		var ra *RetryAfterError
		if !errors.As(err, &ra) {
			t.Fatalf("%d Retry-After %q: err = %v, want a RetryAfterError", tc.status, tc.value, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "max_retry_after (10s)") || !strings.Contains(msg, tc.wait) || !strings.Contains(msg, fmt.Sprint(tc.status)) {
			t.Fatalf("%d Retry-After %q: message %q must give the status, the wait asked and the setting", tc.status, tc.value, msg)
		}
		if waits := rec.all(); len(waits) != 0 {
			t.Fatalf("%d Retry-After %q: waited %v before giving up, want no wait", tc.status, tc.value, waits)
		}
		if h.seen.Load() != 1 {
			t.Fatalf("%d Retry-After %q: %d requests, want 1 (no retry)", tc.status, tc.value, h.seen.Load())
		}
	}
}

func TestServerErrorThenSuccessReplaysBody(t *testing.T) {
	t.Parallel()
	emu, srv0 := newEmulator(t, emulator.Options{})
	srv0.Close()
	b := emu.AddBatch(emu.AddProject("p"), "b")
	info, _ := emu.Batch(b)
	h := &failFirst{next: emu, match: "setup-webhook", n: 2, status: http.StatusBadGateway}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)

	_, err := c.SetupWebhook(context.Background(), Target{BatchID: b}, WebhookSetting{URL: "https://hook.example/x", Header: ptr("Bearer abc-123-xyz")})
	if err != nil {
		t.Fatalf("SetupWebhook: %v", err)
	}
	wh, ok := emu.Webhook(info.WorkflowID)
	if !ok || wh.URL != "https://hook.example/x" || wh.Header == nil || *wh.Header != "Bearer abc-123-xyz" {
		t.Fatalf("webhook after retries = %+v (ok %v)", wh, ok)
	}
	if len(h.bodies) != 3 {
		t.Fatalf("attempts = %d, want 3", len(h.bodies))
	}
	for i, body := range h.bodies {
		if body != h.bodies[0] || body == "" {
			t.Fatalf("attempt %d sent body %q, first sent %q: body not replayed", i+1, body, h.bodies[0])
		}
	}
}

func TestServerErrorsForeverGiveUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 4 })
	c.sleep = (&sleepRecorder{}).sleep
	if _, err := c.GetBatch(context.Background(), b); err != nil { // log in first
		t.Fatal(err)
	}
	emu.SetFaults(emulator.Faults{FailRate: 1})
	emu.ResetCalls()
	_, err := c.GetBatch(context.Background(), b)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode < 500 {
		t.Fatalf("err = %v, want a 5xx *APIError", err)
	}
	if !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("error %q does not count the attempts", err)
	}
	if n := emu.Calls()["B1"]; n != 5 {
		t.Fatalf("B1 attempts = %d, want MaxRetries+1 = 5", n)
	}
}

func TestCreateBatchIsNeverRetried(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetProject(context.Background(), p); err != nil { // log in first
		t.Fatal(err)
	}
	emu.SetFaults(emulator.Faults{FailRate: 1})
	if _, err := c.CreateBatch(context.Background(), p, "new"); err == nil {
		t.Fatal("CreateBatch succeeded against a failing server")
	}
	if n := emu.Calls()["B4"]; n != 1 {
		t.Fatalf("B4 attempts = %d, want 1", n)
	}
	emu.SetFaults(emulator.Faults{DropRate: 1})
	if _, err := c.CreateBatch(context.Background(), p, "new"); err == nil {
		t.Fatal("CreateBatch succeeded against a dropping server")
	}
	if n := emu.Calls()["B4"]; n != 2 {
		t.Fatalf("B4 attempts = %d, want 2 (one per call)", n)
	}
	emu.SetFaults(emulator.Faults{})
	got, err := c.CreateBatch(context.Background(), p, "new")
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := emu.Batch(got.ID); !ok || info.Name != "new" || got.WorkflowID != info.WorkflowID || got.ProjectID != p {
		t.Fatalf("created %+v, emulator has %+v (%v)", got, info, ok)
	}
}

func TestFlakyServerIsSurvived(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Seed: 7, Faults: emulator.Faults{FailRate: 0.3, DropRate: 0.1}})
	p := emu.AddProject("p")
	b := emu.AddBatch(p, "b")
	info, _ := emu.Batch(b)
	// Retry-After is honoured up to RetryWaitMax.
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 12; cfg.RetryWaitMax = 2 * time.Second })
	rec := &sleepRecorder{} // 503s carry Retry-After: 1; do not spend it
	c.sleep = rec.sleep
	for i := 0; i < 40; i++ {
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatalf("GetBatch %d: %v", i, err)
		}
		if _, err := c.SetupWebhook(context.Background(), Target{WorkflowID: info.WorkflowID}, WebhookSetting{URL: "https://h.example"}); err != nil {
			t.Fatalf("SetupWebhook %d: %v", i, err)
		}
	}
	calls := emu.Calls()
	if calls["5xx"] == 0 || calls["dropped"] == 0 {
		t.Fatalf("faults not exercised: %v", calls)
	}
	honoured := false
	for _, w := range rec.all() {
		honoured = honoured || w >= time.Second
	}
	if !honoured {
		t.Fatal("no wait of 1 s: the 503s' Retry-After was ignored")
	}
}

func TestDroppedConnectionsRetriedThenGiveUp(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	emu.SetFaults(emulator.Faults{DropRate: 1})
	emu.ResetCalls()
	// PATCH is not replayed by net/http itself, so the count is the client's.
	_, err := c.SetupWebhook(context.Background(), Target{BatchID: b}, WebhookSetting{URL: "https://h.example"})
	if err == nil {
		t.Fatal("SetupWebhook succeeded against a dropping server")
	}
	if !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("error %q does not count the attempts", err)
	}
	if n := emu.Calls()["W3"]; n != 4 {
		t.Fatalf("W3 attempts = %d, want MaxRetries+1 = 4", n)
	}
}

func TestPerAttemptTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	emu, srv0 := newEmulator(t, emulator.Options{})
	srv0.Close()
	b := emu.AddBatch(emu.AddProject("p"), "b")
	var n atomic.Int32
	slowFirst := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "task-manager") && n.Add(1) == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		emu.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slowFirst)
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond })
	start := time.Now()
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatalf("GetBatch: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v: the 100 ms per-attempt timeout did not cut the slow attempt", d)
	}
	if n.Load() != 2 {
		t.Fatalf("attempts = %d, want 2", n.Load())
	}

	// Every attempt slow: the error names the timeout, not the caller's
	// context.
	n.Store(-100)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "task-manager") {
			<-r.Context().Done()
			return
		}
		emu.ServeHTTP(w, r)
	}))
	defer slow.Close()
	c = newTestClient(t, slow.URL, func(cfg *Config) { cfg.RequestTimeout = 50 * time.Millisecond; cfg.MaxRetries = 1 })
	_, err := c.GetBatch(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), "request timeout") {
		t.Fatalf("err = %v, want a request-timeout error", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("per-attempt timeout reads as the caller's deadline: %v", err)
	}
}

func TestCancellationReturnsPromptly(t *testing.T) {
	// Not parallel: it bounds a return at 300 ms for a 100 ms deadline, too tight
	// beside other tests.
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")

	t.Run("during a request", func(t *testing.T) {
		c := newTestClient(t, srv.URL, nil)
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		emu.SetFaults(emulator.Faults{Latency: 5 * time.Second})
		defer emu.SetFaults(emulator.Faults{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.GetBatch(ctx, b)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's error", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("returned after %v", d)
		}
	})

	t.Run("during a backoff wait", func(t *testing.T) {
		c := newTestClient(t, srv.URL, func(cfg *Config) {
			cfg.RetryWaitMin = 10 * time.Second
			cfg.RetryWaitMax = 20 * time.Second
		})
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		emu.SetFaults(emulator.Faults{FailRate: 1})
		defer emu.SetFaults(emulator.Faults{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.GetBatch(ctx, b)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("returned after %v", d)
		}
	})

	t.Run("waiting for another caller's login", func(t *testing.T) {
		emu.SetFaults(emulator.Faults{Latency: 500 * time.Millisecond})
		defer emu.SetFaults(emulator.Faults{})
		c := newTestClient(t, srv.URL, nil)
		go func() { _, _ = c.GetBatch(context.Background(), b) }() // leader, slow login
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := c.GetBatch(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's error", err)
		}
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Fatalf("returned after %v", d)
		}
	})
}

func TestLoginLeaderCancelledWaitersCarryOn(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{Latency: 200 * time.Millisecond}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() { _, err := c.GetBatch(ctx, b); leaderDone <- err }()
	time.Sleep(50 * time.Millisecond) // the leader's login is in flight
	waiter := make(chan error, 1)
	go func() { _, err := c.GetBatch(context.Background(), b); waiter <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v", err)
	}
	if err := <-waiter; err != nil {
		t.Fatalf("waiter failed with the leader's cancellation: %v", err)
	}
}

func TestPaginationFollowsServerCap(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{PageCap: 7, RecordRequests: true})
	p := emu.AddProject("p")
	for i := 0; i < 20; i++ {
		emu.AddBatch(p, "b")
	}
	c := newTestClient(t, srv.URL, nil)
	var got []string
	err := c.ListBatches(context.Background(), BatchFilter{ProjectID: p}, func(b Batch) error {
		got = append(got, b.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := emu.ProjectBatches(p)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %d batches %v, want %d %v", len(got), got, len(want), want)
	}
	if n := emu.Calls()["B2"]; n != 3 {
		t.Fatalf("pages walked = %d, want 3", n)
	}
	var queries []string
	for _, r := range emu.Requests() {
		if r.Endpoint == "B2" {
			queries = append(queries, r.RawQuery)
		}
	}
	if !strings.Contains(queries[0], "limit=100") || !strings.Contains(queries[0], "pagination=true") {
		t.Fatalf("first page query %q, want pagination=true&limit=100", queries[0])
	}
	// Later pages may be fetched ahead, in any order: each asks the server's limit.
	for _, page := range []string{"page=2&", "page=3&"} {
		found := false
		for _, q := range queries[1:] {
			found = found || (strings.Contains(q, page) && strings.Contains(q, "limit=7"))
		}
		if !found {
			t.Fatalf("queries %q: want %s with the server's limit 7", queries, page)
		}
	}
}

func TestListBatchesFiltersAndStops(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{RecordRequests: true})
	p := emu.AddProject("p")
	emu.AddBatch(p, "alpha")
	emu.AddBatch(p, "beta")
	emu.AddBatch(p, "alphabet")
	c := newTestClient(t, srv.URL, nil)
	var names []string
	err := c.ListBatches(context.Background(), BatchFilter{ProjectID: p, Statuses: []string{"pending", "complete"}, Search: "alpha"}, func(b Batch) error {
		names = append(names, b.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "alpha,alphabet" {
		t.Fatalf("names = %v", names)
	}
	var q string
	for _, r := range emu.Requests() {
		if r.Endpoint == "B2" {
			q = r.RawQuery
		}
	}
	if !strings.Contains(q, "statuses=pending&statuses=complete") {
		t.Fatalf("query %q does not repeat statuses", q)
	}
	stop := errors.New("stop")
	n := 0
	err = c.ListBatches(context.Background(), BatchFilter{ProjectID: p}, func(Batch) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err = %v after %d calls, want fn's error after 1", err, n)
	}
}

func TestListDocsWithAndWithoutWorkflow(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	for i := 0; i < 3; i++ {
		emu.AddBatch(p, "b")
	}
	c := newTestClient(t, srv.URL, nil)
	list := func() []Batch {
		var out []Batch
		if err := c.ListBatches(context.Background(), BatchFilter{ProjectID: p}, func(b Batch) error { out = append(out, b); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, b := range list() {
		info, _ := emu.Batch(b.ID)
		if b.WorkflowID == "" || b.WorkflowID != info.WorkflowID || b.ProjectID != p {
			t.Fatalf("with workflow: %+v, emulator %+v", b, info)
		}
	}
	emu.SetListOmitsWorkflow(true)
	got := list()
	if len(got) != 3 {
		t.Fatalf("listed %d", len(got))
	}
	for _, b := range got {
		if b.WorkflowID != "" || b.ID == "" {
			t.Fatalf("without workflow: %+v, want WorkflowID \"\"", b)
		}
	}
}

func TestForbiddenNotFoundAndBadRequestAreDistinctAndNotRetried(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	b := emu.AddBatch(p, "b")
	emu.Forbid(b)
	c := newTestClient(t, srv.URL, nil)

	_, err := c.GetBatch(context.Background(), b)
	if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
		t.Fatalf("forbidden batch: %v", err)
	}
	missing := "0123456789abcdef01234567"
	_, err = c.GetBatch(context.Background(), missing)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
		t.Fatalf("missing batch: %v", err)
	}
	want := "GET api/task-manager/batches/" + missing + ": 404 Not Found: batch " + missing + " not found"
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Method != "GET" || ae.Path != "api/task-manager/batches/"+missing {
		t.Fatalf("APIError = %+v", ae)
	}
	if n := emu.Calls()["B1"]; n != 2 {
		t.Fatalf("B1 calls = %d, want 2 (403 and 404 not retried)", n)
	}
	err = c.ListBatches(context.Background(), BatchFilter{}, func(Batch) error { return nil })
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("list without project: %v", err)
	}
	if n := emu.Calls()["B2"]; n != 1 {
		t.Fatalf("B2 calls = %d, want 1 (400 not retried)", n)
	}
}

func TestProjects(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p1 := emu.AddProject("one")
	p2 := emu.AddProject("two")
	c := newTestClient(t, srv.URL, nil)
	got, err := c.GetProject(context.Background(), p2)
	if err != nil {
		t.Fatal(err)
	}
	if *got != (Project{ID: p2, Name: "two", Status: "pending", Type: "form"}) {
		t.Fatalf("GetProject = %+v", got)
	}
	// Missing from the list is not a 404: it must not read as "deleted".
	_, err = c.GetProject(context.Background(), "0123456789abcdef01234567")
	var notListed *ProjectNotListedError
	if !errors.As(err, &notListed) || errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
	list, err := c.ListProjects(context.Background(), ProjectFilter{IDs: []string{p1, p2}})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListProjects = %v, %v", list, err)
	}
	emu.Forbid(p1)
	if _, err := c.GetProject(context.Background(), p1); !errors.Is(err, ErrForbidden) {
		t.Fatalf("forbidden project: %v", err)
	}
}

func TestDeleteBatch(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, nil)
	if err := c.DeleteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.Batch(b); ok {
		t.Fatal("batch still there")
	}
	if err := c.DeleteBatch(context.Background(), b); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestSetupReadAndClearWebhook(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	b := emu.AddBatch(p, "b")
	info, _ := emu.Batch(b)
	wf := info.WorkflowID
	c := newTestClient(t, srv.URL, nil)
	ctx := context.Background()

	w, err := c.GetWorkflow(ctx, wf)
	if err != nil || w.ID != wf || w.Webhook != nil {
		t.Fatalf("fresh workflow = %+v, %v; want no webhook", w, err)
	}
	if _, err := c.SetupWebhook(ctx, Target{BatchID: b}, WebhookSetting{URL: "https://r.example/hook?a=1&b=<2>", Header: ptr("Bearer tok&<en>")}); err != nil {
		t.Fatal(err)
	}
	w, err = c.GetWorkflow(ctx, wf)
	if err != nil || w.Webhook == nil {
		t.Fatalf("GetWorkflow = %+v, %v", w, err)
	}
	if w.Webhook.URL != "https://r.example/hook?a=1&b=<2>" || w.Webhook.Header == nil || *w.Webhook.Header != "Bearer tok&<en>" || w.Webhook.UpdatedAt == "" {
		t.Fatalf("webhook = %+v", w.Webhook)
	}
	if w.Webhook.LastCall != nil || w.Webhook.LastError != nil {
		t.Fatalf("lastCall/lastError before any delivery: %+v", w.Webhook)
	}

	// By workflow, header null clears the header.
	if _, err := c.SetupWebhook(ctx, Target{WorkflowID: wf}, WebhookSetting{URL: "https://r.example/2"}); err != nil {
		t.Fatal(err)
	}
	if wh, _ := emu.Webhook(wf); wh.URL != "https://r.example/2" || wh.Header != nil {
		t.Fatalf("after header null: %+v", wh)
	}
	calls := emu.Calls()
	if calls["W2"] != 1 || calls["W3"] != 1 {
		t.Fatalf("W2=%d W3=%d, want 1 each", calls["W2"], calls["W3"])
	}

	if err := c.ClearWebhook(ctx, Target{BatchID: b}); err != nil {
		t.Fatal(err)
	}
	if _, ok := emu.Webhook(wf); ok {
		t.Fatal("webhook still set after ClearWebhook")
	}
	w, err = c.GetWorkflow(ctx, wf)
	if err != nil || w.Webhook != nil {
		t.Fatalf("after clear: %+v, %v", w, err)
	}

	// A url the server refuses: 400 naming it, not retried.
	_, err = c.SetupWebhook(ctx, Target{BatchID: b}, WebhookSetting{URL: "ftp://x"})
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "ftp://x") {
		t.Fatalf("bad url: %v", err)
	}

	// Bad targets never reach the server.
	before := emu.TotalCalls()
	for _, tg := range []Target{{}, {BatchID: b, WorkflowID: wf}} {
		if _, err := c.SetupWebhook(ctx, tg, WebhookSetting{URL: "https://x"}); err == nil {
			t.Fatalf("target %+v accepted", tg)
		}
		if err := c.ClearWebhook(ctx, tg); err == nil {
			t.Fatalf("clear target %+v accepted", tg)
		}
	}
	if emu.TotalCalls() != before {
		t.Fatal("a bad target reached the server")
	}
}

func TestWebhookLastCallAndLastErrorBodies(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	info, _ := emu.Batch(b)
	var answer atomic.Value
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, _ := answer.Load().([2]string)
		if a[0] != "" {
			w.Header().Set("Content-Type", a[0])
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(a[1]))
	}))
	defer recv.Close()
	c := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	if _, err := c.SetupWebhook(ctx, Target{BatchID: b}, WebhookSetting{URL: recv.URL}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ctype, body, want string }{
		{"application/json", `{"error": "bad", "n": [1, 2]}`, `{"error":"bad","n":[1,2]}`},
		{"application/json", `[1, "two"]`, `[1,"two"]`},
		{"application/json", `"just text"`, `just text`},
		{"application/json", `42`, `42`},
		{"text/plain", `plain words`, `plain words`},
	} {
		answer.Store([2]string{tc.ctype, tc.body})
		_ = emu.Deliver(ctx, b, "task-1", "annotation")
		w, err := c.GetWorkflow(ctx, info.WorkflowID)
		if err != nil {
			t.Fatal(err)
		}
		wh := w.Webhook
		if wh == nil || wh.LastCall == nil || wh.LastError == nil {
			t.Fatalf("after a failed delivery: %+v", wh)
		}
		if wh.LastCall.StatusCode != 400 || wh.LastCall.Date == "" || wh.LastError.StatusCode != 400 {
			t.Fatalf("lastCall %+v lastError %+v", wh.LastCall, wh.LastError)
		}
		if wh.LastError.Body != tc.want {
			t.Fatalf("receiver body %s: LastError.Body = %q, want %q", tc.body, wh.LastError.Body, tc.want)
		}
	}
}

func TestEndpointWithPathPrefix(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	mux := http.NewServeMux()
	mux.Handle("/prefix/", http.StripPrefix("/prefix", emu))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, ep := range []string{srv.URL + "/prefix", srv.URL + "/prefix/"} {
		c := newTestClient(t, ep, nil)
		if c.Endpoint() != srv.URL+"/prefix/" {
			t.Fatalf("Endpoint() = %q", c.Endpoint())
		}
		if _, err := c.GetBatch(context.Background(), b); err != nil {
			t.Fatalf("endpoint %q: %v", ep, err)
		}
	}
}

func TestUserAgentOnEveryRequest(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	var mu sync.Mutex
	agents := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.UserAgent()]++
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetupWebhook(context.Background(), Target{BatchID: b}, WebhookSetting{URL: "https://x"}); err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[testUA] != 3 {
		t.Fatalf("user agents seen: %v, want only %q on all 3 requests", agents, testUA)
	}
}

func TestAdaptiveRateUnderServerLimit(t *testing.T) {
	t.Parallel()
	// 16 workers against 200 requests/s: the pace must keep 429s rare
	// (each costs a 1 s Retry-After) and the run close to the floor.
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RateLimit: 200, Latency: 2 * time.Millisecond}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.MaxRetries, cfg.MaxConcurrency, cfg.RetryWaitMax = 10, 16, 2*time.Second
	})
	const total = 400
	var next atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= total {
				if _, err := c.GetBatch(context.Background(), b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := emu.Calls()
	st := c.Stats()
	t.Logf("%d calls in %v: %d 429s, rate now %.0f/s", total, elapsed, calls["429"], st.Rate)
	if calls["429"] > total/10 {
		t.Fatalf("%d 429s for %d calls: the client hammers the limit", calls["429"], total)
	}
	if st.Rate <= 0 || int64(calls["429"]) != st.RateLimited {
		t.Fatalf("stats %+v vs emulator 429s %d", st, calls["429"])
	}
	// Floor: (400 - burst 20) / 200 per s = 1.9 s; allow for a Retry-After.
	if elapsed > 5*time.Second {
		t.Fatalf("took %v, want close to the 1.9 s floor", elapsed)
	}
}
