package webhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// Batches without a workflow land in NoWorkflow: never sent to
// setup-webhook (which would answer 400), not out of step, no error; B1 is
// read only for the batches whose list document carries no workflow.
func TestCoverageBatchesWithoutWorkflow(t *testing.T) {
	t.Parallel()
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("list omits workflow %v", omit), func(t *testing.T) {
			e := newEnv(t, 3, 1)
			nowf := []string{e.addBatchWithoutWorkflow("nowf-1"), e.addBatchWithoutWorkflow("nowf-2")}
			e.emu.SetListOmitsWorkflow(omit)
			e.emu.ResetCalls()
			want := Want{URL: "https://x.example/h"}
			res := e.set(t, want)

			if !sameSet(res.NoWorkflow, nowf) {
				t.Fatalf("NoWorkflow %v, want %v", res.NoWorkflow, nowf)
			}
			for _, b := range nowf {
				if _, ok := res.Batches[b]; ok {
					t.Fatalf("batch %s without workflow is covered: %v", b, res.Batches)
				}
				if _, ok := res.Unreadable[b]; ok {
					t.Fatalf("batch %s without workflow is unreadable", b)
				}
			}
			if len(res.Batches) != 4 || len(res.Workflows) != 3 || len(res.OutOfStep()) != 0 {
				t.Fatalf("batches %v workflows %v out of step %v", res.Batches, res.Workflows, res.OutOfStep())
			}
			c := e.emu.Calls()
			if e.srv.setup400 != 0 || c["W2"] != 3 || c["W3"] != 0 {
				t.Fatalf("calls %v, %d answered 400: batches without workflow must not be set", c, e.srv.setup400)
			}
			if wantB1 := map[bool]int{false: 2, true: 6}[omit]; c["B1"] != wantB1 {
				t.Fatalf("calls %v: want %d batch reads", c, wantB1)
			}

			// Inspect and Clear skip them too.
			ins, err := Inspect(context.Background(), e.c, Target{ProjectID: e.project}, &want, opts)
			if err != nil || ins.Err() != nil || len(ins.OutOfStep()) != 0 || !sameSet(ins.NoWorkflow, nowf) {
				t.Fatalf("inspect: %v %v out of step %v no workflow %v", err, ins.Err(), ins.OutOfStep(), ins.NoWorkflow)
			}
			clr, err := Clear(context.Background(), e.c, Target{ProjectID: e.project}, func(string) bool { return true }, opts)
			if err != nil || clr.Err() != nil || len(clr.Cleared) != 3 || e.srv.setup400 != 0 {
				t.Fatalf("clear: %v %v cleared %v", err, clr.Err(), clr.Cleared)
			}
		})
	}
}

// With list documents that omit the workflow, each batch is read (B1), and
// a workflow shared by several batches is still set once.
func TestCoverageReadsBatchesWhenListOmitsWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 2)
	e.emu.SetListOmitsWorkflow(true)
	e.emu.ResetCalls()
	res, err := Inspect(context.Background(), e.c, Target{ProjectID: e.project}, &Want{URL: "https://x.example/h"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.emu.Calls(); c["B1"] != 5 || c["B2"] != 1 || c["P1"] != 1 || c["W1"] != 3 {
		t.Fatalf("calls %v: want the project read, one list page, 5 batch reads, 3 workflow reads", c)
	}
	for _, b := range e.batches {
		if res.Batches[b] != e.wf(b) {
			t.Fatalf("batch %s covered with workflow %q, want %q", b, res.Batches[b], e.wf(b))
		}
	}
	if want := []string{e.wf(e.batches[0]), e.wf(e.batches[1]), e.wf(e.batches[2])}; fmt.Sprint(res.Workflows) != fmt.Sprint(want) {
		t.Fatalf("workflows %v, want %v in first-seen order", res.Workflows, want)
	}
}

// A 403 on one batch's B1 lands it in Unreadable: out of step, named in
// Err(), but the operation goes on for the other batches.
func TestCoverageUnreadableBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 0)
	e.emu.SetListOmitsWorkflow(true)
	bad := e.batches[2]
	e.emu.Forbid(bad)
	want := Want{URL: "https://x.example/h"}
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, want, nil, opts)
	if err != nil {
		t.Fatalf("Set failed as a whole: %v", err)
	}
	if len(res.Unreadable) != 1 || !errors.Is(res.Unreadable[bad], client.ErrForbidden) {
		t.Fatalf("unreadable %v", res.Unreadable)
	}
	if _, ok := res.Batches[bad]; ok || len(res.Batches) != 3 || len(res.InStep) != 3 {
		t.Fatalf("batches %v in step %v", res.Batches, res.InStep)
	}
	if fmt.Sprint(res.OutOfStep()) != fmt.Sprint([]string{bad}) {
		t.Fatalf("out of step %v, want [%s]", res.OutOfStep(), bad)
	}
	ferr := res.Err()
	if !errors.Is(ferr, client.ErrForbidden) || !strings.Contains(ferr.Error(), bad) || !strings.Contains(ferr.Error(), "1 batch(es) could not be read") {
		t.Fatalf("Err() = %v", ferr)
	}
	for i, b := range e.batches {
		if (e.url(b) == want.URL) == (b == bad) {
			t.Fatalf("batch %d: server holds %q", i, e.url(b))
		}
	}

	ins, err := Inspect(context.Background(), e.c, Target{ProjectID: e.project}, &want, opts)
	if err != nil || fmt.Sprint(ins.OutOfStep()) != fmt.Sprint([]string{bad}) || !errors.Is(ins.Err(), client.ErrForbidden) {
		t.Fatalf("inspect: %v out of step %v err %v", err, ins.OutOfStep(), ins.Err())
	}
	clr, err := Clear(context.Background(), e.c, Target{ProjectID: e.project}, func(string) bool { return true }, opts)
	if err != nil || len(clr.Cleared) != 3 || !errors.Is(clr.Err(), client.ErrForbidden) {
		t.Fatalf("clear: %v cleared %v err %v", err, clr.Cleared, clr.Err())
	}
}

// A batch deleted between the list and its B1 (404) is dropped: not
// covered, not unreadable, no error.
func TestCoverageDropsBatchDeletedAfterList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	e.emu.SetListOmitsWorkflow(true)
	gone := e.batches[1]
	e.srv.set(func(s *server) { s.afterList = func() { e.emu.DeleteBatch(gone) } })
	e.emu.ResetCalls()
	res := e.set(t, Want{URL: "https://x.example/h"})
	if c := e.emu.Calls(); c["B1"] != 3 {
		t.Fatalf("calls %v: want every batch read", c)
	}
	if _, ok := res.Batches[gone]; ok || len(res.Batches) != 2 || len(res.Unreadable) != 0 || len(res.NoWorkflow) != 0 {
		t.Fatalf("coverage %+v", res.Coverage)
	}
	if len(res.Workflows) != 2 || len(res.OutOfStep()) != 0 {
		t.Fatalf("workflows %v out of step %v", res.Workflows, res.OutOfStep())
	}
}

// The project's batch list is walked across pages.
func TestCoverageWalksEveryPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 7, 0)
	e.emu.SetPageCap(2)
	e.emu.ResetCalls()
	res := e.set(t, Want{URL: "https://x.example/h"})
	if len(res.Batches) != 7 || e.emu.Calls()["B2"] != 4 {
		t.Fatalf("batches %d, calls %v", len(res.Batches), e.emu.Calls())
	}
}
