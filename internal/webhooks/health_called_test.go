package webhooks

import (
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// A last call dated before the webhook was last set was made to the
// webhook as it was (another url, another header): it says nothing of the
// current one, which is never_called until delivered to, whatever that old
// call's status. Dates that cannot be compared leave the rule of lastCall.
func TestHealthClassifyCalledBeforeSet(t *testing.T) {
	t.Parallel()
	const (
		before = "2025-01-02T03:04:05.678Z"
		at     = "2025-01-02T03:04:05.679Z" // 1 ms later
		after  = "2025-01-02T03:04:05.680Z"
	)
	call := func(code int, date string) *client.Call {
		return &client.Call{StatusCode: code, Message: "m", Date: date}
	}
	failure := func(code int) *client.CallError { return &client.CallError{StatusCode: code, Message: "m"} }
	for _, c := range []struct {
		name    string
		w       *client.Webhook
		state   State
		errDate string
	}{
		{"ok call, then set", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(200, before)}, StateNeverCalled, ""},
		{"failed call, then set", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(500, before), LastError: failure(500)}, StateNeverCalled, ""},
		{"no answer, then set", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(0, before), LastError: failure(0)}, StateNeverCalled, ""},
		{"set in another zone, an hour after the call", &client.Webhook{URL: "u", UpdatedAt: "2025-01-02T05:04:05.678+01:00", LastCall: call(200, before)}, StateNeverCalled, ""},
		{"set, then an ok call", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(200, after)}, StateOK, ""},
		{"set, then a failed call", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(500, after), LastError: failure(500)}, StateFailing, after},
		{"call in the millisecond of the set", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(200, at)}, StateOK, ""},
		{"call dated in another zone, after the set", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(200, "2025-01-02T04:04:05.680+01:00")}, StateOK, ""},
		{"no updatedAt", &client.Webhook{URL: "u", LastCall: call(200, before)}, StateOK, ""},
		{"updatedAt not a date", &client.Webhook{URL: "u", UpdatedAt: "yesterday", LastCall: call(500, before), LastError: failure(500)}, StateFailing, before},
		{"call undated", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(200, "")}, StateOK, ""},
		{"call date not a date", &client.Webhook{URL: "u", UpdatedAt: at, LastCall: call(503, "soon")}, StateFailing, ""},
		// lastError carries no date: nothing tells it from the current url's.
		{"an error, no call, then set", &client.Webhook{URL: "u", UpdatedAt: at, LastError: failure(400)}, StateFailing, ""},
		{"set, never called", &client.Webhook{URL: "u", UpdatedAt: at}, StateNeverCalled, ""},
	} {
		state, date := classify(c.w)
		if state != c.state || date != c.errDate {
			t.Errorf("%s: %s %q, want %s %q", c.name, state, date, c.state, c.errDate)
		}
	}
}

// Against the emulator, which keeps lastCall and moves updatedAt on a set
// (as the contract says): a healthy url replaced by a broken one is
// never_called, not ok, until the next delivery shows it failing; replaced
// again by a working one, never_called, then ok once delivered to.
func TestHealthURLChangedAfterLastCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	b := e.batches[0]
	wf := e.wf(b)
	target := Target{ProjectID: e.project, WorkflowID: wf}
	state := func(step string, want State) {
		t.Helper()
		res := e.health(t, target, HealthOptions{Every: true})
		if len(res.Workflows) != 1 || res.Workflows[0].State != want {
			t.Fatalf("%s: %+v, want state %s", step, res.Workflows, want)
		}
	}
	set := func(url string) {
		time.Sleep(3 * time.Millisecond) // the set's date after the last call's
		before, _ := e.emu.Webhook(wf)
		e.emu.SetWebhook(wf, url, nil)
		after, _ := e.emu.Webhook(wf)
		if before.LastCall == nil || after.LastCall == nil || !after.LastCall.Date.Equal(before.LastCall.Date) || !after.UpdatedAt.After(after.LastCall.Date) {
			t.Fatalf("the emulator should keep lastCall and move updatedAt on a set: before %+v, after %+v", before, after)
		}
	}

	e.emu.SetWebhook(wf, receiverAnswering(t, 200, ""), nil)
	state("set", StateNeverCalled)
	e.deliver(t, b)
	state("delivered", StateOK)

	set(receiverAnswering(t, 404, `{"error":"no such hook"}`))
	state("moved to a broken receiver", StateNeverCalled)
	e.deliver(t, b)
	state("the broken receiver called", StateFailing)

	set(receiverAnswering(t, 200, ""))
	state("moved to a working receiver", StateNeverCalled)
	e.deliver(t, b)
	state("the working receiver called", StateOK)
}
