package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

const mine, theirs = "https://mine.example/h", "https://theirs.example/h"

func ownedByMe(url string) bool { return url == mine }

// Clear removes the owned url (once per workflow, by workflow id), leaves
// foreign ones (Foreign, ForeignBatches) and workflows without a webhook.
func TestClearProjectLeavesForeignWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 1) // s0 shares b0's workflow
	e.set(t, Want{URL: mine, Header: ptr("tok")})
	e.emu.SetWebhook(e.wf(e.batches[1]), theirs, nil)
	e.emu.ClearWebhook(e.wf(e.batches[2]))
	e.emu.ResetCalls()
	e.srv.set(func(s *server) { s.setupBodies = nil })

	res, err := Clear(context.Background(), e.c, Target{ProjectID: e.project}, ownedByMe, opts)
	if err != nil || res.Err() != nil {
		t.Fatal(err, res.Err())
	}
	if c := e.emu.Calls(); c["W1"] != 4 || c["W2"] != 2 || c["W3"] != 0 {
		t.Fatalf("calls %v: want every workflow read and the 2 owned ones cleared", c)
	}
	if !sameSet(keys(res.Cleared), []string{e.wf(e.batches[0]), e.wf(e.batches[3])}) {
		t.Fatalf("cleared %v", keys(res.Cleared))
	}
	if len(res.Foreign) != 1 || res.Foreign[e.wf(e.batches[1])] != theirs {
		t.Fatalf("foreign %v", res.Foreign)
	}
	if fmt.Sprint(res.ForeignBatches()) != fmt.Sprint([]string{e.batches[1]}) {
		t.Fatalf("foreign batches %v", res.ForeignBatches())
	}
	for i, b := range e.batches {
		_, ok := e.hook(b)
		if ok != (i == 1) || (ok && e.url(b) != theirs) {
			t.Fatalf("batch %d: holds %v %q", i, ok, e.url(b))
		}
	}
	for _, body := range e.srv.setupBodies {
		if body != `{"url":null,"header":null}` {
			t.Fatalf("clear sent %s", body)
		}
	}
}

// Every target clears the workflow it has just read, by workflow id (W2):
// a batch deleted meanwhile would answer 404 while its workflow still holds
// the webhook. A foreign url on a workflow target names the workflow.
func TestClearTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	e.set(t, Want{URL: mine})
	e.emu.ResetCalls()
	res, err := Clear(context.Background(), e.c, Target{ProjectID: e.project, BatchID: e.batches[0]}, ownedByMe, opts)
	if err != nil || res.Err() != nil || !res.Cleared[e.wf(e.batches[0])] {
		t.Fatal(err, res.Err(), res.Cleared)
	}
	if c := e.emu.Calls(); c["W3"] != 0 || c["W2"] != 1 || e.url(e.batches[0]) != "" || e.url(e.batches[1]) != mine {
		t.Fatalf("calls %v", c)
	}

	wf := e.wf(e.batches[1])
	e.emu.SetWebhook(wf, theirs, nil)
	e.emu.ResetCalls()
	res, err = Clear(context.Background(), e.c, Target{WorkflowID: wf}, ownedByMe, opts)
	if err != nil || res.Err() != nil || len(res.Cleared) != 0 || e.writes() != 0 {
		t.Fatal(err, res.Err(), res.Cleared, e.emu.Calls())
	}
	if fmt.Sprint(res.ForeignBatches()) != fmt.Sprint([]string{wf}) || e.url(e.batches[1]) != theirs {
		t.Fatalf("foreign batches %v", res.ForeignBatches())
	}

	e.emu.SetWebhook(wf, mine, nil)
	e.emu.ResetCalls()
	res, err = Clear(context.Background(), e.c, Target{WorkflowID: wf}, ownedByMe, opts)
	if err != nil || !res.Cleared[wf] || e.emu.Calls()["W2"] != 1 || e.url(e.batches[1]) != "" {
		t.Fatal(err, res.Cleared, e.emu.Calls())
	}
}

// A target that no longer exists has nothing to clear: no error, no call
// to setup-webhook. A target that is merely not listed, or forbidden, is an
// error.
func TestClearGoneTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		target func(e *env) Target
	}{
		{"deleted batch", func(e *env) Target {
			e.emu.DeleteBatch(e.batches[0])
			return Target{ProjectID: e.project, BatchID: e.batches[0]}
		}},
		{"batch without workflow", func(e *env) Target {
			return Target{ProjectID: e.project, BatchID: e.addBatchWithoutWorkflow("nowf")}
		}},
		{"workflow 404", func(e *env) Target { return Target{WorkflowID: "6650c1f2a9b4999999999999"} }},
		{"project 404", func(e *env) Target {
			e.srv.set(func(s *server) { s.project404 = true })
			return Target{ProjectID: e.project}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2, 0)
			e.set(t, Want{URL: mine})
			tg := tc.target(e)
			e.emu.ResetCalls()
			res, err := Clear(context.Background(), e.c, tg, ownedByMe, opts)
			if err != nil || res.Err() != nil || len(res.Cleared) != 0 {
				t.Fatalf("err %v / %v, cleared %v", err, res.Err(), res.Cleared)
			}
			if e.writes() != 0 || e.srv.setup400 != 0 || e.url(e.batches[1]) != mine {
				t.Fatalf("calls %v", e.emu.Calls())
			}
		})
	}
	for _, tc := range []struct {
		name  string
		setup func(e *env) Target
		is    error
	}{
		{"project not listed", func(e *env) Target { return Target{ProjectID: "6650c1f2a9b4999999999999"} }, nil},
		{"project forbidden", func(e *env) Target { e.emu.Forbid(e.project); return Target{ProjectID: e.project} }, client.ErrForbidden},
		{"batch 404 but listed", func(e *env) Target {
			e.srv.set(func(s *server) { s.batch404[e.batches[0]] = true })
			return Target{ProjectID: e.project, BatchID: e.batches[0]}
		}, client.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 2, 0)
			e.set(t, Want{URL: mine})
			tg := tc.setup(e)
			e.emu.ResetCalls()
			_, err := Clear(context.Background(), e.c, tg, ownedByMe, opts)
			if err == nil || errors.Is(err, ErrGone) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("err %v: must not be taken as gone", err)
			}
			if e.writes() != 0 || e.url(e.batches[0]) != mine {
				t.Fatal("cleared anyway")
			}
		})
	}
}

// Failures are named in Err(): the first five batches, sorted, and how many
// more, wrapping the first error; the others are cleared.
func TestClearFailuresNameBatchesAndCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 9, 0)
	e.set(t, Want{URL: mine})
	for _, b := range e.batches[1:8] {
		e.emu.Forbid(b)
	}
	res, err := Clear(context.Background(), e.c, Target{ProjectID: e.project}, ownedByMe, opts)
	if err != nil {
		t.Fatal(err)
	}
	ferr := res.Err()
	if len(res.Failed) != 7 || len(res.Cleared) != 2 || !errors.Is(ferr, client.ErrForbidden) {
		t.Fatalf("failed %v cleared %v err %v", res.Failed, res.Cleared, ferr)
	}
	first5 := fmt.Sprint(sorted(e.batches[1:8])[:5])
	if msg := ferr.Error(); !strings.Contains(msg, "7 batch(es) not cleared") || !strings.Contains(msg, first5+" and 2 more") {
		t.Fatalf("Err() = %q", msg)
	}
	if e.url(e.batches[0]) != "" || e.url(e.batches[8]) != "" {
		t.Fatal("the allowed batches must be cleared")
	}
}

// A 5xx on the clear call is a failure, named by its batches.
func TestClearServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 1) // s0 shares b0's workflow
	e.set(t, Want{URL: mine})
	bad := e.wf(e.batches[0])
	e.srv.set(func(s *server) { s.patch500[bad] = true })
	res, err := Clear(context.Background(), e.c, Target{ProjectID: e.project}, ownedByMe, opts)
	if err != nil || len(res.Failed) != 1 || res.Failed[bad] == nil || len(res.Cleared) != 2 {
		t.Fatalf("err %v failed %v cleared %v", err, res.Failed, res.Cleared)
	}
	msg := fmt.Sprint(res.Err())
	if !strings.Contains(msg, "2 batch(es) not cleared") || !strings.Contains(msg, fmt.Sprint(sorted([]string{e.batches[0], e.batches[3]}))) ||
		!strings.Contains(msg, "500") {
		t.Fatalf("Err() = %q", msg)
	}
	if e.url(e.batches[0]) != mine {
		t.Fatal("the failed workflow changed")
	}
}
