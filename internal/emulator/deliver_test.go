package emulator_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// receiver is a webhook receiver that records what it got and answers with a fixed status/body.
type receiver struct {
	mu       sync.Mutex
	got      []map[string]any
	auth     []string
	hasAuth  []bool
	srv      *httptest.Server
	status   int
	body     string
	bodyType string
}

func newReceiver(t *testing.T, status int, bodyType, body string) *receiver {
	rc := &receiver{status: status, body: body, bodyType: bodyType}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &p)
		rc.mu.Lock()
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" {
			rc.got = append(rc.got, p)
		}
		_, ok := r.Header["Authorization"]
		rc.auth = append(rc.auth, r.Header.Get("Authorization"))
		rc.hasAuth = append(rc.hasAuth, ok)
		rc.mu.Unlock()
		if rc.bodyType != "" {
			w.Header().Set("Content-Type", rc.bodyType)
		}
		w.WriteHeader(rc.status)
		_, _ = io.WriteString(w, rc.body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func TestDeliveryFailureRecordsJSONBody(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	rc := newReceiver(t, http.StatusInternalServerError, "application/json", `{"error": "boom", "retry": [1, 2]}`)
	a.login()
	a.setup("batchId="+b, map[string]any{"url": rc.srv.URL + "/hook", "header": "Bearer s3cret"}, http.StatusOK)

	err := a.e.Deliver(t.Context(), b, "task-1", "review")
	if !errors.Is(err, emulator.ErrDeliveryFailed) {
		t.Fatalf("Deliver: %v, want ErrDeliveryFailed", err)
	}
	want := map[string]any{"workflowId": info.WorkflowID, "type": "review", "taskId": "task-1", "batchId": b, "projectId": p}
	if len(rc.got) != 1 || !reflect.DeepEqual(rc.got[0], want) {
		t.Fatalf("payload %v, want %v", rc.got, want)
	}
	if rc.auth[0] != "Bearer s3cret" {
		t.Fatalf("Authorization %q, want the stored header verbatim", rc.auth[0])
	}

	wi, _ := a.e.Webhook(info.WorkflowID)
	if wi.LastCall == nil || wi.LastCall.StatusCode != 500 || wi.LastCall.Message != "Internal Server Error" || time.Since(wi.LastCall.Date) > time.Minute {
		t.Fatalf("LastCall %+v", wi.LastCall)
	}
	wantBody := map[string]any{"error": "boom", "retry": []any{float64(1), float64(2)}}
	if wi.LastError == nil || wi.LastError.StatusCode != 500 || !reflect.DeepEqual(wi.LastError.Body, wantBody) {
		t.Fatalf("LastError %+v", wi.LastError)
	}
	// On the wire, lastError.body is the receiver's JSON itself, not a string of it.
	raw := a.get("api/workflow-manager/workflows/"+info.WorkflowID, nil)
	if !strings.Contains(string(raw), `"lastError":{"statusCode":500,"message":"Internal Server Error","body":{"error":"boom","retry":[1,2]}}`) {
		t.Fatalf("W1 wire: %s", raw)
	}
	var d workflowDoc
	mustJSON(t, raw, &d)
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", fmt.Sprint(d.Webhook.LastCall["date"])); err != nil {
		t.Fatalf("lastCall.date: %v", err)
	}
}

func TestDeliverySuccessRecordsLastCallOnly(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	info, _ := a.e.Batch(b)
	rc := newReceiver(t, http.StatusOK, "", "")
	a.e.SetWebhook(info.WorkflowID, rc.srv.URL, nil)
	if err := a.e.Deliver(t.Context(), b, "t", "annotation"); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if rc.hasAuth[0] {
		t.Fatalf("no header set, yet Authorization %q was sent", rc.auth[0])
	}
	wi, _ := a.e.Webhook(info.WorkflowID)
	if wi.LastCall == nil || wi.LastCall.StatusCode != 200 || wi.LastCall.Message != "OK" || wi.LastError != nil {
		t.Fatalf("after a 200: %+v / %+v", wi.LastCall, wi.LastError)
	}
	a.login()
	raw := a.get("api/workflow-manager/workflows/"+info.WorkflowID, nil)
	if strings.Contains(string(raw), "lastError") || !strings.Contains(string(raw), `"lastCall":{"statusCode":200,"message":"OK","date":"`) {
		t.Fatalf("W1 wire: %s", raw)
	}
}

func TestDeliveryTextBodyAndNoAnswer(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	p := e.AddProject("p")
	b := e.AddBatch(p, "b")
	info, _ := e.Batch(b)
	rc := newReceiver(t, http.StatusBadRequest, "text/plain", "bad thing")
	e.SetWebhook(info.WorkflowID, rc.srv.URL, ptr("h"))
	_ = e.Deliver(t.Context(), b, "t", "annotation")
	if wi, _ := e.Webhook(info.WorkflowID); wi.LastError == nil || wi.LastError.Body != "bad thing" || wi.LastError.Message != "Bad Request" {
		t.Fatalf("text body: %+v", wi.LastError)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	e.SetWebhook(info.WorkflowID, deadURL, nil)
	err := e.Deliver(t.Context(), b, "t", "annotation")
	if !errors.Is(err, emulator.ErrDeliveryFailed) {
		t.Fatalf("no answer: %v", err)
	}
	wi, _ := e.Webhook(info.WorkflowID)
	if wi.LastCall.StatusCode != 0 || wi.LastCall.Message == "" || wi.LastError.StatusCode != 0 || wi.LastError.Body != nil {
		t.Fatalf("no answer: %+v / %+v", wi.LastCall, wi.LastError)
	}
	if strings.Contains(wi.LastCall.Message, deadURL) {
		t.Fatalf("message repeats the url: %q", wi.LastCall.Message)
	}
}

func TestDeliverRefusals(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	p := e.AddProject("p")
	b := e.AddBatch(p, "b")
	if err := e.Deliver(t.Context(), b, "t", "annotation"); !errors.Is(err, emulator.ErrNoWebhook) {
		t.Fatalf("no webhook: %v", err)
	}
	if err := e.Deliver(t.Context(), "nope", "t", "annotation"); !errors.Is(err, emulator.ErrNotFound) {
		t.Fatalf("unknown batch: %v", err)
	}
	if err := e.Deliver(t.Context(), b, "t", "labelling"); !errors.Is(err, emulator.ErrBadJobType) {
		t.Fatalf("bad type: %v", err)
	}
}
