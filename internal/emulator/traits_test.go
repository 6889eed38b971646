package emulator_test

import (
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

const setupPath = "api/workflow-manager/workflows/setup-webhook?"

// listAll walks B2 for projectID with the given extra query and page size, checking that the
// pagination stays consistent, and returns the documents in order.
func (a *api) listAll(projectID, extra string, limit int) []map[string]any {
	a.t.Helper()
	var docs []map[string]any
	for pg := 1; ; pg++ {
		var p page
		a.get("api/task-manager/batches?pagination=true&projectId="+projectID+extra+"&limit="+strconv.Itoa(limit)+"&page="+strconv.Itoa(pg), &p)
		if p.Page != pg || len(p.Docs) > limit {
			a.t.Fatalf("page %d: %+v", pg, p)
		}
		docs = append(docs, p.Docs...)
		if !p.HasNextPage {
			if p.TotalDocs != len(docs) {
				a.t.Fatalf("totalDocs %d, walked %d", p.TotalDocs, len(docs))
			}
			return docs
		}
		if p.NextPage == nil || *p.NextPage != pg+1 {
			a.t.Fatalf("page %d: nextPage %v", pg, p.NextPage)
		}
	}
}

func TestListIgnoresFilter(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p1, p2 := a.e.AddProject("one"), a.e.AddProject("two")
	// Interleaved, so creation order differs from project order.
	b1 := a.e.AddBatch(p1, "a")
	b2 := a.e.AddBatch(p2, "b")
	b3 := a.e.AddBatch(p1, "c")
	b4 := a.e.AddBatchWithoutWorkflow(p2, "d")
	b5 := a.e.AddBatch(p1, "e")
	owner := map[string]string{b1: p1, b2: p2, b3: p1, b4: p2, b5: p1}
	a.e.SetBatchStatus(b2, "complete")
	a.e.SetBatchStatus(b5, "complete")
	a.login()

	if got := ids(a.listAll(p1, "", 2)); !reflect.DeepEqual(got, []string{b1, b3, b5}) {
		t.Fatalf("filter applied: %v", got)
	}

	a.e.SetListIgnoresFilter(true)
	for _, asked := range []string{p1, p2, "6650c1f2a9b4ffffffffffff"} {
		docs := a.listAll(asked, "", 2)
		if got := ids(docs); !reflect.DeepEqual(got, []string{b1, b2, b3, b4, b5}) {
			t.Fatalf("projectId=%s: %v, want every batch in creation order", asked, got)
		}
		for _, d := range docs {
			if id, _ := d["_id"].(string); d["projectId"] != owner[id] {
				t.Fatalf("projectId=%s: %v carries the wrong projectId", asked, d)
			}
		}
	}
	// Only projectId is ignored: the other filters still apply.
	if got := ids(a.listAll(p1, "&statuses=complete", 1)); !reflect.DeepEqual(got, []string{b2, b5}) {
		t.Fatalf("statuses filter: %v", got)
	}
	if got := ids(a.listAll(p1, "&search=D", 10)); !reflect.DeepEqual(got, []string{b4}) {
		t.Fatalf("search filter: %v", got)
	}
	// The server cap still bounds a page.
	a.e.SetPageCap(3)
	var pg page
	a.get("api/task-manager/batches?pagination=true&projectId="+p2+"&limit=100", &pg)
	if pg.Limit != 3 || len(pg.Docs) != 3 || pg.TotalDocs != 5 || pg.TotalPages != 2 {
		t.Fatalf("capped page %+v", pg)
	}
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches?pagination=true", nil); status != http.StatusBadRequest {
		t.Fatalf("no projectId: %d, want 400 still", status)
	}

	a.e.SetListIgnoresFilter(false)
	if got := ids(a.listAll(p2, "", 10)); !reflect.DeepEqual(got, []string{b2, b4}) {
		t.Fatalf("after reset: %v", got)
	}
}

func TestBatchReadNotFound(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	hidden := a.e.AddBatch(p, "hidden")
	sibling := a.e.AddBatch(p, "sibling")
	hi, _ := a.e.Batch(hidden)
	unknown := "6650c1f2a9b4ffffffffffff"
	a.login()

	// What an unknown batch answers, with the id swapped: the trait must be indistinguishable.
	wantB1 := func(id string) string {
		_, _, b := a.do(http.MethodGet, "api/task-manager/batches/"+unknown, nil)
		return strings.ReplaceAll(string(b), unknown, id)
	}
	set := map[string]any{"url": "https://r.example/hook", "header": "Bearer x"}
	_, _, unknownW3 := a.do(http.MethodPatch, setupPath+"batchId="+unknown, set)

	a.e.SetBatchReadNotFound(hidden, true)
	a.e.SetBatchReadNotFound(hidden, true) // idempotent
	status, _, b := a.do(http.MethodGet, "api/task-manager/batches/"+hidden, nil)
	if status != http.StatusNotFound || string(b) != wantB1(hidden) {
		t.Fatalf("B1: %d %s, want 404 %s", status, b, wantB1(hidden))
	}
	a.get("api/task-manager/batches/"+sibling, nil)

	// Still listed, with its workflow.
	docs := a.listAll(p, "", 10)
	if got := ids(docs); !reflect.DeepEqual(got, []string{hidden, sibling}) {
		t.Fatalf("B2: %v", got)
	}
	if wf, _ := docs[0]["workflow"].(map[string]any); wf == nil || wf["id"] != hi.WorkflowID {
		t.Fatalf("B2 doc %v", docs[0])
	}

	// W3 by it is 404 as for an unknown batch, and changes nothing.
	status, _, b = a.do(http.MethodPatch, setupPath+"batchId="+hidden, set)
	if status != http.StatusNotFound || string(b) != strings.ReplaceAll(string(unknownW3), unknown, hidden) {
		t.Fatalf("W3: %d %s", status, b)
	}
	if _, ok := a.e.Webhook(hi.WorkflowID); ok {
		t.Fatal("W3 on a not-found batch set the webhook")
	}
	// Its workflow is normal.
	a.setup("workflowId="+hi.WorkflowID, set, http.StatusOK)
	if d := a.workflow(hi.WorkflowID); d.Webhook == nil || d.Webhook.URL != "https://r.example/hook" {
		t.Fatalf("W1 %+v", d)
	}
	if _, ok := a.e.Batch(hidden); !ok {
		t.Fatal("Batch() lost it")
	}
	// 404 before 403, as for an unknown batch.
	a.e.Forbid(hidden)
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches/"+hidden, nil); status != http.StatusNotFound {
		t.Fatalf("forbidden and not found: %d, want 404", status)
	}
	a.e.Unforbid(hidden)

	a.e.SetBatchReadNotFound(hidden, false)
	a.get("api/task-manager/batches/"+hidden, nil)
	a.setup("batchId="+hidden, set, http.StatusOK)

	// B6 is not affected.
	a.e.SetBatchReadNotFound(hidden, true)
	if status, _, b := a.do(http.MethodDelete, "api/task-manager/batches/"+hidden, nil); status != http.StatusOK {
		t.Fatalf("B6: %d %s", status, b)
	}
	if c := a.e.Calls(); c[emulator.EndpointGetBatch] != 5 || c[emulator.EndpointSetupByB] != 3 {
		t.Fatalf("calls %v", c)
	}
}

// webhookState is what a set may change, as the emulator holds it.
func webhookState(t *testing.T, e *emulator.Emulator, wf string) *emulator.WebhookInfo {
	t.Helper()
	wi, ok := e.Webhook(wf)
	if !ok {
		return nil
	}
	return &wi
}

func TestFailSets(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b1 := a.e.AddBatch(p, "b1")
	i1, _ := a.e.Batch(b1)
	wf := i1.WorkflowID
	b2 := a.e.AddBatchWithWorkflow(p, "b2", wf) // shares wf
	other := a.e.AddBatch(p, "other")
	oi, _ := a.e.Batch(other)
	a.e.SetWebhook(wf, "https://r.example/old", ptr("Bearer old"))
	before := webhookState(t, a.e, wf)
	a.login()

	set := map[string]any{"url": "https://r.example/new", "header": "Bearer new"}
	remove := map[string]any{"url": nil, "header": nil}
	a.e.FailSets(wf, http.StatusForbidden)
	for _, tc := range []struct {
		query string
		body  any
	}{
		{"workflowId=" + wf, set},
		{"batchId=" + b1, set},
		{"batchId=" + b2, set},
		{"workflowId=" + wf, remove}, // a clear is a set
		{"batchId=" + b1, remove},
	} {
		b := a.setup(tc.query, tc.body, http.StatusForbidden)
		if msg := errMessage(t, b); msg == "" {
			t.Fatalf("%s: body %s", tc.query, b)
		}
		if got := webhookState(t, a.e, wf); !reflect.DeepEqual(got, before) {
			t.Fatalf("%s %v changed the webhook: %+v, was %+v", tc.query, tc.body, got, before)
		}
	}
	if d := a.workflow(wf); d.Webhook == nil || d.Webhook.URL != "https://r.example/old" {
		t.Fatalf("W1 %+v", d)
	}
	// Other workflows are untouched; the request's own 400/404 come first.
	a.setup("batchId="+other, set, http.StatusOK)
	a.setup("workflowId="+wf, map[string]any{"url": "ftp://x"}, http.StatusBadRequest)
	a.setup("workflowId=6650c1f2a9b4ffffffffffff", set, http.StatusNotFound)

	// A 5xx is counted as one.
	a.e.FailSets(wf, http.StatusInternalServerError)
	b := a.setup("workflowId="+wf, set, http.StatusInternalServerError)
	var eb struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	mustJSON(t, b, &eb)
	if eb.StatusCode != 500 || eb.Message == "" {
		t.Fatalf("error body %s", b)
	}
	if c := a.e.Calls(); c[emulator.CountServerError] != 1 || c[emulator.EndpointSetupByWF] != 5 || c[emulator.EndpointSetupByB] != 4 {
		t.Fatalf("calls %v", c)
	}

	a.e.FailSets(wf, 0)
	a.setup("batchId="+b2, set, http.StatusOK)
	if got := webhookState(t, a.e, wf); got == nil || got.URL != "https://r.example/new" {
		t.Fatalf("after reset: %+v", got)
	}
	if wi, _ := a.e.Webhook(oi.WorkflowID); wi.URL != "https://r.example/new" {
		t.Fatalf("other workflow %+v", wi)
	}
}

func TestSetTraitsRefuseNonErrorStatus(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	for _, st := range []int{200, 204, 302, 399, 600, -1} {
		for name, f := range map[string]func(){
			"FailSets":              func() { e.FailSets("w", st) },
			"AnswerAppliedSetsWith": func() { e.AnswerAppliedSetsWith("w", st, 1) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(%d) did not panic", name, st)
					}
				}()
				f()
			}()
		}
	}
}

func TestAnswerAppliedSetsWith(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	wf := info.WorkflowID
	control := a.e.AddBatch(p, "control")
	ci, _ := a.e.Batch(control)
	a.login()

	// Give both workflows a lastCall, which a set must keep.
	rc := newReceiver(t, http.StatusOK, "", "")
	for _, id := range []string{b, control} {
		a.setup("batchId="+id, map[string]any{"url": rc.srv.URL}, http.StatusOK)
		if err := a.e.Deliver(t.Context(), id, "t", "annotation"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Millisecond) // updatedAt has millisecond resolution
	old := webhookState(t, a.e, wf)

	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 2)
	set1 := map[string]any{"url": "https://r.example/v1", "header": "Bearer one"}
	eb := a.setup("workflowId="+wf, set1, http.StatusBadGateway)
	if errMessage(t, eb) == "" {
		t.Fatal("no message")
	}
	got := webhookState(t, a.e, wf)
	if got == nil || got.URL != "https://r.example/v1" || got.Header == nil || *got.Header != "Bearer one" ||
		!got.UpdatedAt.After(old.UpdatedAt) || !reflect.DeepEqual(got.LastCall, old.LastCall) {
		t.Fatalf("applied set stored %+v, was %+v", got, old)
	}
	// Stored exactly as a normal set: same wire shape as the control workflow's after one.
	a.setup("batchId="+control, set1, http.StatusOK)
	d, dc := a.workflow(wf).Webhook, a.workflow(ci.WorkflowID).Webhook
	if d == nil || dc == nil || d.URL != dc.URL || *d.Header != *dc.Header || d.UpdatedAt != formatMillis(got.UpdatedAt) ||
		!reflect.DeepEqual(keys(d.LastCall), keys(dc.LastCall)) {
		t.Fatalf("W1 %+v, control %+v", d, dc)
	}

	// Second: through W3, a removal; applied and answered 502.
	a.setup("batchId="+b, map[string]any{"url": nil, "header": nil}, http.StatusBadGateway)
	if _, ok := a.e.Webhook(wf); ok {
		t.Fatal("removal not applied")
	}
	// Used up: normal again.
	a.setup("batchId="+b, set1, http.StatusOK)

	// Requests not applied (400, 404 on the batch, 401, 429) do not use the count.
	a.e.AnswerAppliedSetsWith(wf, http.StatusGatewayTimeout, 1)
	a.setup("workflowId="+wf, map[string]any{"url": "nope"}, http.StatusBadRequest)
	a.e.SetBatchReadNotFound(b, true)
	a.setup("batchId="+b, set1, http.StatusNotFound)
	a.e.SetBatchReadNotFound(b, false)
	a.e.ExpireTokens()
	a.setup("workflowId="+wf, set1, http.StatusUnauthorized)
	a.login()
	a.e.SetFaults(emulator.Faults{ThrottleRate: 1})
	a.setup("workflowId="+wf, set1, http.StatusTooManyRequests)
	a.e.SetFaults(emulator.Faults{})
	a.setup("workflowId="+ci.WorkflowID, set1, http.StatusOK) // another workflow
	set2 := map[string]any{"url": "https://r.example/v2"}
	a.setup("batchId="+b, set2, http.StatusGatewayTimeout)
	if wi, _ := a.e.Webhook(wf); wi.URL != "https://r.example/v2" || wi.Header != nil {
		t.Fatalf("504 set stored %+v", wi)
	}
	a.setup("batchId="+b, set1, http.StatusOK)

	// Replacing, and removing with n <= 0 or status 0.
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 5)
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 1)
	a.setup("batchId="+b, set1, http.StatusBadGateway)
	a.setup("batchId="+b, set1, http.StatusOK)
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 5)
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 0)
	a.setup("batchId="+b, set1, http.StatusOK)
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 5)
	a.e.AnswerAppliedSetsWith(wf, 0, 5)
	a.setup("batchId="+b, set1, http.StatusOK)
}

func formatMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func keys(m map[string]any) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}

func TestAnswerAppliedThenFailSets(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	wf := info.WorkflowID
	a.login()

	// Set in either order: the applied count is used first.
	a.e.FailSets(wf, http.StatusForbidden)
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 1)
	a.setup("batchId="+b, map[string]any{"url": "https://r.example/v1"}, http.StatusBadGateway)
	a.setup("batchId="+b, map[string]any{"url": "https://r.example/v2"}, http.StatusForbidden)
	a.setup("workflowId="+wf, map[string]any{"url": "https://r.example/v3"}, http.StatusForbidden)
	if wi, _ := a.e.Webhook(wf); wi.URL != "https://r.example/v1" {
		t.Fatalf("stored %+v, want only the applied v1", wi)
	}
	// Removing FailSets keeps a fresh applied count, and vice versa.
	a.e.AnswerAppliedSetsWith(wf, http.StatusGatewayTimeout, 1)
	a.e.FailSets(wf, 0)
	a.setup("batchId="+b, map[string]any{"url": "https://r.example/v4"}, http.StatusGatewayTimeout)
	a.setup("batchId="+b, map[string]any{"url": "https://r.example/v5"}, http.StatusOK)
	a.e.FailSets(wf, http.StatusServiceUnavailable)
	a.e.AnswerAppliedSetsWith(wf, 0, 0)
	a.setup("batchId="+b, map[string]any{"url": "https://r.example/v6"}, http.StatusServiceUnavailable)
	if wi, _ := a.e.Webhook(wf); wi.URL != "https://r.example/v5" {
		t.Fatalf("stored %+v", wi)
	}
}

func TestAnswerAppliedSetsWithConcurrent(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	wf := info.WorkflowID
	a.login()
	a.e.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 7)
	a.e.FailSets(wf, http.StatusForbidden)

	const n = 40
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := "workflowId=" + wf
			if i%2 == 0 {
				q = "batchId=" + b
			}
			statuses[i], _, _ = a.do(http.MethodPatch, setupPath+q, map[string]any{"url": "https://r.example/" + strconv.Itoa(i)})
		}()
	}
	wg.Wait()
	count := map[int]int{}
	var applied []string
	for i, s := range statuses {
		count[s]++
		if s == http.StatusBadGateway {
			applied = append(applied, "https://r.example/"+strconv.Itoa(i))
		}
	}
	if count[http.StatusBadGateway] != 7 || count[http.StatusForbidden] != n-7 {
		t.Fatalf("answers %v, want 7 x 502 and the rest 403", count)
	}
	// The stored webhook is one of the applied ones.
	wi, _ := a.e.Webhook(wf)
	found := false
	for _, u := range applied {
		found = found || u == wi.URL
	}
	if !found {
		t.Fatalf("stored %q, not one of the applied %v", wi.URL, applied)
	}
}

func TestTraitsSurviveOtherSetters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p1, p2 := a.e.AddProject("one"), a.e.AddProject("two")
	b1 := a.e.AddBatch(p1, "b1")
	b2 := a.e.AddBatch(p2, "b2")
	i1, _ := a.e.Batch(b1)
	i2, _ := a.e.Batch(b2)
	a.e.SetListIgnoresFilter(true)
	a.e.SetBatchReadNotFound(b1, true)
	a.e.FailSets(i1.WorkflowID, http.StatusForbidden)
	a.e.AnswerAppliedSetsWith(i2.WorkflowID, http.StatusBadGateway, 1)

	a.e.SetFaults(emulator.Faults{})
	a.e.ResetCalls()
	a.e.ExpireTokens()
	a.e.SetListOmitsWorkflow(true)
	a.e.SetPageCap(50)
	a.e.SetTokenTTL(time.Hour)
	if err := a.e.SetSetupAnswer(emulator.SetupAnswerEcho); err != nil {
		t.Fatal(err)
	}
	a.e.Forbid(p2)
	a.e.Unforbid(p2)
	a.e.SetWebhook(i1.WorkflowID, "https://r.example/oob", nil)
	a.e.ClearWebhook(i2.WorkflowID)
	a.e.AddBatch(p1, "later")
	a.login()

	if got := a.listAll(p1, "", 10); len(got) != 3 {
		t.Fatalf("B2 %v, want every project's batches", ids(got))
	}
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches/"+b1, nil); status != http.StatusNotFound {
		t.Fatalf("B1: %d", status)
	}
	a.setup("workflowId="+i1.WorkflowID, map[string]any{"url": "https://r.example/x"}, http.StatusForbidden)
	a.setup("workflowId="+i2.WorkflowID, map[string]any{"url": "https://r.example/x"}, http.StatusBadGateway)
	a.setup("workflowId="+i2.WorkflowID, map[string]any{"url": "https://r.example/y"}, http.StatusOK)
}
