package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func adminDo(t *testing.T, a *api, method, route, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, a.base()+"_emulator/"+route, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type adminBatch struct {
	ID         string `json:"_id"`
	WorkflowID string `json:"workflowId"`
}

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{RateLimit: 0.001}})
	p := a.e.AddProject("p")
	a.login() // takes the only token: every further API call would be 429, admin calls are not

	status, b := adminDo(t, a, http.MethodPost, "batches", `{"projectId":"`+p+`","name":"oob"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var created adminBatch
	mustJSON(t, b, &created)
	if info, ok := a.e.Batch(created.ID); !ok || info.WorkflowID != created.WorkflowID || info.Name != "oob" {
		t.Fatalf("created %+v / %+v", created, info)
	}
	status, b = adminDo(t, a, http.MethodPost, "batches", `{"projectId":"`+p+`","name":"twin","workflowId":"`+created.WorkflowID+`"}`)
	var twin adminBatch
	mustJSON(t, b, &twin)
	if status != http.StatusCreated || twin.WorkflowID != created.WorkflowID {
		t.Fatalf("shared create: %d %s", status, b)
	}
	if status, _ := adminDo(t, a, http.MethodPost, "batches", `{"projectId":"nope","name":"x"}`); status != http.StatusNotFound {
		t.Fatalf("unknown project: %d", status)
	}
	if status, _ := adminDo(t, a, http.MethodPost, "batches", `{"project":"x"}`); status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", status)
	}

	// Deliver: 409 without a webhook, 404 for an unknown batch, 200 with the webhook after.
	if status, _ := adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"`+created.ID+`"}`); status != http.StatusConflict {
		t.Fatalf("deliver without webhook: %d", status)
	}
	if status, _ := adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"nope"}`); status != http.StatusNotFound {
		t.Fatalf("deliver unknown batch: %d", status)
	}
	rc := newReceiver(t, http.StatusAccepted, "", "")
	a.e.SetWebhook(created.WorkflowID, rc.srv.URL, ptr("Bearer x"))
	if status, _ := adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"`+created.ID+`","type":"bogus"}`); status != http.StatusBadRequest {
		t.Fatalf("deliver bad type: %d", status)
	}
	status, b = adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"`+twin.ID+`","taskId":"t9","type":"review"}`)
	if status != http.StatusOK || !strings.Contains(string(b), `"lastCall":{"statusCode":202,"message":"Accepted"`) {
		t.Fatalf("deliver: %d %s", status, b)
	}
	if len(rc.got) != 1 || rc.got[0]["batchId"] != twin.ID || rc.got[0]["taskId"] != "t9" || rc.got[0]["type"] != "review" {
		t.Fatalf("receiver got %v", rc.got)
	}
	_, _ = adminDo(t, a, http.MethodPost, "deliver", `{"batchId":"`+twin.ID+`"}`)
	if len(rc.got) != 2 || rc.got[1]["type"] != "annotation" || rc.got[1]["taskId"] == "" {
		t.Fatalf("defaults: %v", rc.got)
	}

	// Counters: only the login reached the API.
	status, b = adminDo(t, a, http.MethodGet, "calls", "")
	var calls map[string]int
	mustJSON(t, b, &calls)
	if status != http.StatusOK || len(calls) != 1 || calls["A1"] != 1 {
		t.Fatalf("calls: %d %s", status, b)
	}
	status, b = adminDo(t, a, http.MethodGet, "stats", "")
	if status != http.StatusOK || !strings.Contains(string(b), `"totalCalls":1`) {
		t.Fatalf("stats: %s", b)
	}
	if status, _ := adminDo(t, a, http.MethodDelete, "calls", ""); status != http.StatusNoContent || a.e.TotalCalls() != 0 {
		t.Fatalf("reset: %d, total %d", status, a.e.TotalCalls())
	}

	// Faults and settings.
	status, b = adminDo(t, a, http.MethodPut, "faults", `{"latency":"1ms","rateLimit":500,"failRate":0.1,"dropRate":0.02}`)
	if f := a.e.CurrentFaults(); status != http.StatusOK || f.RateLimit != 500 || f.FailRate != 0.1 || f.DropRate != 0.02 || f.Latency.Milliseconds() != 1 {
		t.Fatalf("faults: %d %s %+v", status, b, f)
	}
	if status, _ := adminDo(t, a, http.MethodPut, "faults", `{"failRate":2}`); status != http.StatusBadRequest {
		t.Fatalf("bad faults: %d", status)
	}
	adminDo(t, a, http.MethodPut, "faults", `{}`)
	status, b = adminDo(t, a, http.MethodPut, "settings", `{"listOmitsWorkflow":true,"pageCap":1}`)
	if status != http.StatusOK {
		t.Fatalf("settings: %d %s", status, b)
	}
	var pg page
	a.get("api/task-manager/batches?pagination=true&limit=50&projectId="+p, &pg)
	if pg.Limit != 1 || pg.TotalDocs != 2 {
		t.Fatalf("settings not applied: %+v", pg)
	}
	if _, ok := pg.Docs[0]["workflow"]; ok {
		t.Fatal("listOmitsWorkflow not applied")
	}

	// Forbid, delete, expire tokens.
	if status, _ := adminDo(t, a, http.MethodPost, "forbid", `{"id":"`+p+`"}`); status != http.StatusNoContent {
		t.Fatalf("forbid: %d", status)
	}
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches?pagination=true&projectId="+p, nil); status != http.StatusForbidden {
		t.Fatalf("after forbid: %d", status)
	}
	adminDo(t, a, http.MethodPost, "forbid", `{"id":"`+p+`","forbidden":false}`)
	if status, _ := adminDo(t, a, http.MethodDelete, "batches/"+twin.ID, ""); status != http.StatusOK {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := adminDo(t, a, http.MethodDelete, "batches/"+twin.ID, ""); status != http.StatusNotFound {
		t.Fatalf("delete twice: %d", status)
	}
	adminDo(t, a, http.MethodPost, "expire-tokens", "")
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches?pagination=true&projectId="+p, nil); status != http.StatusUnauthorized {
		t.Fatalf("after expire-tokens: %d", status)
	}
	if status, _ := adminDo(t, a, http.MethodGet, "nothing", ""); status != http.StatusNotFound {
		t.Fatalf("unknown admin route: %d", status)
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	s, err := emulator.ParseSeed([]byte(`{"projects":[
		{"name":"Cats","type":"iat-polygon","batches":[{"name":"w1"},{"name":"w2","same_workflow_as":"w1","status":"completed"},{"name":"w3","forbidden":true}],"batch_count":2},
		{"name":"Dogs","status":"archived","forbidden":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := emulator.New(emulator.Options{})
	if err := e.ApplySeed(s); err != nil {
		t.Fatal(err)
	}
	ps := e.Projects()
	if len(ps) != 2 || ps[0].ID != "6650c1f2a9b4000000000001" || ps[0].Type != "iat-polygon" || ps[0].Status != "pending" || ps[1].Status != "archived" {
		t.Fatalf("projects %+v", ps)
	}
	bs := e.ProjectBatches(ps[0].ID)
	if len(bs) != 5 {
		t.Fatalf("batches %v", bs)
	}
	b1, _ := e.Batch(bs[0])
	b2, _ := e.Batch(bs[1])
	b5, _ := e.Batch(bs[4])
	if b1.WorkflowID != b2.WorkflowID || b2.Status != "completed" || b5.Name != "batch-5" {
		t.Fatalf("seeded batches %+v %+v %+v", b1, b2, b5)
	}

	for _, bad := range []string{
		`{"projects":[{"name":""}]}`,
		`{"projects":[{"name":"x","status":"bogus"}]}`,
		`{"projects":[{"name":"x","type":"bogus"}]}`,
		`{"projects":[{"name":"x","batches":[{"name":"a","same_workflow_as":"b"}]}]}`,
		`{"projects":[{"name":"x","batch_count":-1}]}`,
		`{"projects":[{"name":"x","typo":1}]}`,
		`{"projects":[]} {}`,
	} {
		if _, err := emulator.ParseSeed([]byte(bad)); err == nil {
			t.Errorf("seed %s accepted", bad)
		}
	}
	g := emulator.GenerateSeed(2, 3)
	e2 := emulator.New(emulator.Options{})
	if err := e2.ApplySeed(g); err != nil {
		t.Fatal(err)
	}
	if ps := e2.Projects(); len(ps) != 2 || ps[1].Name != "project-2" || len(e2.ProjectBatches(ps[1].ID)) != 3 {
		t.Fatalf("generated %+v", ps)
	}
	// The seed format round-trips through encoding/json.
	if _, err := json.Marshal(g); err != nil {
		t.Fatal(err)
	}
}
