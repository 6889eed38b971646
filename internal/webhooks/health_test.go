package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// receiverAnswering is a webhook receiver on loopback that answers status
// with body; status 0 never answers (until the caller gives up).
func receiverAnswering(t *testing.T, status int, body string) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the caller leaving
		if status == 0 {
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: Close waits for handlers
	return srv.URL + "/hook"
}

// deliver makes the emulator deliver to a batch's webhook, a few
// milliseconds after the previous delivery so that dates differ.
func (e *env) deliver(t *testing.T, batch string) {
	t.Helper()
	time.Sleep(3 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := e.emu.Deliver(ctx, batch, "task", "annotation"); err != nil && !errors.Is(err, emulator.ErrDeliveryFailed) {
		t.Fatalf("Deliver(%s): %v", batch, err)
	}
}

func (e *env) health(t *testing.T, target Target, h HealthOptions) HealthResult {
	t.Helper()
	before := e.writes()
	res, err := Health(context.Background(), e.c, target, opts, h)
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if e.writes() != before {
		t.Fatalf("Health wrote: %v", e.emu.Calls())
	}
	return res
}

func counts(m map[State]int) string {
	var parts []string
	for _, s := range States {
		parts = append(parts, fmt.Sprintf("%s=%d", s, m[s]))
	}
	return strings.Join(parts, " ")
}

func ids(whs []WorkflowHealth) []string {
	var out []string
	for _, wh := range whs {
		out = append(out, wh.WorkflowID)
	}
	return out
}

// The rule of classify, case by case, from what a workflow document holds.
func TestHealthClassify(t *testing.T) {
	t.Parallel()
	call := func(code int) *client.Call {
		return &client.Call{StatusCode: code, Message: "m", Date: "2025-01-02T03:04:05.678Z"}
	}
	failure := func(code int) *client.CallError { return &client.CallError{StatusCode: code, Message: "m"} }
	for _, c := range []struct {
		name    string
		w       *client.Webhook
		state   State
		errDate string
	}{
		{"no webhook", nil, StateNoWebhook, ""},
		{"set, never called", &client.Webhook{URL: "u"}, StateNeverCalled, ""},
		{"last call 200", &client.Webhook{URL: "u", LastCall: call(200)}, StateOK, ""},
		{"last call 204 after an older error", &client.Webhook{URL: "u", LastCall: call(204), LastError: failure(500)}, StateOK, ""},
		{"last call 500, its error", &client.Webhook{URL: "u", LastCall: call(500), LastError: failure(500)}, StateFailing, "2025-01-02T03:04:05.678Z"},
		{"no answer", &client.Webhook{URL: "u", LastCall: call(0), LastError: failure(0)}, StateFailing, "2025-01-02T03:04:05.678Z"},
		{"a redirect is a failure", &client.Webhook{URL: "u", LastCall: call(302), LastError: failure(302)}, StateFailing, "2025-01-02T03:04:05.678Z"},
		{"last call 404, the error on record another", &client.Webhook{URL: "u", LastCall: call(404), LastError: failure(500)}, StateFailing, ""},
		{"last call failed, no error on record", &client.Webhook{URL: "u", LastCall: call(503)}, StateFailing, ""},
		{"an error and no call on record", &client.Webhook{URL: "u", LastError: failure(400)}, StateFailing, ""},
	} {
		state, date := classify(c.w)
		if state != c.state || date != c.errDate {
			t.Errorf("%s: %s %q, want %s %q", c.name, state, date, c.state, c.errDate)
		}
	}
}

// A project with every state: counts by workflow and by batch, the failing
// list newest first and capped, each naming its batches; one list walk and
// one read per workflow, whatever the batches sharing one.
func TestHealthProjectStates(t *testing.T) {
	t.Parallel()
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("list omits workflow %v", omit), func(t *testing.T) {
			e := newEnv(t, 7, 2) // b0..b6; s0, s1 share b0's workflow
			e.addBatchWithoutWorkflow("no-workflow")
			b := e.batches
			e.emu.SetWebhook(e.wf(b[0]), receiverAnswering(t, 200, ""), nil)
			e.emu.SetWebhook(e.wf(b[1]), receiverAnswering(t, 500, `{"error":"down"}`), nil)
			e.emu.SetWebhook(e.wf(b[2]), receiverAnswering(t, 404, ""), nil)
			e.emu.SetWebhook(e.wf(b[3]), receiverAnswering(t, 0, ""), nil)
			e.emu.SetWebhook(e.wf(b[4]), "https://never.example/h", nil)
			// b5: failed once, then succeeded: ok, its old error kept.
			recovering := receiverAnswering(t, 503, "")
			e.emu.SetWebhook(e.wf(b[5]), recovering, nil)
			// b6 holds no webhook.
			e.deliver(t, b[5])
			e.emu.SetWebhook(e.wf(b[5]), receiverAnswering(t, 200, ""), nil)
			for _, i := range []int{0, 1, 2, 3, 5} {
				e.deliver(t, b[i])
			}
			e.emu.SetListOmitsWorkflow(omit)
			e.emu.ResetCalls()

			res := e.health(t, Target{ProjectID: e.project}, HealthOptions{MaxFailing: 2})

			c := e.emu.Calls()
			wantB1 := map[bool]int{false: 1, true: 10}[omit] // the workflowless batch, or every batch
			if c["B2"] != 1 || c["W1"] != 7 || c["B1"] != wantB1 || c["P1"] != 1 {
				t.Fatalf("calls %v: want one list walk, %d batch reads and one read per workflow (7)", c, wantB1)
			}
			if got, want := counts(res.Counts), "ok=2 failing=3 never_called=1 no_webhook=1 unreadable=0"; got != want {
				t.Fatalf("workflow counts %s, want %s", got, want)
			}
			if got, want := counts(res.BatchCounts), "ok=4 failing=3 never_called=1 no_webhook=1 unreadable=0"; got != want {
				t.Fatalf("batch counts %s, want %s", got, want)
			}
			if len(res.NoWorkflow) != 1 || res.Err() != nil || res.Workflows != nil {
				t.Fatalf("no workflow %v, err %v, workflows %v", res.NoWorkflow, res.Err(), res.Workflows)
			}
			// b3 (timed out) failed last, then b2 (404); b1 (500) is past the cap.
			if got, want := ids(res.Failing), []string{e.wf(b[3]), e.wf(b[2])}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("failing %v, want %v (newest first, capped at 2)", got, want)
			}
			timedOut, notFound := res.Failing[0], res.Failing[1]
			held, _ := e.hook(b[3])
			if timedOut.LastCall == nil || timedOut.LastCall.StatusCode != 0 || timedOut.LastError == nil || timedOut.LastError.StatusCode != 0 ||
				timedOut.LastErrorDate != held.LastCall.Date.Format("2006-01-02T15:04:05.000Z") || timedOut.URL != held.URL {
				t.Fatalf("timed out: %+v %+v %+v, server holds %+v", timedOut, timedOut.LastCall, timedOut.LastError, held.LastCall)
			}
			if notFound.LastCall.StatusCode != 404 || notFound.LastError.Message != "Not Found" ||
				notFound.BatchCount != 1 || len(notFound.Batches) != 1 || notFound.Batches[0] != (BatchRef{ID: b[2], Name: "b2"}) {
				t.Fatalf("404: %+v %+v", notFound, notFound.Batches)
			}
		})
	}
}

// Every, and batches named per workflow: the first few by id, with a count
// of all; a workflow that cannot be read is unreadable, not an error.
func TestHealthEveryWorkflowAndBatchNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 6) // s0..s5 share b0's workflow
	b := e.batches
	e.emu.SetWebhook(e.wf(b[0]), receiverAnswering(t, 500, ""), nil)
	e.deliver(t, b[0])
	e.emu.SetWebhook(e.wf(b[1]), "https://never.example/h", nil)
	e.emu.Forbid(b[2])

	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{Every: true, MaxBatches: 3})
	if got := fmt.Sprint(ids(res.Workflows)); got != fmt.Sprint([]string{e.wf(b[0]), e.wf(b[1]), e.wf(b[2])}) {
		t.Fatalf("workflows %v, want the three in list order", got)
	}
	var states []State
	for _, wh := range res.Workflows {
		states = append(states, wh.State)
	}
	if fmt.Sprint(states) != "[failing never_called unreadable]" {
		t.Fatalf("states %v", states)
	}
	shared := res.Workflows[0]
	if shared.BatchCount != 7 || len(shared.Batches) != 3 || shared.Batches[0].ID != b[0] ||
		fmt.Sprint(names(shared.Batches)) != "[b0 s0 s1]" {
		t.Fatalf("shared workflow: %d batches, named %v", shared.BatchCount, shared.Batches)
	}
	if len(res.Failing) != 1 || res.Failing[0].BatchCount != 7 {
		t.Fatalf("failing %+v", res.Failing)
	}
	if got := counts(res.BatchCounts); got != "ok=0 failing=7 never_called=1 no_webhook=0 unreadable=1" {
		t.Fatalf("batch counts %s", got)
	}
	if got := counts(res.Counts); got != "ok=0 failing=1 never_called=1 no_webhook=0 unreadable=1" {
		t.Fatalf("workflow counts %s", got)
	}
	if err := res.Err(); !errors.Is(err, client.ErrForbidden) || !strings.Contains(err.Error(), b[2]) {
		t.Fatalf("Err() = %v, want the forbidden batch named", err)
	}
}

// The header's value never comes out: not whole, not its credentials, not
// JSON-escaped, in the message or the body; the body is cut after that.
func TestHealthRedactsHeaderAndCutsBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	const header = `Bearer s3cr"et-token`
	echo := fmt.Sprintf(`{"got":%q,"credentials":"s3cr\"et-token","raw":"s3cr"}`, header)
	e.emu.SetWebhook(e.wf(e.batches[0]), receiverAnswering(t, 401, echo), ptr(header))
	e.deliver(t, e.batches[0])
	long := `"` + strings.Repeat("é", 3000) + `"`
	e.emu.SetWebhook(e.wf(e.batches[1]), receiverAnswering(t, 500, long), nil)
	e.deliver(t, e.batches[1])

	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{MaxBody: 100})
	byWF := map[string]WorkflowHealth{}
	for _, wh := range res.Failing {
		byWF[wh.WorkflowID] = wh
	}
	got := byWF[e.wf(e.batches[0])].LastError
	if got == nil {
		t.Fatalf("no last error: %+v", res.Failing)
	}
	if want := `{"got":"***","credentials":"***","raw":"s3cr"}`; got.Body != want {
		t.Fatalf("body %s, want %s", got.Body, want)
	}
	cut := byWF[e.wf(e.batches[1])].LastError.Body
	if !strings.HasPrefix(cut, strings.Repeat("é", 50)+"...(cut, 6000 bytes in all)") {
		t.Fatalf("cut body %q", cut)
	}
}

// A header too short to mask (set outside Terraform: the provider refuses
// one) withholds a text that holds it, rather than garbling every text.
func TestHealthWithholdsTextQuotingAShortHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2, 0)
	e.emu.SetWebhook(e.wf(e.batches[0]), receiverAnswering(t, 401, `{"token":"zq"}`), ptr("Bearer zq"))
	e.deliver(t, e.batches[0])
	e.emu.SetWebhook(e.wf(e.batches[1]), receiverAnswering(t, 500, `{"error":"down"}`), ptr("zq"))
	e.deliver(t, e.batches[1])

	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{})
	bodies := map[string]string{}
	for _, wh := range res.Failing {
		bodies[wh.WorkflowID] = wh.LastError.Body
	}
	if got := bodies[e.wf(e.batches[0])]; got != withheld {
		t.Errorf("a body quoting the header: %q, want it withheld", got)
	}
	if got := bodies[e.wf(e.batches[1])]; got != `{"error":"down"}` {
		t.Errorf("a body without the header: %q, want it unchanged", got)
	}
}

// Named batches: each read on its own (no list walk), their workflows read
// once; a batch without a workflow is listed, bad ones are errors naming
// each batch.
func TestHealthBatchIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 1) // s0 shares b0's workflow
	b := e.batches
	nowf := e.addBatchWithoutWorkflow("nowf")
	e.emu.SetWebhook(e.wf(b[0]), receiverAnswering(t, 200, ""), nil)
	e.deliver(t, b[0])
	e.emu.ResetCalls()

	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{BatchIDs: []string{b[0], b[4], b[1], nowf}, Every: true})
	if c := e.emu.Calls(); c["B2"] != 0 || c["B1"] != 4 || c["W1"] != 2 {
		t.Fatalf("calls %v: want a batch read each, a workflow read each (2)", c)
	}
	if got := counts(res.Counts); got != "ok=1 failing=0 never_called=0 no_webhook=1 unreadable=0" {
		t.Fatalf("counts %s", got)
	}
	if len(res.NoWorkflow) != 1 || res.NoWorkflow[0] != nowf || res.Workflows[0].BatchCount != 2 {
		t.Fatalf("no workflow %v, workflows %+v", res.NoWorkflow, res.Workflows)
	}

	other := e.emu.AddProject("other")
	foreign := e.emu.AddBatch(other, "foreign")
	missing := "6650c1f2a9b4ffffffffffff"
	_, err := Health(context.Background(), e.c, Target{ProjectID: e.project}, opts, HealthOptions{BatchIDs: []string{b[0], foreign, missing}})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("err %v: want one error per bad batch", err)
	}
	var bad []string
	for _, one := range joined.Unwrap() {
		var be *BatchError
		if !errors.As(one, &be) {
			t.Fatalf("not a BatchError: %v", one)
		}
		bad = append(bad, be.BatchID)
	}
	if fmt.Sprint(bad) != fmt.Sprint([]string{foreign, missing}) || !errors.Is(err, ErrGone) ||
		!strings.Contains(err.Error(), "belongs to project "+other) {
		t.Fatalf("errors for %v: %v", bad, err)
	}
}

// A workflow target: its webhook alone; a workflow that is gone is an error.
func TestHealthWorkflowTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	e.emu.SetWebhook(e.wf(e.batches[0]), receiverAnswering(t, 502, ""), nil)
	e.deliver(t, e.batches[0])
	res := e.health(t, Target{ProjectID: e.project, WorkflowID: e.wf(e.batches[0])}, HealthOptions{})
	if len(res.Failing) != 1 || res.Failing[0].LastCall.StatusCode != 502 || res.Failing[0].BatchCount != 0 {
		t.Fatalf("failing %+v", res.Failing)
	}
	e.srv.set(func(s *server) { s.workflow404[e.wf(e.batches[0])] = true })
	_, err := Health(context.Background(), e.c, Target{ProjectID: e.project, WorkflowID: e.wf(e.batches[0])}, opts, HealthOptions{})
	if !errors.Is(err, ErrGone) {
		t.Fatalf("err %v, want ErrGone", err)
	}
}

// newestFirst keeps the newest failures whatever the order they come in.
func TestHealthNewestFirstKeepsNewest(t *testing.T) {
	t.Parallel()
	n := &newestFirst{limit: 3}
	for _, i := range []int{5, 1, 9, 3, 7, 8, 2} {
		n.offer(&WorkflowHealth{WorkflowID: fmt.Sprintf("w%d", i), LastCall: &client.Call{Date: fmt.Sprintf("2025-01-01T00:00:0%d.000Z", i)}})
	}
	n.offer(&WorkflowHealth{WorkflowID: "undated"})
	if got := fmt.Sprint(ids(derefs(n.sorted()))); got != "[w9 w8 w7]" {
		t.Fatalf("kept %s", got)
	}
}

func derefs(p []*WorkflowHealth) []WorkflowHealth {
	out := make([]WorkflowHealth, len(p))
	for i, wh := range p {
		out[i] = *wh
	}
	return out
}

// A batch whose workflow cannot be found (its read answers 403) counts as
// unreadable among the batches; the workflows read are counted as usual.
func TestHealthUnreadableBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3, 0)
	e.emu.SetListOmitsWorkflow(true)
	e.emu.SetWebhook(e.wf(e.batches[0]), "https://never.example/h", nil)
	e.emu.Forbid(e.batches[1])
	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{})
	if got := counts(res.BatchCounts); got != "ok=0 failing=0 never_called=1 no_webhook=1 unreadable=1" {
		t.Fatalf("batch counts %s", got)
	}
	if got := counts(res.Counts); got != "ok=0 failing=0 never_called=1 no_webhook=1 unreadable=0" {
		t.Fatalf("workflow counts %s", got)
	}
	if _, ok := res.Unreadable[e.batches[1]]; !ok || !errors.Is(res.Err(), client.ErrForbidden) {
		t.Fatalf("unreadable %v, err %v", res.Unreadable, res.Err())
	}
}

// The header is redacted by Health itself, not only by the client (whose
// memory of header values is bounded): whole, its credentials alone, and
// JSON-escaped, in messages and the body; a short credentials part is left.
func TestHealthRedactsWhatTheClientForgot(t *testing.T) {
	t.Parallel()
	c := newClient(t, "http://127.0.0.1:1") // never called: it has learned no header
	header := `Bearer to"ken-42`
	w := &client.Webhook{
		URL:       "https://r.example/h",
		Header:    &header,
		LastCall:  &client.Call{StatusCode: 401, Message: "refused Bearer to\"ken-42", Date: "2025-01-01T00:00:00.000Z"},
		LastError: &client.CallError{StatusCode: 401, Message: "refused to\"ken-42", Body: `{"a":"Bearer to\"ken-42","b":"to\"ken-42","c":"to\"ken"}`},
	}
	wh := assess(c, "wf", w, 1000)
	if wh.LastCall.Message != "refused ***" || wh.LastError.Message != "refused ***" {
		t.Fatalf("messages %q, %q", wh.LastCall.Message, wh.LastError.Message)
	}
	if want := `{"a":"***","b":"***","c":"to\"ken"}`; wh.LastError.Body != want {
		t.Fatalf("body %s, want %s", wh.LastError.Body, want)
	}
	plain := "Bearer abc"
	w = &client.Webhook{URL: "u", Header: &plain, LastError: &client.CallError{Body: "Bearer abc, abc"}}
	if got := assess(c, "wf", w, 1000).LastError.Body; got != withheld {
		t.Fatalf("short credentials: %q, want the text withheld", got)
	}
}
