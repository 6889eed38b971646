package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// inspect runs Inspect and checks that it wrote nothing.
func (e *env) inspect(t *testing.T, tg Target, want *Want) InspectResult {
	t.Helper()
	before := e.writes()
	res, err := Inspect(context.Background(), e.c, tg, want, opts)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if e.writes() != before {
		t.Fatalf("Inspect wrote: %v", e.emu.Calls())
	}
	return res
}

// With want given: a workflow holding another url, another header, or no
// webhook is out of step (with all its batches); with HeaderKnown false the
// header is not compared.
func TestInspectWantDrift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 5, 2) // s0, s1 share b0's workflow
	h := "tok"
	want := Want{URL: "https://x.example/h", Header: &h, HeaderKnown: true}
	e.set(t, want)
	e.emu.SetWebhook(e.wf(e.batches[1]), "https://other.example/", &h)        // another url
	e.emu.SetWebhook(e.wf(e.batches[2]), "https://x.example/h", ptr("other")) // another header
	e.emu.SetWebhook(e.wf(e.batches[3]), "https://x.example/h", nil)          // no header
	e.emu.ClearWebhook(e.wf(e.batches[4]))                                    // none

	e.emu.ResetCalls()
	res := e.inspect(t, Target{ProjectID: e.project}, &want)
	if c := e.emu.Calls(); c["W1"] != 5 {
		t.Fatalf("calls %v: want each workflow read once", c)
	}
	if fmt.Sprint(keys(res.InStep)) != fmt.Sprint([]string{e.wf(e.batches[0])}) {
		t.Fatalf("in step %v", keys(res.InStep))
	}
	if !sameSet(res.OutOfStep(), e.batches[1:5]) || res.Err() != nil {
		t.Fatalf("out of step %v, want %v (err %v)", res.OutOfStep(), e.batches[1:5], res.Err())
	}

	// The header unknown (write-only at refresh): the url decides.
	res = e.inspect(t, Target{ProjectID: e.project}, &Want{URL: want.URL, Header: nil, HeaderKnown: false})
	if !sameSet(res.OutOfStep(), []string{e.batches[1], e.batches[4]}) || len(res.InStep) != 3 {
		t.Fatalf("url-only: out of step %v in step %v", res.OutOfStep(), res.InStep)
	}

	// A header wanted "none" matches a server that holds "" for it.
	e.emu.SetWebhook(e.wf(e.batches[3]), "https://x.example/h", ptr(""))
	res = e.inspect(t, Target{WorkflowID: e.wf(e.batches[3])}, &Want{URL: want.URL, HeaderKnown: true})
	if len(res.InStep) != 1 {
		t.Fatal(`"" and null are both "no header"`)
	}
}

// With want nil (import), Inspect adopts the webhook the most batches hold,
// counting batches (not workflows), and the rest is out of step.
func TestInspectImportAdoptsMostHeldByBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 2) // b0's workflow has 3 batches: b0, s0, s1
	a, b := "https://z-most.example/h", "https://a-fewer.example/h"
	e.emu.SetWebhook(e.wf(e.batches[0]), a, ptr("tok-a"))
	e.emu.SetWebhook(e.wf(e.batches[1]), b, nil) // b is on 2 workflows,
	e.emu.SetWebhook(e.wf(e.batches[2]), b, nil) // 2 batches
	// batch 3: none

	res := e.inspect(t, Target{ProjectID: e.project}, nil)
	if res.Held == nil || res.Held.URL != a || res.Held.Header == nil || *res.Held.Header != "tok-a" {
		t.Fatalf("held %+v, want %s with its header", res.Held, a)
	}
	if fmt.Sprint(keys(res.InStep)) != fmt.Sprint([]string{e.wf(e.batches[0])}) {
		t.Fatalf("in step %v", keys(res.InStep))
	}
	if !sameSet(res.OutOfStep(), e.batches[1:4]) {
		t.Fatalf("out of step %v, want %v", res.OutOfStep(), e.batches[1:4])
	}
}

// Import tells webhooks apart by header as well as url.
func TestInspectImportComparesHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	u := "https://x.example/h"
	e.emu.SetWebhook(e.wf(e.batches[0]), u, ptr("one"))
	e.emu.SetWebhook(e.wf(e.batches[1]), u, ptr("two"))
	e.emu.SetWebhook(e.wf(e.batches[2]), u, ptr("two"))
	res := e.inspect(t, Target{ProjectID: e.project}, nil)
	if res.Held == nil || *res.Held.Header != "two" || fmt.Sprint(res.OutOfStep()) != fmt.Sprint([]string{e.batches[0]}) {
		t.Fatalf("held %+v out of step %v", res.Held, res.OutOfStep())
	}
}

// Import with no webhook anywhere: nothing held, every batch out of step.
func TestInspectImportNothingHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	res := e.inspect(t, Target{ProjectID: e.project}, nil)
	if res.Held != nil || len(res.InStep) != 0 || len(res.OutOfStep()) != 2 {
		t.Fatalf("held %+v in step %v", res.Held, res.InStep)
	}
}

// Import counts "" and null as the same "no header" (as Want.Holds does),
// so votes for one url are not split by how the server spells "none".
func TestInspectImportEmptyAndNullHeaderAreOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	most, fewer := "https://z-most.example/h", "https://a-fewer.example/h"
	e.emu.SetWebhook(e.wf(e.batches[0]), most, nil)
	e.emu.SetWebhook(e.wf(e.batches[1]), most, ptr(""))
	e.emu.SetWebhook(e.wf(e.batches[2]), fewer, nil)
	res := e.inspect(t, Target{ProjectID: e.project}, nil)
	if res.Held == nil || res.Held.URL != most || fmt.Sprint(res.OutOfStep()) != fmt.Sprint([]string{e.batches[2]}) {
		t.Fatalf("held %+v, out of step %v: want %s (2 batches of 3) adopted", res.Held, res.OutOfStep(), most)
	}
}

// A single batch or workflow: Held is its workflow's webhook, with or
// without want.
func TestInspectHeldForOneTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 1)
	u := "https://x.example/h"
	e.emu.SetWebhook(e.wf(e.batches[0]), u, ptr("tok"))
	for _, tg := range []Target{{ProjectID: e.project, BatchID: e.batches[2]}, {WorkflowID: e.wf(e.batches[0])}} {
		for _, want := range []*Want{nil, {URL: u, Header: ptr("tok"), HeaderKnown: true}} {
			t.Run(fmt.Sprintf("%v want %v", tg, want != nil), func(t *testing.T) {
				res := e.inspect(t, tg, want)
				if res.Held == nil || res.Held.URL != u || res.Held.Header == nil || *res.Held.Header != "tok" || res.Held.UpdatedAt == "" {
					t.Fatalf("held %+v", res.Held)
				}
				if !res.InStep[e.wf(e.batches[0])] || len(res.OutOfStep()) != 0 || res.UpdatedAt != res.Held.UpdatedAt {
					t.Fatalf("in step %v out of step %v facts %+v", res.InStep, res.OutOfStep(), res.Facts)
				}
			})
		}
	}
	t.Run("batch with no webhook", func(t *testing.T) {
		res := e.inspect(t, Target{ProjectID: e.project, BatchID: e.batches[1]}, nil)
		if res.Held != nil || len(res.InStep) != 0 || fmt.Sprint(res.OutOfStep()) != fmt.Sprint([]string{e.batches[1]}) {
			t.Fatalf("held %+v in step %v out of step %v", res.Held, res.InStep, res.OutOfStep())
		}
	})
}

// Gone and failed targets: a workflow target's 404 is ErrGone; a batch
// deleted and no longer listed is ErrGone; a 403 is a failure, not gone.
func TestInspectGoneAndFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	t.Run("workflow 404", func(t *testing.T) {
		_, err := Inspect(context.Background(), e.c, Target{WorkflowID: "6650c1f2a9b4999999999999"}, nil, opts)
		if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "6650c1f2a9b4999999999999") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("batch deleted", func(t *testing.T) {
		e.emu.DeleteBatch(e.batches[2])
		_, err := Inspect(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[2]}, nil, opts)
		if !errors.Is(err, ErrGone) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("project not listed", func(t *testing.T) {
		_, err := Inspect(context.Background(), e.c, Target{ProjectID: "6650c1f2a9b4999999999999"}, nil, opts)
		if err == nil || errors.Is(err, ErrGone) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("workflow 403", func(t *testing.T) {
		e.emu.Forbid(e.batches[1])
		res, err := Inspect(context.Background(), e.c, Target{WorkflowID: e.wf(e.batches[1])}, nil, opts)
		if err != nil || !errors.Is(res.Err(), client.ErrForbidden) || errors.Is(res.Err(), ErrGone) ||
			!strings.Contains(res.Err().Error(), "1 workflow(s) not read") {
			t.Fatalf("err %v, result err %v", err, res.Err())
		}
	})
	t.Run("workflow 404 under a batch or a project is not gone", func(t *testing.T) {
		e := newEnv(t, 3, 0)
		e.set(t, Want{URL: "https://x.example/h"})
		missing := e.wf(e.batches[0])
		e.srv.set(func(s *server) { s.workflow404[missing] = true })
		for _, tg := range []Target{{ProjectID: e.project}, {ProjectID: e.project, BatchID: e.batches[0]}} {
			res, err := Inspect(context.Background(), e.c, tg, &Want{URL: "https://x.example/h"}, opts)
			if err != nil || errors.Is(res.Err(), ErrGone) || !errors.Is(res.Err(), client.ErrNotFound) || res.Failed[missing] == nil {
				t.Fatalf("%v: err %v, result err %v", tg, err, res.Err())
			}
			if !strings.Contains(res.Err().Error(), e.batches[0]) || fmt.Sprint(res.OutOfStep()) != fmt.Sprint([]string{e.batches[0]}) {
				t.Fatalf("%v: err %v, out of step %v", tg, res.Err(), res.OutOfStep())
			}
		}
	})
	t.Run("project with a forbidden batch", func(t *testing.T) {
		res := e.inspect(t, Target{ProjectID: e.project}, &Want{URL: "https://x.example/h"})
		if !errors.Is(res.Err(), client.ErrForbidden) || !strings.Contains(res.Err().Error(), e.batches[1]) ||
			!sameSet(res.OutOfStep(), e.batches[:2]) {
			t.Fatalf("err %v out of step %v", res.Err(), res.OutOfStep())
		}
	})
}

// Cancellation: Inspect stops, returns the context's error, and the
// workflows it never read count out of step.
func TestInspectCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 6, 0)
	want := Want{URL: "https://x.example/h"}
	e.set(t, want)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reads atomic.Int32
	e.srv.set(func(s *server) {
		s.onRequest = func(r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, pathWorkflow) && reads.Add(1) == 2 {
				cancel()
			}
		}
	})
	res, err := Inspect(ctx, e.c, Target{ProjectID: e.project}, &want, Options{Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := reads.Load(); n != 2 || len(res.InStep) > 2 {
		t.Fatalf("%d workflow reads, in step %v: work went on after the cancellation", n, res.InStep)
	}
	if len(res.InStep)+len(res.OutOfStep()) != 6 {
		t.Fatalf("in step %v, out of step %v: every batch not read must be out of step", res.InStep, res.OutOfStep())
	}
}
