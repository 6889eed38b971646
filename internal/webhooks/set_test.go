package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// Project scope: every distinct workflow is set once (a workflow shared by
// several batches gets one W2), by workflow id, and the server then holds
// the webhook on every batch.
func TestSetProjectSetsEachWorkflowOnce(t *testing.T) {
	t.Parallel()
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("list omits workflow %v", omit), func(t *testing.T) {
			e := newEnv(t, 5, 3) // 8 batches, 5 workflows
			e.emu.SetListOmitsWorkflow(omit)
			e.emu.ResetCalls()
			h := "tok"
			want := Want{URL: "https://x.example/h", Header: &h}
			res := e.set(t, want)

			calls := e.emu.Calls()
			if calls["W2"] != 5 || calls["W3"] != 0 {
				t.Fatalf("calls %v: want one W2 per workflow (5) and no W3", calls)
			}
			if calls["W1"] != 0 {
				t.Fatalf("calls %v: the emulator's answer is the stored webhook, no read-back needed", calls)
			}
			if wantB1 := map[bool]int{false: 0, true: 8}[omit]; calls["B1"] != wantB1 {
				t.Fatalf("calls %v: want %d batch reads", calls, wantB1)
			}
			for wf, n := range e.srv.setupByWF {
				if n != 1 {
					t.Fatalf("workflow %s set %d times", wf, n)
				}
			}
			if res.Sent != 5 || len(res.InStep) != 5 || len(res.Workflows) != 5 || len(res.Batches) != 8 {
				t.Fatalf("sent %d, in step %v, workflows %v, batches %v", res.Sent, res.InStep, res.Workflows, res.Batches)
			}
			for _, b := range e.batches {
				if res.Batches[b] != e.wf(b) {
					t.Fatalf("batch %s covered with workflow %q, want %q", b, res.Batches[b], e.wf(b))
				}
				if !res.InStep[e.wf(b)] {
					t.Fatalf("workflow of batch %s not in step", b)
				}
				got, ok := e.hook(b)
				if !ok || got.URL != want.URL || got.Header == nil || *got.Header != h {
					t.Fatalf("batch %s holds %+v", b, got)
				}
			}
			if len(res.OutOfStep()) != 0 || len(res.Failed) != 0 || len(res.Rewritten) != 0 {
				t.Fatalf("out of step %v failed %v rewritten %v", res.OutOfStep(), res.Failed, res.Rewritten)
			}
			if res.UpdatedAt == "" {
				t.Fatal("Facts.UpdatedAt empty after a set")
			}
		})
	}
}

// A header-less want sends "header": null, and the server ends with no header.
func TestSetWithoutHeaderSendsNull(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	e.emu.SetWebhook(e.wf(e.batches[0]), "https://old.example/", ptr("old"))
	res := e.set(t, Want{URL: "https://x.example/h"})
	if got, _ := e.hook(e.batches[0]); got.URL != "https://x.example/h" || got.Header != nil {
		t.Fatalf("holds %+v", got)
	}
	if len(res.InStep) != 1 || !strings.Contains(e.srv.setupBodies[0], `"header":null`) {
		t.Fatalf("in step %v, body %s", res.InStep, e.srv.setupBodies[0])
	}
}

// known skips workflows (no call for them) and counts them in step; a batch
// created later on a new workflow is still set.
func TestSetKnownSkipsWorkflows(t *testing.T) {
	t.Parallel()
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("list omits workflow %v", omit), func(t *testing.T) {
			e := newEnv(t, 4, 1)
			e.emu.SetListOmitsWorkflow(omit)
			want := Want{URL: "https://x.example/h"}
			first := e.set(t, want)
			late := e.emu.AddBatch(e.project, "late")
			e.emu.ResetCalls()
			e.srv.set(func(s *server) { s.setupByWF = map[string]int{} })

			var asked []string
			res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, want, func(id string) bool {
				asked = append(asked, id) // Concurrency 1 below: no race
				return first.InStep[id]
			}, Options{Concurrency: 1})
			if err != nil || res.Err() != nil {
				t.Fatal(err, res.Err())
			}
			if c := e.emu.Calls(); c["W2"] != 1 || c["W3"] != 0 || c["W1"] != 0 || e.srv.setupByWF[e.wf(late)] != 1 {
				t.Fatalf("calls %v, sets %v: want only the late batch's workflow set", c, e.srv.setupByWF)
			}
			if e.url(late) != want.URL {
				t.Fatal("late batch not set")
			}
			if res.Sent != 1 || len(res.InStep) != 5 || len(res.OutOfStep()) != 0 || len(asked) != 5 {
				t.Fatalf("sent %d, in step %v, asked %v", res.Sent, res.InStep, asked)
			}
		})
	}
}

// The setup answer proves what the server holds only when it carries a
// stored webhook's updatedAt; otherwise each workflow is read back (W1).
func TestSetVerifiesPerSetupAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode     emulator.SetupAnswer
		readBack bool
	}{
		{emulator.SetupAnswerStored, false},
		{emulator.SetupAnswerEcho, true},  // url and header, but no updatedAt
		{emulator.SetupAnswerEmpty, true}, // nothing
		{emulator.SetupAnswerNoContent, true},
		{emulator.SetupAnswerBefore, true},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := newEnv(t, 3, 2)
			// Something else before: the document from before the call
			// proves nothing about the new webhook.
			for _, b := range e.batches[:3] {
				e.emu.SetWebhook(e.wf(b), "https://old.example/", ptr("old"))
			}
			e.setAnswer(t, tc.mode)
			e.emu.ResetCalls()
			h := "new"
			res := e.set(t, Want{URL: "https://x.example/h", Header: &h})
			wantW1 := map[bool]int{false: 0, true: 3}[tc.readBack]
			if c := e.emu.Calls(); c["W1"] != wantW1 || c["W2"] != 3 {
				t.Fatalf("calls %v: want %d read-backs", c, wantW1)
			}
			if len(res.InStep) != 3 || len(res.Rewritten) != 0 || res.Sent != 3 {
				t.Fatalf("in step %v rewritten %v", res.InStep, res.Rewritten)
			}
			// The facts are the server's, not the old document's.
			latest := ""
			for _, b := range e.batches {
				got, _ := e.hook(b)
				if ts := got.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z"); Later(ts, latest) {
					latest = ts
				}
			}
			if res.UpdatedAt != latest {
				t.Fatalf("UpdatedAt %q, server's latest %q", res.UpdatedAt, latest)
			}
		})
	}
}

// A "before" answer whose header differs is no proof either.
func TestSetBeforeAnswerWithOtherHeaderIsReadBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	e.emu.SetWebhook(e.wf(e.batches[0]), "https://x.example/h", ptr("old"))
	e.setAnswer(t, emulator.SetupAnswerBefore)
	e.emu.ResetCalls()
	res := e.set(t, Want{URL: "https://x.example/h", Header: ptr("new")})
	if c := e.emu.Calls(); c["W1"] != 1 {
		t.Fatalf("calls %v: an old document with another header must be read back", c)
	}
	if got, _ := e.hook(e.batches[0]); len(res.InStep) != 1 || *got.Header != "new" {
		t.Fatalf("in step %v, holds %+v", res.InStep, got)
	}
}

// A "before" answer that already held exactly the wanted webhook (url,
// header and a stored updatedAt) is taken as proof, as proves() documents:
// if it held want before a set of want, it holds want after.
func TestSetBeforeAnswerHoldingWantIsProof(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	want := Want{URL: "https://x.example/h", Header: ptr("tok")}
	e.set(t, want)
	e.setAnswer(t, emulator.SetupAnswerBefore)
	e.emu.ResetCalls()
	res := e.set(t, want)
	if c := e.emu.Calls(); c["W1"] != 0 || c["W2"] != 2 || len(res.InStep) != 2 {
		t.Fatalf("calls %v in step %v", c, res.InStep)
	}
}

// A server that stores another url than was sent ends in Rewritten, and
// Err() says so, whatever it answers; a proof-less answer (echo, empty,
// before) must not hide it.
func TestSetDetectsRewrittenURL(t *testing.T) {
	t.Parallel()
	for _, mode := range emulator.SetupAnswers {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, 3, 1)
			e.setAnswer(t, mode)
			e.srv.set(func(s *server) { s.rewriteURL = "https://rewritten.example/h" })
			res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h"}, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rewritten) != 3 || len(res.InStep) != 0 || len(res.Failed) != 0 {
				t.Fatalf("rewritten %v in step %v failed %v", res.Rewritten, res.InStep, res.Failed)
			}
			for w, u := range res.Rewritten {
				if u != "https://rewritten.example/h" {
					t.Fatalf("workflow %s rewritten to %q", w, u)
				}
			}
			if !sameSet(res.OutOfStep(), e.batches) {
				t.Fatalf("out of step %v, want every batch", res.OutOfStep())
			}
			msg := fmt.Sprint(res.Err())
			if !strings.Contains(msg, "rewritten.example") || !strings.Contains(msg, "3 workflow(s)") || !strings.Contains(msg, "rewrite") {
				t.Fatalf("Err() = %q: should name the url held and the count", msg)
			}
		})
	}
}

// A server that drops the header holds another webhook than was sent too.
func TestSetDetectsDroppedHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	e.setAnswer(t, emulator.SetupAnswerEcho)
	e.srv.set(func(s *server) { s.dropHeader = true })
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h", Header: ptr("tok")}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rewritten) != 2 || res.Err() == nil || len(res.OutOfStep()) != 2 {
		t.Fatalf("rewritten %v err %v", res.Rewritten, res.Err())
	}
}

// A workflow target sets by workflow id (W2), with no batch or project call;
// a batch target sets by batch id (W3), as the SDK does, and covers the
// batch only (a batch sharing its workflow follows, on the server).
func TestSetTargets(t *testing.T) {
	t.Parallel()
	t.Run("workflow", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		wf := e.wf(e.batches[1])
		e.emu.ResetCalls()
		res, err := Set(context.Background(), e.c, Target{WorkflowID: wf}, Want{URL: "https://x.example/h"}, nil, opts)
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
		c := e.emu.Calls()
		if c["W2"] != 1 || c["W3"] != 0 || c["B1"]+c["B2"]+c["P1"] != 0 {
			t.Fatalf("calls %v", c)
		}
		if e.url(e.batches[1]) != "https://x.example/h" || e.url(e.batches[0]) != "" || !res.InStep[wf] {
			t.Fatalf("server or result wrong: %v", res.InStep)
		}
	})
	t.Run("batch", func(t *testing.T) {
		e := newEnv(t, 2, 1) // s0 shares b0's workflow
		e.emu.ResetCalls()
		res, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[0]}, Want{URL: "https://x.example/h"}, nil, opts)
		if err != nil || res.Err() != nil {
			t.Fatal(err, res.Err())
		}
		c := e.emu.Calls()
		if c["W3"] != 1 || c["W2"] != 0 || c["B1"] != 1 {
			t.Fatalf("calls %v: want one B1 and one W3", c)
		}
		if len(res.Batches) != 1 || res.Batches[e.batches[0]] != e.wf(e.batches[0]) || !res.InStep[e.wf(e.batches[0])] {
			t.Fatalf("coverage %+v in step %v", res.Coverage, res.InStep)
		}
		if e.url(e.batches[0]) != "https://x.example/h" || e.url(e.batches[2]) != "https://x.example/h" || e.url(e.batches[1]) != "" {
			t.Fatal("server holds the wrong webhooks")
		}
	})
}

// Errors of a batch target.
func TestSetBatchTargetErrors(t *testing.T) {
	t.Parallel()
	want := Want{URL: "https://x.example/h"}
	t.Run("batch of another project", func(t *testing.T) {
		e := newEnv(t, 1, 0)
		other := e.emu.AddProject("other")
		theirs := e.emu.AddBatch(other, "theirs")
		e.emu.ResetCalls()
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: theirs}, want, nil, opts)
		if err == nil || errors.Is(err, ErrGone) || errors.Is(err, ErrNoWorkflow) || !strings.Contains(err.Error(), other) {
			t.Fatalf("err %v: want an error naming the batch's project", err)
		}
		if e.writes() != 0 || e.url(theirs) != "" {
			t.Fatal("the other project's batch was set")
		}
	})
	t.Run("batch without workflow", func(t *testing.T) {
		e := newEnv(t, 1, 0)
		nowf := e.addBatchWithoutWorkflow("nowf")
		e.emu.ResetCalls()
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: nowf}, want, nil, opts)
		if !errors.Is(err, ErrNoWorkflow) || errors.Is(err, ErrGone) || !strings.Contains(err.Error(), nowf) {
			t.Fatalf("err %v: want ErrNoWorkflow naming the batch", err)
		}
		if e.writes() != 0 || e.srv.setup400 != 0 {
			t.Fatal("a batch without workflow was sent to setup-webhook")
		}
	})
	t.Run("404 for a batch the project still lists", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		e.srv.set(func(s *server) { s.batch404[e.batches[1]] = true })
		e.emu.ResetCalls()
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[1]}, want, nil, opts)
		if err == nil || errors.Is(err, ErrGone) || !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("err %v: a listed batch is not gone", err)
		}
		if c := e.emu.Calls(); c["B2"] == 0 || e.writes() != 0 {
			t.Fatalf("calls %v: want the list checked and nothing set", c)
		}
	})
	t.Run("404 for a batch the project no longer lists", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		e.emu.DeleteBatch(e.batches[1])
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[1]}, want, nil, opts)
		if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), e.batches[1]) {
			t.Fatalf("err %v: want ErrGone naming the batch", err)
		}
		if e.writes() != 0 {
			t.Fatal("set on a gone batch")
		}
	})
	t.Run("403 on the batch is not gone", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		e.emu.Forbid(e.batches[1])
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[1]}, want, nil, opts)
		if errors.Is(err, ErrGone) || !errors.Is(err, client.ErrForbidden) {
			t.Fatalf("err %v", err)
		}
	})
}

// Errors of a project target: a 404 is gone; a project the list leaves out,
// or a 403, is not.
func TestSetProjectTargetErrors(t *testing.T) {
	t.Parallel()
	want := Want{URL: "https://x.example/h"}
	t.Run("404", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		e.srv.set(func(s *server) { s.project404 = true })
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, want, nil, opts)
		if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), e.project) || e.writes() != 0 {
			t.Fatalf("err %v: want ErrGone naming the project, nothing set", err)
		}
	})
	t.Run("not listed", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		missing := "6650c1f2a9b4999999999999"
		_, err := Set(context.Background(), e.c, Target{ProjectID: missing}, want, nil, opts)
		var nl *client.ProjectNotListedError
		if err == nil || errors.Is(err, ErrGone) || !errors.As(err, &nl) || nl.ID != missing {
			t.Fatalf("err %v: a project missing from the list is not gone", err)
		}
	})
	t.Run("403", func(t *testing.T) {
		e := newEnv(t, 2, 0)
		e.emu.Forbid(e.project)
		_, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, want, nil, opts)
		if errors.Is(err, ErrGone) || !errors.Is(err, client.ErrForbidden) || e.writes() != 0 {
			t.Fatalf("err %v", err)
		}
	})
}

// Failures are named by their batches: the first five, sorted, and how many
// more; the batches that succeeded keep the webhook; Sent counts the calls
// the server may have acted on (not those it refused with a 4xx).
func TestSetFailuresNameBatchesAndCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 9, 0)
	for _, b := range e.batches[1:8] {
		e.emu.Forbid(b) // its workflow too: W2 answers 403
	}
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h"}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A 403 is the server's definite no: it acted on none of those calls.
	if res.Sent != 2 || len(res.Failed) != 7 || len(res.InStep) != 2 {
		t.Fatalf("sent %d failed %v in step %v", res.Sent, res.Failed, res.InStep)
	}
	ferr := res.Err()
	if !errors.Is(ferr, client.ErrForbidden) {
		t.Fatalf("Err() %v should wrap the first failure", ferr)
	}
	msg := ferr.Error()
	first5 := fmt.Sprint(sorted(e.batches[1:8])[:5])
	if !strings.Contains(msg, "7 batch(es) not set") || !strings.Contains(msg, first5+" and 2 more") {
		t.Fatalf("Err() = %q: should name %s and count the 2 more", msg, first5)
	}
	if !sameSet(res.OutOfStep(), e.batches[1:8]) {
		t.Fatalf("out of step %v", res.OutOfStep())
	}
	if e.url(e.batches[0]) == "" || e.url(e.batches[8]) == "" {
		t.Fatal("the allowed batches must stay set")
	}
}

// A url the server refuses (400) fails every workflow; nothing counts as
// sent, since the server acted on none of the calls.
func TestSetRefusedURLIsNotSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "ftp://x.example/h"}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 0 || len(res.Failed) != 3 || !errors.Is(res.Err(), client.ErrBadRequest) || !sameSet(res.OutOfStep(), e.batches) {
		t.Fatalf("sent %d failed %v err %v", res.Sent, res.Failed, res.Err())
	}
}

// A 5xx on setup-webhook is a failure of that workflow (after retries); the
// others are set.
func TestSetServerErrorIsFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 1)
	bad := e.wf(e.batches[0]) // shared by batches 0 and 3
	e.srv.set(func(s *server) { s.patch500[bad] = true })
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h"}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[bad] == nil || res.Sent != 3 || e.srv.setupByWF[bad] != 3 {
		t.Fatalf("failed %v sent %d sets %v: want one failed workflow, tried 1+2 retries, counted as sent (a 5xx may have acted)", res.Failed, res.Sent, e.srv.setupByWF)
	}
	if !sameSet(res.OutOfStep(), []string{e.batches[0], e.batches[3]}) || !strings.Contains(fmt.Sprint(res.Err()), "2 batch(es) not set") {
		t.Fatalf("out of step %v, err %v", res.OutOfStep(), res.Err())
	}
}

// The pool is bounded: no more calls in flight than Options.Concurrency.
func TestSetBoundedConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 24, 0)
	e.emu.SetFaults(emulator.Faults{Latency: 3 * time.Millisecond})
	e.emu.ResetCalls()
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h"}, nil, Options{Concurrency: 3})
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if n := e.emu.MaxInFlight(); n > 3 || n < 2 {
		t.Fatalf("max in flight %d, want 2..3", n)
	}
}

// Cancellation: Set stops, returns the context's error, and its result
// claims nothing it did not do: every covered batch not listed out of step
// holds the webhook on the server.
func TestSetCancelledResultClaimsNothingUndone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	res, err := Set(ctx, e.c, Target{ProjectID: e.project}, Want{URL: "https://x.example/h"}, func(string) bool {
		n++ // Concurrency 1: no race
		if n == 3 {
			cancel()
		}
		return false
	}, Options{Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n != 3 || e.writes() > 3 {
		t.Fatalf("asked %d workflows, %d sets: work went on after the cancellation", n, e.writes())
	}
	if len(res.Batches) != 10 {
		t.Fatalf("the partial result lost its coverage: %v", res.Batches)
	}
	out := map[string]bool{}
	for _, b := range res.OutOfStep() {
		out[b] = true
	}
	for _, b := range e.batches {
		if !out[b] && e.url(b) == "" {
			t.Errorf("batch %s is neither out of step nor set on the server (out of step: %v)", b, sorted(res.OutOfStep()))
		}
	}
}
