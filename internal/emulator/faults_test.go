package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestRateLimit429WithRetryAfter(t *testing.T) {
	t.Parallel()
	// 0.2 requests/s: burst 1, the next token frees 5 s after the first call.
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{RateLimit: 0.2}})
	a.login() // login counts against the limit too
	status, h, b := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil)
	if status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", status)
	}
	ra, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || ra < 4 || ra > 5 {
		t.Fatalf("Retry-After %q, want 5 (whole seconds until a token frees)", h.Get("Retry-After"))
	}
	if string(b) != `{"statusCode":429,"message":"Too Many Requests"}` {
		t.Fatalf("body %s", b)
	}
	if c := a.e.Calls(); c["429"] != 1 || c["P1"] != 1 || c["A1"] != 1 || a.e.TotalCalls() != 2 {
		t.Fatalf("calls %v total %d", c, a.e.TotalCalls())
	}
}

func TestRateLimitBurstAndRefill(t *testing.T) {
	// Not parallel: twelve calls must fit in 180 ms for the refill count, too tight
	// beside other tests.
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{RateLimit: 50}}) // burst 5, a token per 20 ms
	a.e.AddProject("p")
	a.login()
	a.e.SetFaults(emulator.Faults{RateLimit: 50}) // full bucket again
	// count sends n calls; slack is how many tokens may have refilled meanwhile (one per 20 ms).
	count := func(n int) (ok, limited, slack int) {
		start := time.Now()
		for range n {
			status, h, _ := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil)
			switch status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				if h.Get("Retry-After") != "1" {
					t.Fatalf("Retry-After %q, want 1 (at least one second)", h.Get("Retry-After"))
				}
				limited++
			}
		}
		return ok, limited, int(time.Since(start).Seconds()*50) + 1
	}
	ok, limited, slack := count(20)
	if ok < 5 || ok > 5+slack || ok+limited != 20 {
		t.Fatalf("burst: %d ok, %d limited; want 5 ok (+%d refilled)", ok, limited, slack)
	}
	time.Sleep(300 * time.Millisecond) // 15 tokens' worth, capped at the burst of 5
	if ok, _, slack := count(12); ok < 5 || ok > 5+slack || slack >= 10 {
		t.Fatalf("after refill: %d ok; want 5 (burst cap) +%d refilled", ok, slack)
	}
	a.e.SetFaults(emulator.Faults{})
	if ok, _, _ := count(20); ok != 20 {
		t.Fatalf("unlimited: %d ok", ok)
	}
}

func TestFailRate(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{Seed: 7})
	a.login()
	a.e.SetFaults(emulator.Faults{FailRate: 1})
	seen := map[int]int{}
	for range 30 {
		status, h, b := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil)
		seen[status]++
		switch status {
		case http.StatusServiceUnavailable:
			if h.Get("Retry-After") != "1" {
				t.Fatalf("503 Retry-After %q, want 1", h.Get("Retry-After"))
			}
		case http.StatusInternalServerError:
		default:
			t.Fatalf("FailRate 1: status %d %s", status, b)
		}
		errMessage(t, b)
	}
	if seen[500] == 0 || seen[503] == 0 {
		t.Fatalf("want both 500 and 503: %v", seen)
	}
	if c := a.e.Calls(); c["5xx"] != 30 || c["P1"] != 30 {
		t.Fatalf("calls %v", c)
	}

	a.e.SetFaults(emulator.Faults{FailRate: 0.3})
	fails := 0
	for range 200 {
		if status, _, _ := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil); status >= 500 {
			fails++
		}
	}
	if fails < 35 || fails > 85 {
		t.Fatalf("FailRate 0.3: %d of 200 failed", fails)
	}
}

func TestFaultsAreSeeded(t *testing.T) {
	t.Parallel()
	run := func() string {
		a := newAPI(t, emulator.Options{Seed: 42})
		a.login()
		a.e.SetFaults(emulator.Faults{FailRate: 0.5})
		var sb strings.Builder
		for range 40 {
			status, _, _ := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil)
			sb.WriteString(strconv.Itoa(status) + " ")
		}
		return sb.String()
	}
	if x, y := run(), run(); x != y {
		t.Fatalf("same seed, different faults:\n%s\n%s", x, y)
	}
}

func TestDropRateClosesConnection(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{RecordRequests: true})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	a.login()
	a.e.SetFaults(emulator.Faults{DropRate: 1})
	for range 3 {
		req, _ := http.NewRequest(http.MethodPatch, a.base()+"api/workflow-manager/workflows/setup-webhook?batchId="+b, strings.NewReader(`{"url":"https://x/","header":null}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.token)
		resp, err := a.hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			t.Fatalf("dropped request got an answer: %d", resp.StatusCode)
		}
	}
	if _, ok := a.e.Webhook(info.WorkflowID); ok {
		t.Fatal("a dropped request was processed")
	}
	if c := a.e.Calls(); c["dropped"] != 3 || c["W3"] != 3 {
		t.Fatalf("calls %v", c)
	}
	for _, r := range a.e.Requests()[1:] {
		if r.Status != 0 || r.Endpoint != "W3" {
			t.Fatalf("request log entry %+v, want W3 with status 0", r)
		}
	}
	// Admin routes are never faulted nor counted.
	resp, err := a.hc.Get(a.base() + "_emulator/calls")
	if err != nil {
		t.Fatalf("admin route faulted: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || a.e.TotalCalls() != 4 {
		t.Fatalf("admin: %d, total %d", resp.StatusCode, a.e.TotalCalls())
	}
}

func TestLatencyAndInFlight(t *testing.T) {
	// Not parallel: six calls must all be in flight at once within a 100 ms latency,
	// too tight beside other tests.
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{Latency: 100 * time.Millisecond}})
	a.e.AddProject("p")
	a.login()
	a.e.ResetCalls()
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, a.base()+"api/project-manager/projects?pagination=true", nil)
			req.Header.Set("Authorization", "Bearer "+a.token)
			resp, err := a.hc.Do(req)
			if err == nil {
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if el := time.Since(start); el < 100*time.Millisecond || el > 900*time.Millisecond {
		t.Fatalf("6 concurrent calls at 100 ms latency took %s", el)
	}
	if got := a.e.MaxInFlight(); got != 6 {
		t.Fatalf("MaxInFlight %d, want 6", got)
	}
	if a.e.TotalCalls() != 6 || a.e.Calls()["P1"] != 6 {
		t.Fatalf("calls %v", a.e.Calls())
	}
	a.e.ResetCalls()
	if a.e.MaxInFlight() != 0 || a.e.TotalCalls() != 0 || len(a.e.Calls()) != 0 {
		t.Fatalf("after ResetCalls: %d %d %v", a.e.MaxInFlight(), a.e.TotalCalls(), a.e.Calls())
	}
}

func TestLatencyHonoursClientCancel(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{RecordRequests: true, Faults: emulator.Faults{Latency: 5 * time.Second}})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.base()+"api/project-manager/projects", nil)
	start := time.Now()
	_, err := a.hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	// The handler notices the client leaving and ends its sleep (logged with status 0).
	for len(a.e.Requests()) == 0 {
		if time.Since(start) > 2*time.Second {
			t.Fatal("handler still sleeping after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := a.e.Requests()[0]; r.Status != 0 || r.Endpoint != "P1" || r.Path != "/api/project-manager/projects" {
		t.Fatalf("log %+v", r)
	}
}

func TestThrottleRate(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{Seed: 3})
	a.login()
	a.e.SetFaults(emulator.Faults{ThrottleRate: 1})
	status, h, b := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "1" {
		t.Fatalf("ThrottleRate 1: status %d Retry-After %q", status, h.Get("Retry-After"))
	}
	errMessage(t, b)

	a.e.SetFaults(emulator.Faults{ThrottleRate: 0.25})
	throttled := 0
	for range 200 {
		if status, _, _ := a.do(http.MethodGet, "api/project-manager/projects?pagination=true", nil); status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 30 || throttled > 75 {
		t.Fatalf("ThrottleRate 0.25: %d of 200 throttled", throttled)
	}
	if c := a.e.Calls(); c["429"] != throttled+1 {
		t.Fatalf("429 counter %d, want %d", c["429"], throttled+1)
	}
}
