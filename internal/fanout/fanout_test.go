package fanout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

type env struct {
	emu     *emulator.Emulator
	c       *client.Client
	project string
	batches []string
}

// newEnv: a project of n batches with their own workflows, plus shared
// batches that reuse the first batch's workflow.
func newEnv(t *testing.T, n, shared int) *env { return newEnvWith(t, n, shared, nil) }

// newEnvWith lets wrap change the emulator's answers.
func newEnvWith(t *testing.T, n, shared int, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	emu := emulator.New(emulator.Options{AccessID: "a", SecretKey: "secret-key"})
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{Endpoint: srv.URL, AccessID: "a", SecretKey: "secret-key", MaxRetries: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{emu: emu, c: c, project: emu.AddProject("p")}
	for i := range n {
		e.batches = append(e.batches, emu.AddBatch(e.project, fmt.Sprintf("b%d", i)))
	}
	for i := range shared {
		first, _ := emu.Batch(e.batches[0])
		e.batches = append(e.batches, emu.AddBatchWithWorkflow(e.project, fmt.Sprintf("s%d", i), first.WorkflowID))
	}
	return e
}

func (e *env) url(batch string) string {
	b, _ := e.emu.Batch(batch)
	w, ok := e.emu.Webhook(b.WorkflowID)
	if !ok {
		return ""
	}
	return w.URL
}

var opts = Options{Concurrency: 4}

// staleAnswers makes setup-webhook answer with an empty document, as a
// server that answers with something other than the webhook would.
func staleAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		w.WriteHeader(rec.Code)
		_, _ = w.Write([]byte(`{"_id":"x","webhook":null}`))
	})
}

func TestApplySetsEachWorkflowOnce(t *testing.T) {
	for _, tc := range []struct {
		omit, stale bool
		reads       int
	}{{false, false, 0}, {true, false, 0}, {false, true, 5}} {
		omit := tc.omit
		t.Run(fmt.Sprintf("list omits workflow %v, setup answer unusable %v", tc.omit, tc.stale), func(t *testing.T) {
			var wrap func(http.Handler) http.Handler
			if tc.stale {
				wrap = staleAnswers
			}
			e := newEnvWith(t, 5, 3, wrap)
			e.emu.SetListOmitsWorkflow(omit)
			e.emu.ResetCalls()
			h := "tok"
			rep, err := Apply(context.Background(), e.c, e.project, Want{URL: "https://x.example/h", Header: &h, CompareHeader: true}, Known{}, opts)
			if err != nil || rep.Err() != nil {
				t.Fatal(err, rep.Err())
			}
			if len(rep.BatchIDs) != 8 || rep.Workflows != 5 || len(rep.OutOfStep) != 0 {
				t.Fatalf("report %+v", rep)
			}
			// One set per workflow; a read only when the answer does not hold the webhook.
			calls := e.emu.Calls()
			if calls["W2"] != 5 || calls["W1"] != tc.reads {
				t.Fatalf("calls %v: want one set per workflow and %d reads", calls, tc.reads)
			}
			if wantB1 := map[bool]int{false: 0, true: 8}[omit]; calls["B1"] != wantB1 {
				t.Fatalf("batch reads %d, want %d", calls["B1"], wantB1)
			}
			for _, b := range e.batches {
				if e.url(b) != "https://x.example/h" {
					t.Fatalf("batch %s not set", b)
				}
			}
		})
	}
}

func TestApplySkipInStepSetsOnlyMissing(t *testing.T) {
	e := newEnv(t, 6, 0)
	want := Want{URL: "https://x.example/h", CompareHeader: true}
	if _, err := Apply(context.Background(), e.c, e.project, want, Known{}, opts); err != nil {
		t.Fatal(err)
	}
	late := e.emu.AddBatch(e.project, "late")
	e.emu.ResetCalls()
	rep, err := Apply(context.Background(), e.c, e.project, want, Known{ReadFirst: true}, opts)
	if err != nil || len(rep.OutOfStep) != 0 {
		t.Fatal(err, rep.OutOfStep)
	}
	if n := e.emu.Calls()["W2"]; n != 1 || e.url(late) != want.URL {
		t.Fatalf("set %d workflows; want only the late batch's", n)
	}
}

func TestApplyKnownInStepSkipsTheirWorkflows(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("list omits workflow %v", omit), func(t *testing.T) { testApplyKnownInStep(t, omit) })
	}
}

func testApplyKnownInStep(t *testing.T, omit bool) {
	e := newEnv(t, 4, 1) // the shared batch uses batch 0's workflow
	e.emu.SetListOmitsWorkflow(omit)
	want := Want{URL: "https://x.example/h", CompareHeader: true}
	if _, err := Apply(context.Background(), e.c, e.project, want, Known{}, opts); err != nil {
		t.Fatal(err)
	}
	late := e.emu.AddBatch(e.project, "late")
	inStep := map[string]string{}
	for _, b := range e.batches[1:] {
		info, _ := e.emu.Batch(b)
		inStep[b] = info.WorkflowID // batch 0 was found out of step; "late" came after the refresh
	}
	e.emu.ResetCalls()
	rep, err := Apply(context.Background(), e.c, e.project, want, Known{InStep: inStep}, opts)
	if err != nil || len(rep.OutOfStep) != 0 || len(rep.BatchIDs) != 6 {
		t.Fatal(err, rep)
	}
	for i, b := range rep.BatchIDs {
		if info, _ := e.emu.Batch(b); rep.BatchWorkflows[i] != info.WorkflowID {
			t.Fatalf("batch %s reported with workflow %q, want %q", b, rep.BatchWorkflows[i], info.WorkflowID)
		}
	}
	// Batch 0's workflow (shared with an in-step batch) and the late one: two
	// sets; without workflows in the list, only those two batches are read.
	wantB1 := map[bool]int{false: 0, true: 2}[omit]
	if c := e.emu.Calls(); c["W2"] != 2 || c["W1"] != 0 || c["B1"] != wantB1 || e.url(late) != want.URL {
		t.Fatalf("calls %v: want only the two workflows not known in step, %d batch reads", c, wantB1)
	}
}

func TestInspectCountsOutOfStepAndAdopts(t *testing.T) {
	e := newEnv(t, 4, 0)
	h := "tok"
	want := Want{URL: "https://x.example/h", Header: &h, CompareHeader: true}
	if _, err := Apply(context.Background(), e.c, e.project, want, Known{}, opts); err != nil {
		t.Fatal(err)
	}
	b2, _ := e.emu.Batch(e.batches[2])
	e.emu.SetWebhook(b2.WorkflowID, "https://x.example/h", nil) // header dropped outside
	e.emu.AddBatch(e.project, "late")                           // no webhook

	rep, err := Inspect(context.Background(), e.c, e.project, &want, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.OutOfStep) != 2 || rep.OutOfStep[0] != e.batches[2] {
		t.Fatalf("out of step %v", rep.OutOfStep)
	}
	// Without the header (write-only, unknown at refresh) only the late batch differs.
	rep, _ = Inspect(context.Background(), e.c, e.project, &Want{URL: want.URL}, opts)
	if len(rep.OutOfStep) != 1 {
		t.Fatalf("url-only out of step %v", rep.OutOfStep)
	}
	// Import: adopt what most batches hold.
	rep, _ = Inspect(context.Background(), e.c, e.project, nil, opts)
	if rep.Common == nil || rep.Common.URL != want.URL || rep.Common.Header == nil || *rep.Common.Header != h || len(rep.OutOfStep) != 2 {
		t.Fatalf("import report %+v common %+v", rep, rep.Common)
	}
}

func TestFailuresNameBatchesAndCount(t *testing.T) {
	e := newEnv(t, 9, 0)
	for _, b := range e.batches[1:8] {
		e.emu.Forbid(b)
	}
	rep, err := Apply(context.Background(), e.c, e.project, Want{URL: "https://x.example/h"}, Known{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ferr := rep.Err()
	var be *BatchesError
	if !errors.As(ferr, &be) || len(be.BatchIDs) != 7 || !errors.Is(ferr, client.ErrForbidden) {
		t.Fatalf("error %v", ferr)
	}
	if msg := ferr.Error(); !strings.Contains(msg, "7 batch(es) failed") || !strings.Contains(msg, "and 2 more") {
		t.Fatalf("message %q should name five batches and count the rest", msg)
	}
	if len(rep.OutOfStep) != 7 || e.url(e.batches[0]) == "" || e.url(e.batches[8]) == "" {
		t.Fatalf("the allowed batches must stay set; out of step %v", rep.OutOfStep)
	}
}

func TestClearLeavesForeignWebhooks(t *testing.T) {
	e := newEnv(t, 3, 0)
	if _, err := Apply(context.Background(), e.c, e.project, Want{URL: "https://mine.example/"}, Known{}, opts); err != nil {
		t.Fatal(err)
	}
	b1, _ := e.emu.Batch(e.batches[1])
	e.emu.SetWebhook(b1.WorkflowID, "https://theirs.example/", nil)
	rep, err := Clear(context.Background(), e.c, e.project, "https://mine.example/", opts)
	if err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	if len(rep.Foreign) != 1 || rep.Foreign[0] != e.batches[1] {
		t.Fatalf("foreign %v", rep.Foreign)
	}
	if e.url(e.batches[0]) != "" || e.url(e.batches[2]) != "" || e.url(e.batches[1]) != "https://theirs.example/" {
		t.Fatal("clear touched the wrong webhooks")
	}
}

func TestCancellationStopsHandingOutWork(t *testing.T) {
	e := newEnv(t, 200, 0)
	e.emu.SetFaults(emulator.Faults{Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	rep, err := Apply(ctx, e.c, e.project, Want{URL: "https://x.example/"}, Known{}, Options{Concurrency: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %v to stop", took)
	}
	// Batches never reached count as out of step: the report claims nothing it did not do.
	held := 0
	for _, b := range e.batches {
		if e.url(b) != "" {
			held++
		}
	}
	if inStep := len(rep.BatchIDs) - len(rep.OutOfStep); inStep > held || len(rep.OutOfStep) == 0 {
		t.Fatalf("report says %d in step, server holds %d", inStep, held)
	}
}

func TestLaterOrdersTimestamps(t *testing.T) {
	if !Later("2024-12-17T15:23:21.433Z", "2024-12-17T15:10:37.619Z") || Later("", "2024-01-01T00:00:00Z") ||
		!Later("2024-01-01T00:00:00Z", "") || Later("garbage", "2024-01-01T00:00:00Z") {
		t.Fatal("Later() orders timestamps wrongly")
	}
}
