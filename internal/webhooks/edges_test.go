package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A batch list that ignores its projectId filter must not put another
// project's workflows in reach: set, clear and list skip every document that
// names another project, and say which.
func TestProjectWalkSkipsAnotherProjectsBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	other := e.emu.AddProject("other")
	theirBatch := e.emu.AddBatch(other, "theirs")
	b, _ := e.emu.Batch(theirBatch)
	e.emu.SetWebhook(b.WorkflowID, mine, ptr("their-secret")) // an org-wide url, on their project
	e.emu.SetListIgnoresFilter(true)
	ctx := context.Background()
	target := Target{ProjectID: e.project}

	for _, omit := range []bool{false, true} { // B1 reads reveal the project too
		e.emu.SetListOmitsWorkflow(omit)
		res := e.set(t, Want{URL: mine, HeaderKnown: true})
		if h, _ := e.emu.Webhook(b.WorkflowID); h.Header == nil || *h.Header != "their-secret" {
			t.Fatalf("omit=%v: set reached the other project's workflow: %+v", omit, h)
		}
		if res.Foreign[theirBatch] != other || len(res.Batches) != 2 {
			t.Fatalf("omit=%v: foreign %v, batches %v", omit, res.Foreign, res.Batches)
		}
		lres, err := List(ctx, e.c, e.project, 0, opts)
		if err != nil || lres.Foreign[theirBatch] != other || len(lres.Webhooks) != 2 {
			t.Fatalf("omit=%v: list %v foreign %v webhooks %d", omit, err, lres.Foreign, len(lres.Webhooks))
		}
		hres := e.health(t, target, HealthOptions{})
		if hres.Foreign[theirBatch] != other || hres.Counts[StateNeverCalled]+hres.Counts[StateNoWebhook] != 2 {
			t.Fatalf("omit=%v: health foreign %v counts %v", omit, hres.Foreign, hres.Counts)
		}
		cres, err := Clear(ctx, e.c, target, ownedByMe, opts)
		if err != nil || cres.Err() != nil || len(cres.Cleared) != 2 {
			t.Fatalf("omit=%v: clear %v %v cleared %v", omit, err, cres.Err(), cres.Cleared)
		}
		if _, ok := e.emu.Webhook(b.WorkflowID); !ok {
			t.Fatalf("omit=%v: destroy cleared the other project's live webhook", omit)
		}
	}
}

// A batch the project lists but whose read answers 404 is the server
// contradicting itself: an error, never "gone"; destroy must not report
// success while the webhook stays.
func TestListedBatchAnswering404IsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	e.set(t, Want{URL: mine, HeaderKnown: true})
	e.emu.SetListOmitsWorkflow(true)
	e.emu.SetBatchReadNotFound(e.batches[1], true)
	ctx := context.Background()
	target := Target{ProjectID: e.project}

	if _, err := Inspect(ctx, e.c, target, &Want{URL: mine}, opts); err == nil || !strings.Contains(err.Error(), e.batches[1]) {
		t.Fatalf("refresh: want an error naming %s, got %v", e.batches[1], err)
	}
	if _, err := List(ctx, e.c, e.project, 0, opts); err == nil {
		t.Fatal("list: want an error")
	}
	_, err := Clear(ctx, e.c, target, ownedByMe, opts)
	if err == nil || errors.Is(err, ErrGone) {
		t.Fatalf("destroy: want an error that is not 'gone', got %v", err)
	}
	if e.url(e.batches[1]) != mine {
		t.Fatal("the webhook should still be there")
	}

	// Deleted for real (no longer listed either): gone, not an error.
	e.emu.DeleteBatch(e.batches[1])
	res, err := Inspect(ctx, e.c, target, &Want{URL: mine}, opts)
	if err != nil || len(res.Batches) != 2 {
		t.Fatalf("after the delete: %v, %d batches", err, len(res.Batches))
	}
}

// A set whose first attempt may have been applied (502) and whose retry is
// refused (403) counts as sent: the server may hold it, so Create keeps the
// resource and destroy can clear it.
func TestSetMaybeAppliedThenRefusedCountsAsSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	wf := e.wf(e.batches[0])
	e.emu.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 1)
	e.emu.FailSets(wf, http.StatusForbidden)
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: mine, HeaderKnown: true}, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() == nil || res.Sent != 1 {
		t.Fatalf("want a failure counted as sent, got sent %d, err %v", res.Sent, res.Err())
	}
	if e.url(e.batches[0]) != mine {
		t.Fatal("the emulator should hold the applied set")
	}

	// Refused at once: not sent.
	e.emu.FailSets(wf, http.StatusForbidden)
	res, _ = Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: theirs, HeaderKnown: true}, nil, opts)
	if res.Sent != 0 {
		t.Fatalf("a set refused at once counted as sent %d", res.Sent)
	}
}

// KeepHeaderOf keeps a header only where it came with an accepted url;
// another receiver's header is never sent to our url.
func TestKeepHeaderOnlyWithOwnedURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	const next = "https://next.example/h"
	e.emu.SetWebhook(e.wf(e.batches[0]), mine, ptr("our-secret"))
	e.emu.SetWebhook(e.wf(e.batches[1]), theirs, ptr("their-secret"))
	e.emu.SetWebhook(e.wf(e.batches[2]), next, ptr("next-secret")) // already the url sent
	want := Want{URL: next, HeaderKnown: true, KeepHeaderOf: func(u string) bool { return u == next || ownedByMe(u) }}
	res := e.set(t, want)
	for i, h := range []string{"our-secret", "", "next-secret"} {
		got, _ := e.hook(e.batches[i])
		if got.URL != next || (got.Header == nil) != (h == "") || (got.Header != nil && *got.Header != h) {
			t.Errorf("batch %d holds %q %v, want %q %q", i, got.URL, got.Header, next, h)
		}
	}
	if !sameSet(res.HeaderDropped, []string{e.wf(e.batches[1])}) {
		t.Errorf("header dropped on %v", res.HeaderDropped)
	}
	if len(res.InStep) != 3 {
		t.Errorf("in step %v", res.InStep)
	}
}

// SetWorkflows and ClearWorkflows touch exactly the workflows given, with
// no walk of the project; a failure is still named by batch.
func TestSetAndClearGivenWorkflows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	ctx := context.Background()
	w0, w2 := e.wf(e.batches[0]), e.wf(e.batches[2])
	e.emu.ResetCalls()
	res, err := SetWorkflows(ctx, e.c, e.project, []string{w0, w2}, Want{URL: mine, HeaderKnown: true}, opts)
	if err != nil || res.Err() != nil || !sameSet(keys(res.InStep), []string{w0, w2}) {
		t.Fatalf("set: %v %v in step %v", err, res.Err(), res.InStep)
	}
	if c := e.emu.Calls(); c["B2"] != 0 || c["P1"] != 0 || c["W2"] != 2 || c["W1"] != 0 {
		t.Fatalf("calls %v: want 2 sets and no walk", c)
	}
	if e.url(e.batches[1]) != "" || e.url(e.batches[0]) != mine || e.url(e.batches[2]) != mine {
		t.Fatal("set another workflow than given")
	}

	// w0 taken over by someone else since: read before its clear, it is
	// left in place; w2 still ours, but its clear fails.
	e.emu.SetWebhook(w0, "https://someone-else.example/hook", nil)
	e.emu.FailSets(w2, http.StatusForbidden)
	e.emu.ResetCalls()
	owned := func(u string) bool { return u == mine }
	cres, err := ClearWorkflows(ctx, e.c, e.project, []string{w0, w2}, owned, opts)
	if err != nil || cres.Cleared[w0] || cres.Foreign[w0] != "https://someone-else.example/hook" || cres.Failed[w2] == nil {
		t.Fatalf("clear: %v cleared %v foreign %v failed %v", err, cres.Cleared, cres.Foreign, cres.Failed)
	}
	if e.url(e.batches[0]) != "https://someone-else.example/hook" {
		t.Fatal("a url someone else set since the refresh was cleared")
	}
	if c := e.emu.Calls(); c["W1"] != 2 || c["W2"] != 1 {
		t.Fatalf("calls %v: want one read per workflow given, and a clear of the one still ours", c)
	}
	if msg := cres.Err().Error(); !strings.Contains(msg, "1 batch(es) not cleared: ["+e.batches[2]+"]") {
		t.Fatalf("the failure is not named by batch: %s", msg)
	}
}

// SkipHeld reads each workflow before its set and leaves alone those that
// hold the webhook already: the check an update makes when no refresh of
// its own command says which workflows are in step.
func TestSetSkipHeldWritesOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	for _, adopted := range []bool{false, true} {
		t.Run(fmt.Sprintf("adopted=%v", adopted), func(t *testing.T) {
			e := newEnv(t, 4, 0)
			ctx := context.Background()
			want := Want{URL: mine, Header: ptr("Bearer ours-1234"), HeaderKnown: true, SkipHeld: true}
			if adopted {
				want.Header, want.KeepHeaderOf = nil, func(u string) bool { return u == mine }
			}
			e.emu.SetWebhook(e.wf(e.batches[0]), mine, ptr("Bearer ours-1234"))
			e.emu.SetWebhook(e.wf(e.batches[1]), mine, ptr("Bearer stale-999"))
			e.emu.SetWebhook(e.wf(e.batches[2]), "https://other.example/x", nil)
			e.emu.ResetCalls()
			res, err := Set(ctx, e.c, Target{ProjectID: e.project}, want, nil, opts)
			if err != nil || res.Err() != nil || len(res.InStep) != 4 {
				t.Fatalf("set: %v %v in step %v", err, res.Err(), res.InStep)
			}
			// Adopted: the url decides, so the second workflow keeps its
			// header and is not written either.
			wantWrites := 3
			if adopted {
				wantWrites = 2
			}
			if c := e.emu.Calls(); c["W2"] != wantWrites || c["W1"] < 4 {
				t.Fatalf("calls %v: want a read of each of the 4 workflows and %d sets", c, wantWrites)
			}
			if res.Sent != wantWrites {
				t.Fatalf("sent %d, want %d", res.Sent, wantWrites)
			}
		})
	}
}

// A url the server stores instead of the one sent is server text: the
// error that quotes it passes the one redaction (here it embeds the header
// sent, JSON-escaped, as a server echoing the request might).
func TestRewrittenURLIsRedacted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	const header = "Bearer rewrite/secret+42"
	e.srv.set(func(s *server) { s.rewriteURL = `https://rewritten.example/h?auth=Bearer rewrite\/secret+42` })
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, Want{URL: mine, Header: ptr(header), HeaderKnown: true}, nil, opts)
	if err != nil || len(res.Rewritten) != 1 {
		t.Fatalf("set: %v, rewritten %v", err, res.Rewritten)
	}
	msg := res.Err().Error()
	if !strings.Contains(msg, "rewritten.example") || strings.Contains(msg, "rewrite\\/secret") || strings.Contains(msg, "secret+42") {
		t.Fatalf("the error quotes the header the server echoed: %s", msg)
	}
}
