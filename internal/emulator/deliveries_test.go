package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// Every delivery made is logged with the receiver's url, the status (0 for
// no answer) and the date lastCall holds; a refused one is not.
func TestDeliveriesAreLogged(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	p := e.AddProject("p")
	b := e.AddBatch(p, "b")
	info, _ := e.Batch(b)
	if err := e.Deliver(t.Context(), b, "t", "annotation"); err == nil {
		t.Fatal("a delivery without a webhook was made")
	}
	ok := newReceiver(t, http.StatusOK, "", "")
	e.SetWebhook(info.WorkflowID, ok.srv.URL, nil)
	_ = e.Deliver(t.Context(), b, "t", "annotation")
	bad := newReceiver(t, http.StatusBadGateway, "", "")
	e.SetWebhook(info.WorkflowID, bad.srv.URL, nil)
	_ = e.Deliver(t.Context(), b, "t", "review")
	silent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(time.Second) }))
	defer silent.Close()
	e.SetWebhook(info.WorkflowID, silent.URL, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_ = e.Deliver(ctx, b, "t", "annotation")

	got := e.Deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries logged, want 3: %+v", len(got), got)
	}
	for i, want := range []struct {
		url    string
		status int
	}{{ok.srv.URL, 200}, {bad.srv.URL, 502}, {silent.URL, 0}} {
		d := got[i]
		if d.URL != want.url || d.StatusCode != want.status || d.BatchID != b || d.WorkflowID != info.WorkflowID {
			t.Errorf("delivery %d: %+v, want %s %d", i, d, want.url, want.status)
		}
	}
	held, _ := e.Webhook(info.WorkflowID)
	if last := got[2]; !last.Date.Equal(held.LastCall.Date) || last.Message != held.LastCall.Message {
		t.Errorf("last delivery %+v, lastCall %+v", last, held.LastCall)
	}
}
