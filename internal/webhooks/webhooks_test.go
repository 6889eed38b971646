package webhooks

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

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

func TestTargetKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t       Target
		project bool
		str     string
	}{
		{Target{ProjectID: "p"}, true, "project p"},
		{Target{ProjectID: "p", BatchID: "b"}, false, "batch b of project p"},
		{Target{WorkflowID: "w"}, false, "workflow w"},
	} {
		if tc.t.Project() != tc.project || tc.t.String() != tc.str {
			t.Errorf("%#v: Project() %v String() %q", tc.t, tc.t.Project(), tc.t.String())
		}
	}
}

func TestWantHolds(t *testing.T) {
	t.Parallel()
	u := "https://x.example/h"
	for _, tc := range []struct {
		name string
		want Want
		w    *client.Webhook
		ok   bool
	}{
		{"nil webhook", Want{URL: u}, nil, false},
		{"same url, header unknown", Want{URL: u, Header: ptr("a")}, &client.Webhook{URL: u, Header: ptr("b")}, true},
		{"other url", Want{URL: u}, &client.Webhook{URL: u + "x"}, false},
		{"same header", Want{URL: u, Header: ptr("a"), HeaderKnown: true}, &client.Webhook{URL: u, Header: ptr("a")}, true},
		{"other header", Want{URL: u, Header: ptr("a"), HeaderKnown: true}, &client.Webhook{URL: u, Header: ptr("b")}, false},
		{"header missing", Want{URL: u, Header: ptr("a"), HeaderKnown: true}, &client.Webhook{URL: u}, false},
		{"header unwanted", Want{URL: u, HeaderKnown: true}, &client.Webhook{URL: u, Header: ptr("a")}, false},
		{`null wanted, "" held`, Want{URL: u, HeaderKnown: true}, &client.Webhook{URL: u, Header: ptr("")}, true},
		{`"" wanted, null held`, Want{URL: u, Header: ptr(""), HeaderKnown: true}, &client.Webhook{URL: u}, true},
	} {
		if got := tc.want.Holds(tc.w); got != tc.ok {
			t.Errorf("%s: Holds = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestLaterOrdersTimestamps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b  string
		later bool
	}{
		{"2024-12-17T15:23:21.433Z", "2024-12-17T15:10:37.619Z", true},
		{"2024-12-17T15:10:37.619Z", "2024-12-17T15:23:21.433Z", false},
		{"2024-12-17T15:10:37.619Z", "2024-12-17T15:10:37.619Z", false},
		{"2024-12-17T15:10:37.620Z", "2024-12-17T15:10:37.619Z", true},      // milliseconds count
		{"2024-12-17T16:10:00.000+01:00", "2024-12-17T15:09:59.999Z", true}, // offsets count
		{"2024-12-17T15:10:00Z", "2024-12-17T15:10:00.001Z", false},
		{"", "2024-01-01T00:00:00Z", false},
		{"2024-01-01T00:00:00Z", "", true},
		{"", "", false},
		{"garbage", "2024-01-01T00:00:00Z", false},
		{"2024-01-01T00:00:00Z", "garbage", true},
	} {
		if got := Later(tc.a, tc.b); got != tc.later {
			t.Errorf("Later(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.later)
		}
	}
}

func TestFirstFew(t *testing.T) {
	t.Parallel()
	ids := []string{"g", "c", "a", "f", "b", "e", "d"}
	if got := FirstFew(ids, 5); got != "[a b c d e] and 2 more" {
		t.Fatalf("FirstFew = %q", got)
	}
	if got := FirstFew(ids[:5], 5); got != "[a b c f g]" {
		t.Fatalf("FirstFew = %q", got)
	}
	if ids[0] != "g" {
		t.Fatal("FirstFew sorted its argument in place")
	}
}

// Facts keep the most recent updatedAt and lastCall across workflows, and
// the lastError of the workflow called most recently, whatever the order
// the workflows are read in; a nil webhook changes nothing; the result does
// not alias the webhooks observed.
func TestFactsObserve(t *testing.T) {
	t.Parallel()
	hooks := []*client.Webhook{
		{URL: "u", UpdatedAt: "2024-12-17T15:00:00.000Z",
			LastCall:  &client.Call{StatusCode: 500, Message: "old", Date: "2024-12-17T15:05:00.000Z"},
			LastError: &client.CallError{StatusCode: 500, Message: "old error"}},
		{URL: "u", UpdatedAt: "2024-12-17T15:30:00.000Z"}, // never called
		{URL: "u", UpdatedAt: "2024-12-17T15:10:00.000Z",
			LastCall:  &client.Call{StatusCode: 400, Message: "Bad Request", Date: "2024-12-17T15:20:00.000Z"},
			LastError: &client.CallError{StatusCode: 400, Message: "recent error", Body: `{"why":"x"}`}},
		{URL: "u", UpdatedAt: "2024-12-17T15:01:00.000Z",
			LastCall: &client.Call{StatusCode: 200, Message: "OK", Date: "2024-12-17T15:25:00.000Z"}},
		nil,
	}
	perms := [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 3, 1}, {3, 2, 1, 0, 4}, {1, 4, 0, 2, 3}}
	for _, p := range perms {
		var f Facts
		for _, i := range p {
			f.observe(hooks[i])
		}
		if f.UpdatedAt != "2024-12-17T15:30:00.000Z" {
			t.Errorf("order %v: UpdatedAt %q", p, f.UpdatedAt)
		}
		if f.LastCall == nil || f.LastCall.Message != "OK" || f.LastCall.Date != "2024-12-17T15:25:00.000Z" {
			t.Errorf("order %v: LastCall %+v", p, f.LastCall)
		}
		if f.LastError == nil || f.LastError.Message != "recent error" || f.LastError.Body != `{"why":"x"}` {
			t.Errorf("order %v: LastError %+v", p, f.LastError)
		}
		if f.LastCall == hooks[3].LastCall || f.LastError == hooks[2].LastError {
			t.Errorf("order %v: facts alias the webhooks read", p)
		}
	}
	var f Facts
	f.observe(nil)
	if f != (Facts{}) {
		t.Fatalf("nil webhook changed the facts: %+v", f)
	}
}

// End to end: deliveries recorded by the emulator on several workflows end
// up as the facts Inspect reports.
func TestFactsFromDeliveries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	fail := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code := fail[r.URL.Path]
		mu.Unlock()
		if code == 0 {
			code = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	t.Cleanup(recv.Close)
	setFail := func(path string, code int) {
		mu.Lock()
		fail[path] = code
		mu.Unlock()
	}

	e := newEnv(t, 3, 0)
	for i, b := range e.batches {
		e.emu.SetWebhook(e.wf(b), fmt.Sprintf("%s/b%d", recv.URL, i), nil)
	}
	deliver := func(i int) {
		time.Sleep(3 * time.Millisecond) // distinct millisecond dates
		_ = e.emu.Deliver(context.Background(), e.batches[i], "task", "annotation")
	}
	setFail("/b0", 502)
	deliver(0) // b0: error, oldest
	setFail("/b1", 418)
	deliver(1) // b1: error, called after b0
	deliver(2) // b2: success, the last call
	time.Sleep(3 * time.Millisecond)
	e.emu.SetWebhook(e.wf(e.batches[0]), recv.URL+"/b0", nil) // the latest update

	res := e.inspect(t, Target{ProjectID: e.project}, nil)
	b0, _ := e.hook(e.batches[0])
	b2, _ := e.hook(e.batches[2])
	if got, want := res.UpdatedAt, b0.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"); got != want {
		t.Errorf("UpdatedAt %q, want %q", got, want)
	}
	if res.LastCall == nil || res.LastCall.StatusCode != 200 || !strings.HasPrefix(res.LastCall.Date, b2.LastCall.Date.UTC().Format("2006-01-02T15:04:05")) {
		t.Errorf("LastCall %+v, want b2's %+v", res.LastCall, b2.LastCall)
	}
	if res.LastError == nil || res.LastError.StatusCode != 418 || !strings.Contains(res.LastError.Body, "/b1") {
		t.Errorf("LastError %+v, want b1's (418)", res.LastError)
	}

	// Set reports the facts too (lastCall and lastError survive a set).
	sres := e.set(t, Want{URL: recv.URL + "/new"})
	if sres.LastCall == nil || sres.LastCall.StatusCode != 200 || sres.LastError == nil || sres.LastError.StatusCode != 418 || sres.UpdatedAt == "" {
		t.Errorf("Set facts %+v", sres.Facts)
	}
}

// Each runs every index exactly once on at most workers goroutines.
func TestEachRunsEveryIndexOnceBounded(t *testing.T) {
	t.Parallel()
	const n, workers = 200, 4
	var seen [n]atomic.Int32
	var inFlight, peak atomic.Int32
	err := Each(context.Background(), workers, n, func(_ context.Context, i int) {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(50 * time.Microsecond)
		seen[i].Add(1)
		inFlight.Add(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("index %d ran %d times", i, seen[i].Load())
		}
	}
	if p := peak.Load(); p > workers || p < 2 {
		t.Fatalf("peak concurrency %d, want 2..%d", p, workers)
	}
	ran := false
	if err := Each(context.Background(), 0, 0, func(context.Context, int) { ran = true }); err != nil || ran {
		t.Fatal("Each with no work ran something")
	}
	if err := Each(context.Background(), 0, 3, func(context.Context, int) {}); err != nil {
		t.Fatal("Each with workers 0 must still run (one worker)")
	}
}

// Cancellation stops Each handing out work; it waits for the work in hand
// and returns the context's error.
func TestEachStopsOnCancellation(t *testing.T) {
	t.Parallel()
	const workers = 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started, finished atomic.Int32
	err := Each(ctx, workers, 10000, func(ctx context.Context, i int) {
		if started.Add(1) == 10 {
			cancel()
		}
		time.Sleep(100 * time.Microsecond)
		finished.Add(1)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if s := started.Load(); s < 10 || s > 10+workers-1 {
		t.Fatalf("%d started: work went on after the cancellation", s)
	}
	if started.Load() != finished.Load() {
		t.Fatal("Each returned before the work in hand finished")
	}

	ran := false
	if err := Each(ctx, workers, 5, func(context.Context, int) { ran = true }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("already cancelled: err %v, ran %v", err, ran)
	}
}
