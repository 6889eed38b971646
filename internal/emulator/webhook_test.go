package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

type workflowDoc struct {
	ID      string          `json:"_id"`
	Name    string          `json:"name"`
	Webhook *webhookWireDoc `json:"webhook"`
}

type webhookWireDoc struct {
	URL       string         `json:"url"`
	Header    *string        `json:"header"`
	UpdatedAt string         `json:"updatedAt"`
	LastCall  map[string]any `json:"lastCall"`
	LastError map[string]any `json:"lastError"`
}

func (a *api) workflow(id string) workflowDoc {
	a.t.Helper()
	var d workflowDoc
	a.get("api/workflow-manager/workflows/"+id, &d)
	return d
}

func TestSetupByBatchAndByWorkflow(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b1, b2 := a.e.AddBatch(p, "b1"), a.e.AddBatch(p, "b2")
	i1, _ := a.e.Batch(b1)
	i2, _ := a.e.Batch(b2)
	a.login()

	if d := a.workflow(i1.WorkflowID); d.Webhook != nil || d.ID != i1.WorkflowID || d.Name == "" {
		t.Fatalf("fresh workflow: %+v", d)
	}
	raw := a.get("api/workflow-manager/workflows/"+i1.WorkflowID, nil)
	if !strings.Contains(string(raw), `"webhook":null`) {
		t.Fatalf("no webhook must be null: %s", raw)
	}

	before := time.Now().UTC().Truncate(time.Millisecond)
	b := a.setup("batchId="+b1, map[string]any{"url": "https://r.example/hook", "header": "Bearer s3"}, http.StatusOK)
	var answered webhookWireDoc
	mustJSON(t, b, &answered)
	d := a.workflow(i1.WorkflowID).Webhook
	if d == nil || d.URL != "https://r.example/hook" || d.Header == nil || *d.Header != "Bearer s3" || answered.URL != d.URL {
		t.Fatalf("after W3: %+v (answered %+v)", d, answered)
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000Z", d.UpdatedAt)
	if err != nil || ts.Before(before) {
		t.Fatalf("updatedAt %q: %v", d.UpdatedAt, err)
	}
	if d.LastCall != nil || d.LastError != nil || strings.Contains(string(b), "lastCall") {
		t.Fatalf("lastCall/lastError must be absent before any delivery: %s", b)
	}
	if a.workflow(i2.WorkflowID).Webhook != nil {
		t.Fatal("W3 on b1 touched b2's workflow")
	}

	a.setup("workflowId="+i2.WorkflowID, map[string]any{"url": "http://r2/", "header": nil}, http.StatusOK)
	if d := a.workflow(i2.WorkflowID).Webhook; d == nil || d.URL != "http://r2/" || d.Header != nil {
		t.Fatalf("after W2: %+v", d)
	}
	if wi, ok := a.e.Webhook(i2.WorkflowID); !ok || wi.URL != "http://r2/" || wi.Header != nil {
		t.Fatalf("Go view: %+v %v", wi, ok)
	}
	c := a.e.Calls()
	if c["W2"] != 1 || c["W3"] != 1 || c["W1"] != 5 {
		t.Fatalf("calls %v", c)
	}
}

func TestSharedWorkflow(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b1 := a.e.AddBatch(p, "b1")
	i1, _ := a.e.Batch(b1)
	b2 := a.e.AddBatchWithWorkflow(p, "b2", i1.WorkflowID)
	i2, _ := a.e.Batch(b2)
	if i2.WorkflowID != i1.WorkflowID {
		t.Fatal("AddBatchWithWorkflow did not share")
	}
	a.login()
	a.setup("batchId="+b2, map[string]any{"url": "https://shared/", "header": "h"}, http.StatusOK)
	var doc map[string]any
	a.get("api/task-manager/batches/"+b1, &doc)
	if wf, _ := doc["workflow"].(map[string]any); wf["id"] != i1.WorkflowID {
		t.Fatalf("b1 workflow %v", doc)
	}
	if d := a.workflow(i1.WorkflowID).Webhook; d == nil || d.URL != "https://shared/" {
		t.Fatalf("setting b2 did not set b1's (shared) workflow: %+v", d)
	}
}

func TestSetupValidation(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	a.login()
	good := map[string]any{"url": "https://x/", "header": nil}
	cases := []struct {
		name, query string
		body        any
		want        int
		msg         string
	}{
		{"both ids", "batchId=" + b + "&workflowId=" + info.WorkflowID, good, 400, "exactly one"},
		{"no id", "", good, 400, "exactly one"},
		{"empty id", "batchId=", good, 400, ""},
		{"ftp url", "batchId=" + b, map[string]any{"url": "ftp://x/", "header": nil}, 400, `"ftp://x/"`},
		{"empty url", "batchId=" + b, map[string]any{"url": ""}, 400, "http"},
		{"url number", "batchId=" + b, map[string]any{"url": 3}, 400, "url"},
		{"url missing", "batchId=" + b, map[string]any{"header": "h"}, 400, "url"},
		{"header number", "batchId=" + b, map[string]any{"url": "https://x/", "header": 3}, 400, "header"},
		{"not json", "batchId=" + b, "url=https://x/", 400, ""},
		{"unknown batch", "batchId=6650c1f2a9b4000000000abc", good, 404, ""},
		{"unknown workflow", "workflowId=6650c1f2a9b4000000000abc", good, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := a.setup(c.query, c.body, c.want)
			if m := errMessage(t, body); !strings.Contains(m, c.msg) {
				t.Fatalf("message %q does not contain %q", m, c.msg)
			}
		})
	}
	if _, ok := a.e.Webhook(info.WorkflowID); ok {
		t.Fatal("a refused setup stored a webhook")
	}
	// Form-encoded body is refused even with a correct url.
	req, _ := http.NewRequest(http.MethodPatch, a.base()+"api/workflow-manager/workflows/setup-webhook?batchId="+b, strings.NewReader(`{"url":"https://x/"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("text/plain body: %d, want 400", resp.StatusCode)
	}
}

func TestHeaderNullAndURLNullClear(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	a.login()
	a.setup("batchId="+b, map[string]any{"url": "https://x/", "header": "secret"}, http.StatusOK)
	a.setup("batchId="+b, map[string]any{"url": "https://y/", "header": nil}, http.StatusOK)
	if d := a.workflow(info.WorkflowID).Webhook; d == nil || d.URL != "https://y/" || d.Header != nil {
		t.Fatalf("header null must clear the header: %+v", d)
	}
	a.setup("batchId="+b, map[string]any{"url": "https://y/", "header": "again"}, http.StatusOK)
	a.setup("batchId="+b, map[string]any{"url": "https://y/"}, http.StatusOK)
	if d := a.workflow(info.WorkflowID).Webhook; d.Header != nil {
		t.Fatalf("absent header must clear it too: %+v", d)
	}
	body := a.setup("workflowId="+info.WorkflowID, map[string]any{"url": nil, "header": "ignored"}, http.StatusOK)
	if strings.TrimSpace(string(body)) != "null" {
		t.Fatalf("clear must answer null, got %s", body)
	}
	if d := a.workflow(info.WorkflowID); d.Webhook != nil {
		t.Fatalf("url null must clear the webhook: %+v", d.Webhook)
	}
	if _, ok := a.e.Webhook(info.WorkflowID); ok {
		t.Fatal("Go view still has a webhook")
	}
}

func TestLastCallAndLastErrorSurviveResetup(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusTeapot)
	}))
	defer recv.Close()
	a.login()
	a.setup("batchId="+b, map[string]any{"url": recv.URL, "header": "h1"}, http.StatusOK)
	if err := a.e.Deliver(t.Context(), b, "t1", "annotation"); err == nil {
		t.Fatal("418 delivery must report a failure")
	}
	first := a.workflow(info.WorkflowID).Webhook
	a.setup("batchId="+b, map[string]any{"url": "https://elsewhere/", "header": "h2"}, http.StatusOK)
	d := a.workflow(info.WorkflowID).Webhook
	if d.URL != "https://elsewhere/" || *d.Header != "h2" {
		t.Fatalf("re-setup not applied: %+v", d)
	}
	if d.LastCall == nil || d.LastError == nil || d.LastCall["statusCode"] != float64(418) ||
		d.LastError["body"] != "nope\n" || d.LastCall["date"] != first.LastCall["date"] {
		t.Fatalf("lastCall/lastError lost on re-setup: %+v", d)
	}
	// Out-of-band SetWebhook keeps them too; ClearWebhook drops everything.
	a.e.SetWebhook(info.WorkflowID, "https://oob/", nil)
	if wi, _ := a.e.Webhook(info.WorkflowID); wi.LastError == nil || wi.LastCall == nil || wi.URL != "https://oob/" {
		t.Fatalf("SetWebhook: %+v", wi)
	}
	a.e.ClearWebhook(info.WorkflowID)
	a.setup("batchId="+b, map[string]any{"url": "https://new/", "header": nil}, http.StatusOK)
	if d := a.workflow(info.WorkflowID).Webhook; d.LastCall != nil || d.LastError != nil {
		t.Fatalf("a removed webhook's history came back: %+v", d)
	}
}

func TestNotFoundAndForbidden(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	other := a.e.AddProject("other")
	b := a.e.AddBatch(p, "b")
	nb := a.e.AddBatch(p, "neighbour")
	info, _ := a.e.Batch(b)
	ninfo, _ := a.e.Batch(nb)
	ob := a.e.AddBatch(other, "ob")
	oinfo, _ := a.e.Batch(ob)
	a.login()
	unknown := "6650c1f2a9b4000000000abc"
	hook := map[string]any{"url": "https://x/", "header": nil}

	expect := func(method, path string, body any, want int) {
		t.Helper()
		status, _, raw := a.do(method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d, want %d; %s", method, path, status, want, raw)
		}
		errMessage(t, raw)
	}
	expect(http.MethodGet, "api/task-manager/batches/"+unknown, nil, 404)
	expect(http.MethodGet, "api/workflow-manager/workflows/"+unknown, nil, 404)
	expect(http.MethodDelete, "api/task-manager/batches/"+unknown, nil, 404)

	// A forbidden batch: B1, B6, W3 on it and W1/W2 on its workflow are 403; the project
	// still lists it; its neighbour is unaffected.
	a.e.Forbid(b)
	expect(http.MethodGet, "api/task-manager/batches/"+b, nil, 403)
	expect(http.MethodDelete, "api/task-manager/batches/"+b, nil, 403)
	expect(http.MethodPatch, "api/workflow-manager/workflows/setup-webhook?batchId="+b, hook, 403)
	expect(http.MethodPatch, "api/workflow-manager/workflows/setup-webhook?workflowId="+info.WorkflowID, hook, 403)
	expect(http.MethodGet, "api/workflow-manager/workflows/"+info.WorkflowID, nil, 403)
	var pg page
	a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
	if pg.TotalDocs != 2 {
		t.Fatalf("forbidden batch must still be listed: %+v", pg)
	}
	a.setup("batchId="+nb, hook, http.StatusOK)
	a.workflow(ninfo.WorkflowID)
	a.e.Unforbid(b)
	a.setup("batchId="+b, hook, http.StatusOK)

	// A forbidden project: B2, B4, P1 by id, and everything under it are 403; other projects are not.
	a.e.Forbid(p)
	expect(http.MethodGet, "api/task-manager/batches?pagination=true&projectId="+p, nil, 403)
	expect(http.MethodPost, "api/task-manager/batches", map[string]string{"name": "n", "projectId": p}, 403)
	expect(http.MethodGet, "api/project-manager/projects?pagination=true&ids="+p, nil, 403)
	expect(http.MethodGet, "api/project-manager/projects?pagination=true&ids="+other+"&ids="+p, nil, 403)
	expect(http.MethodGet, "api/task-manager/batches/"+nb, nil, 403)
	expect(http.MethodGet, "api/workflow-manager/workflows/"+ninfo.WorkflowID, nil, 403)
	a.get("api/project-manager/projects?pagination=true", &pg)
	if got := ids(pg.Docs); len(got) != 1 || got[0] != other {
		t.Fatalf("unfiltered P1 must leave the forbidden project out: %v", got)
	}
	a.get("api/task-manager/batches/"+ob, nil)
	a.setup("workflowId="+oinfo.WorkflowID, hook, http.StatusOK)

	// A forbidden workflow id alone.
	a.e.Forbid(oinfo.WorkflowID)
	expect(http.MethodPatch, "api/workflow-manager/workflows/setup-webhook?batchId="+ob, hook, 403)
	a.get("api/task-manager/batches/"+ob, nil)
}
