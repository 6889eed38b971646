package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// list runs List and checks that it wrote nothing.
func (e *env) list(t *testing.T, limit int) ListResult {
	t.Helper()
	before := e.writes()
	res, err := List(context.Background(), e.c, e.project, limit, opts)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if e.writes() != before {
		t.Fatalf("List wrote: %v", e.emu.Calls())
	}
	return res
}

func names(refs []BatchRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

// One entry per workflow holding a webhook, in the order of its first
// batch, with every batch behind it by name; each workflow read once;
// workflows without a webhook and batches without a workflow left out.
func TestListGroupsByWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 2) // b0..b3, then s0, s1 sharing b0's workflow
	e.addBatchWithoutWorkflow("no-workflow")
	e.emu.SetWebhook(e.wf(e.batches[2]), "https://two.example/h", ptr("secret"))
	e.emu.SetWebhook(e.wf(e.batches[0]), "https://zero.example/h", nil)
	// b1 and b3 hold none.

	e.emu.ResetCalls()
	res := e.list(t, 0)
	if c := e.emu.Calls(); c["W1"] != 4 || c["B2"] != 1 || c["B1"] != 1 {
		t.Fatalf("calls %v: want the batches listed once, the workflowless batch read once, each of 4 workflows read once", c)
	}
	if len(res.Webhooks) != 2 {
		t.Fatalf("listed %d webhooks, want 2: %+v", len(res.Webhooks), res.Webhooks)
	}
	first, second := res.Webhooks[0], res.Webhooks[1]
	if first.WorkflowID != e.wf(e.batches[0]) || first.Webhook.URL != "https://zero.example/h" ||
		fmt.Sprint(names(first.Batches)) != "[b0 s0 s1]" {
		t.Fatalf("first entry %s %+v %v", first.WorkflowID, first.Webhook, names(first.Batches))
	}
	if second.WorkflowID != e.wf(e.batches[2]) || second.Webhook.URL != "https://two.example/h" ||
		second.Webhook.Header == nil || *second.Webhook.Header != "secret" ||
		len(second.Batches) != 1 || second.Batches[0].ID != e.batches[2] {
		t.Fatalf("second entry %s %+v %v", second.WorkflowID, second.Webhook, second.Batches)
	}
	if len(res.NoWorkflow) != 1 || res.Err() != nil || res.Truncated {
		t.Fatalf("no workflow %v, err %v, truncated %v", res.NoWorkflow, res.Err(), res.Truncated)
	}
}

// List documents without their workflow: each batch is read (B1) to find it.
func TestListReadsBatchesTheListLeavesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	e.emu.SetListOmitsWorkflow(true)
	e.emu.SetWebhook(e.wf(e.batches[1]), "https://one.example/h", nil)
	e.emu.ResetCalls()
	res := e.list(t, 0)
	if c := e.emu.Calls(); c["B1"] != 3 || c["W1"] != 3 {
		t.Fatalf("calls %v", c)
	}
	if len(res.Webhooks) != 1 || res.Webhooks[0].WorkflowID != e.wf(e.batches[1]) || res.Webhooks[0].Batches[0].Name != "b1" {
		t.Fatalf("listed %+v", res.Webhooks)
	}
}

// A limit stops the reads once enough webhooks are found, keeping the order.
func TestListLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 40, 0)
	for _, b := range e.batches {
		e.emu.SetWebhook(e.wf(b), "https://x.example/"+b, nil)
	}
	e.emu.ResetCalls()
	res := e.list(t, 3)
	if len(res.Webhooks) != 3 || !res.Truncated {
		t.Fatalf("listed %d (truncated %v), want 3 and truncated", len(res.Webhooks), res.Truncated)
	}
	for i, w := range res.Webhooks {
		if w.WorkflowID != e.wf(e.batches[i]) {
			t.Fatalf("entry %d is workflow %s, want the one of batch %d", i, w.WorkflowID, i)
		}
	}
	if w1 := e.emu.Calls()["W1"]; w1 >= 40 {
		t.Fatalf("%d workflows read for a limit of 3", w1)
	}
	if all := e.list(t, 0); len(all.Webhooks) != 40 || all.Truncated {
		t.Fatalf("without limit: %d listed, truncated %v", len(all.Webhooks), all.Truncated)
	}
}

// A workflow that cannot be read is reported and left out; the others are listed.
func TestListWorkflowUnreadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	for _, b := range e.batches {
		e.emu.SetWebhook(e.wf(b), "https://x.example/h", nil)
	}
	e.emu.Forbid(e.wf(e.batches[1]))
	res := e.list(t, 0)
	if len(res.Webhooks) != 2 || len(res.Failed) != 1 || !errors.Is(res.Err(), client.ErrForbidden) {
		t.Fatalf("listed %d, failed %v, err %v", len(res.Webhooks), res.Failed, res.Err())
	}
	if !strings.Contains(res.Err().Error(), e.batches[1]) {
		t.Fatalf("the error does not name the batch: %v", res.Err())
	}
}

// A project the API answers 404 for, or does not list, is an error, not an
// empty list.
func TestListUnknownProject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	const unknown = "6650c1f2a9b4c3d2e1f0ffff"
	_, err := List(context.Background(), e.c, unknown, 0, opts)
	if err == nil || !strings.Contains(err.Error(), unknown) {
		t.Fatalf("err %v, want an error naming %s", err, unknown)
	}
	e.srv.set(func(s *server) { s.project404 = true })
	if _, err := List(context.Background(), e.c, e.project, 0, opts); !errors.Is(err, ErrGone) {
		t.Fatalf("err %v, want ErrGone", err)
	}
}
