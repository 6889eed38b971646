package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestBatchWithoutWorkflow(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	with := a.e.AddBatch(p, "with")
	bare := a.e.AddBatchWithoutWorkflow(p, "bare")
	if a.e.AddBatchWithoutWorkflow("nope", "x") != "" {
		t.Fatal("unknown project accepted")
	}
	// Only the batch id is allocated: project 1, batch 2 + workflow 3, bare batch 4.
	if bare != "6650c1f2a9b4000000000004" {
		t.Fatalf("bare id %s", bare)
	}
	info, ok := a.e.Batch(bare)
	if !ok || info.WorkflowID != "" || info.Name != "bare" || info.ProjectID != p {
		t.Fatalf("Batch() = %+v, %v", info, ok)
	}
	a.login()

	// B1 omits `workflow`.
	var doc map[string]any
	a.get("api/task-manager/batches/"+bare, &doc)
	if _, has := doc["workflow"]; has || doc["_id"] != bare {
		t.Fatalf("B1 %v", doc)
	}
	// B2 omits it for that batch only, whether or not lists carry workflows.
	for _, omit := range []bool{false, true} {
		a.e.SetListOmitsWorkflow(omit)
		var pg page
		a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
		if len(pg.Docs) != 2 {
			t.Fatalf("B2 %+v", pg)
		}
		if _, has := pg.Docs[0]["workflow"]; has == omit {
			t.Fatalf("omit=%v: batch with a workflow %v", omit, pg.Docs[0])
		}
		if _, has := pg.Docs[1]["workflow"]; has {
			t.Fatalf("omit=%v: batch without a workflow %v", omit, pg.Docs[1])
		}
	}

	// Setup-webhook by its batchId: 400 with a message; a removal too.
	b := a.setup("batchId="+bare, map[string]any{"url": "https://r.example/hook", "header": nil}, http.StatusBadRequest)
	if msg := errMessage(t, b); !strings.Contains(msg, bare) || !strings.Contains(msg, "no workflow") {
		t.Fatalf("message %q", msg)
	}
	a.setup("batchId="+bare, map[string]any{"url": nil, "header": nil}, http.StatusBadRequest)
	// Body validation still comes first, and 403 before 400.
	a.setup("batchId="+bare, map[string]any{"url": "ftp://x"}, http.StatusBadRequest)
	a.e.Forbid(bare)
	a.setup("batchId="+bare, map[string]any{"url": "https://r.example/hook"}, http.StatusForbidden)
	a.get("api/task-manager/batches/"+with, nil) // its sibling is untouched
	a.e.Unforbid(bare)

	// Delivery: ErrNoWorkflow, 409 through the admin route.
	if err := a.e.Deliver(context.Background(), bare, "t1", "annotation"); !errors.Is(err, emulator.ErrNoWorkflow) {
		t.Fatalf("Deliver: %v", err)
	}
	if status, b := adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"`+bare+`"}`); status != http.StatusConflict {
		t.Fatalf("admin deliver: %d %s", status, b)
	}

	// Delete through the API, then the accessor and the admin route on another one.
	if status, _, b := a.do(http.MethodDelete, "api/task-manager/batches/"+bare, nil); status != http.StatusOK || strings.Contains(string(b), "workflow") {
		t.Fatalf("B6: %d %s", status, b)
	}
	if _, ok := a.e.Batch(bare); ok {
		t.Fatal("still there after B6")
	}
	other := a.e.AddBatchWithoutWorkflow(p, "other")
	a.e.DeleteBatch(other)
	if _, ok := a.e.Batch(other); ok {
		t.Fatal("still there after DeleteBatch")
	}
	status, b := adminDo(t, a, http.MethodPost, "batches", `{"projectId":"`+p+`","name":"oob","noWorkflow":true}`)
	var created adminBatch
	mustJSON(t, b, &created)
	if info, _ := a.e.Batch(created.ID); status != http.StatusCreated || created.WorkflowID != "" || info.WorkflowID != "" {
		t.Fatalf("admin create: %d %s", status, b)
	}
	if status, _ := adminDo(t, a, http.MethodDelete, "batches/"+created.ID, ""); status != http.StatusOK {
		t.Fatalf("admin delete: %d", status)
	}
	wi, _ := a.e.Batch(with)
	if status, _ := adminDo(t, a, http.MethodPost, "batches", `{"projectId":"`+p+`","name":"x","noWorkflow":true,"workflowId":"`+wi.WorkflowID+`"}`); status != http.StatusBadRequest {
		t.Fatalf("noWorkflow with workflowId: %d", status)
	}
	if got := a.e.ProjectBatches(p); len(got) != 1 || got[0] != with {
		t.Fatalf("batches left %v", got)
	}
}

func TestSeedBatchWithoutWorkflow(t *testing.T) {
	t.Parallel()
	s, err := emulator.ParseSeed([]byte(`{"projects":[{"name":"p","batches":[
		{"name":"a"},{"name":"bare","no_workflow":true},{"name":"b","same_workflow_as":"a"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := emulator.New(emulator.Options{})
	if err := e.ApplySeed(s); err != nil {
		t.Fatal(err)
	}
	bs := e.ProjectBatches(e.Projects()[0].ID)
	a, _ := e.Batch(bs[0])
	bare, _ := e.Batch(bs[1])
	b, _ := e.Batch(bs[2])
	if len(bs) != 3 || a.WorkflowID == "" || bare.WorkflowID != "" || b.WorkflowID != a.WorkflowID {
		t.Fatalf("seeded %+v %+v %+v", a, bare, b)
	}
	for _, bad := range []string{
		`{"projects":[{"name":"p","batches":[{"name":"a"},{"name":"x","no_workflow":true,"same_workflow_as":"a"}]}]}`,
		`{"projects":[{"name":"p","batches":[{"name":"bare","no_workflow":true},{"name":"x","same_workflow_as":"bare"}]}]}`,
	} {
		if _, err := emulator.ParseSeed([]byte(bad)); err == nil {
			t.Errorf("seed %s accepted", bad)
		}
	}
}
