package webhooks

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/redact"
)

// State is a workflow's delivery health, derived from its webhook (see
// classify).
type State string

const (
	StateOK          State = "ok"           // the last delivery succeeded
	StateFailing     State = "failing"      // the last delivery failed: its error is newer than any success
	StateNeverCalled State = "never_called" // a webhook that was never delivered to
	StateNoWebhook   State = "no_webhook"   // the workflow holds no webhook
	StateUnreadable  State = "unreadable"   // the webhook (or a batch's workflow) could not be read
)

// States lists every state, in the order reports show them.
var States = []State{StateOK, StateFailing, StateNeverCalled, StateNoWebhook, StateUnreadable}

// Defaults of HealthOptions.
const (
	DefaultMaxFailing = 10
	DefaultMaxBatches = 5
	DefaultMaxBody    = 1024
	maxMessage        = 500 // bytes kept of a call's message
)

// HealthOptions shape what Health keeps. The counts always cover every
// workflow; only what is kept per workflow is bounded.
type HealthOptions struct {
	// BatchIDs, with a project target, narrows it to these batches of the
	// project: each is read on its own (B1) instead of listing the project.
	BatchIDs []string
	// MaxFailing bounds Failing (0: DefaultMaxFailing, < 0: none kept).
	MaxFailing int
	// MaxBatches bounds the batches named per workflow (0: DefaultMaxBatches).
	MaxBatches int
	// MaxBody bounds a last error's body, in bytes (0: DefaultMaxBody).
	MaxBody int
	// Every keeps an entry for every workflow covered (Workflows): memory
	// then grows with the project, so it is off unless asked for.
	Every bool
}

func (h HealthOptions) maxFailing() int { return orDefault(h.MaxFailing, DefaultMaxFailing) }
func (h HealthOptions) maxBatches() int { return orDefault(h.MaxBatches, DefaultMaxBatches) }
func (h HealthOptions) maxBody() int    { return orDefault(h.MaxBody, DefaultMaxBody) }

func orDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// WorkflowHealth is one workflow's health. It never holds the header: the
// header's value is redacted from messages and the body.
type WorkflowHealth struct {
	WorkflowID string
	State      State
	URL        string            // "" without a webhook
	LastCall   *client.Call      // the last delivery attempt; nil when none
	LastError  *client.CallError // the last failed one, body cut; nil when none
	// LastErrorDate is when the last error happened, "" when the document
	// does not tell (see classify).
	LastErrorDate string
	// BatchCount is the covered batches that use the workflow (0 for a
	// workflow target: the API cannot list a workflow's batches); Batches
	// names the first few of them by id.
	BatchCount int
	Batches    []BatchRef
}

// HealthResult is what Health found.
type HealthResult struct {
	// Counts is the workflows in each state; BatchCounts the covered
	// batches by the state of their workflow (a batch whose workflow could
	// not be found counts as unreadable). Every state has a key.
	Counts, BatchCounts map[State]int
	// Failing holds the failing workflows, the newest failure first, at
	// most MaxFailing of them.
	Failing []WorkflowHealth
	// Workflows holds every workflow covered, in coverage order, only with
	// HealthOptions.Every.
	Workflows []WorkflowHealth
	// NoWorkflow lists the covered batches without a workflow (hence
	// without a webhook); they are in no count.
	NoWorkflow []string
	// Unreadable maps the batches whose workflow could not be found to why.
	Unreadable map[string]error
	// Foreign maps the batches the API returned that name another project
	// to that project: in no count.
	Foreign map[string]string
	// Failed maps the workflows whose webhook could not be read to why.
	Failed map[string]error
	cov    Coverage
}

// Err says what could not be read; nil when everything was.
func (r HealthResult) Err() error {
	return partialErr(r.cov, r.Failed, r.Unreadable, "read")
}

// BatchError is the error of one batch of HealthOptions.BatchIDs.
type BatchError struct {
	BatchID string
	Err     error
}

func (e *BatchError) Error() string { return e.Err.Error() }
func (e *BatchError) Unwrap() error { return e.Err }

// Health reads the webhook of every workflow the target covers, once each
// in the bounded pool, and derives each one's state. It writes nothing.
//
// The error is for what makes the answer meaningless (the project or a
// named batch or workflow cannot be read, ctx ends); with BatchIDs it joins
// a *BatchError per bad batch. A workflow or batch that cannot be read
// otherwise is in the result (Err) and counted as unreadable.
func Health(ctx context.Context, c *client.Client, t Target, opts Options, h HealthOptions) (HealthResult, error) {
	var cov Coverage
	var err error
	if len(h.BatchIDs) > 0 && t.Project() {
		cov, err = coverBatches(ctx, c, t.ProjectID, h.BatchIDs, opts)
	} else {
		cov, err = cover(ctx, c, t, opts)
	}
	if err != nil {
		return HealthResult{}, err
	}
	res := HealthResult{Counts: map[State]int{}, BatchCounts: map[State]int{}, NoWorkflow: cov.NoWorkflow,
		Unreadable: cov.Unreadable, Foreign: cov.Foreign, cov: cov}
	for _, s := range States {
		res.Counts[s], res.BatchCounts[s] = 0, 0
	}
	states := make(map[string]State, len(cov.Workflows))
	newest := &newestFirst{limit: h.maxFailing()}
	var every []*WorkflowHealth
	index := map[string]int{}
	if h.Every {
		every = make([]*WorkflowHealth, len(cov.Workflows))
		for i, w := range cov.Workflows {
			index[w] = i
		}
	}
	var mu sync.Mutex
	res.Failed, err = eachWorkflow(ctx, opts, "health check", cov.Workflows, func(ctx context.Context, id string) error {
		wf, err := c.GetWorkflow(ctx, id)
		if errors.Is(err, client.ErrNotFound) && t.WorkflowID != "" {
			return goneError{fmt.Sprintf("workflow %s no longer exists (the API answered 404)", id)}
		}
		if err != nil {
			return fmt.Errorf("reading the webhook of workflow %s: %w", id, err)
		}
		wh := assess(c, id, wf.Webhook, h.maxBody()) // outside the lock: it redacts
		mu.Lock()
		defer mu.Unlock()
		states[id] = wh.State
		res.Counts[wh.State]++
		if wh.State == StateFailing {
			newest.offer(wh)
		}
		if h.Every {
			every[index[id]] = wh
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for id, e := range res.Failed {
		if errors.Is(e, ErrGone) {
			return res, e
		}
		states[id] = StateUnreadable
		res.Counts[StateUnreadable]++
		if h.Every {
			every[index[id]] = &WorkflowHealth{WorkflowID: id, State: StateUnreadable}
		}
	}

	// Name the batches of the kept workflows only, in one pass over the
	// coverage: nothing per batch is kept beyond the first few per workflow.
	failing := newest.sorted()
	kept := map[string]*WorkflowHealth{}
	for _, wh := range failing {
		kept[wh.WorkflowID] = wh
	}
	for _, wh := range every {
		kept[wh.WorkflowID] = wh
	}
	limit := h.maxBatches()
	for b, w := range cov.Batches {
		res.BatchCounts[states[w]]++
		if wh := kept[w]; wh != nil {
			wh.BatchCount++
			wh.Batches = firstByID(wh.Batches, BatchRef{ID: b, Name: cov.Names[b]}, limit)
		}
	}
	res.BatchCounts[StateUnreadable] += len(cov.Unreadable)
	for _, wh := range failing {
		res.Failing = append(res.Failing, *wh)
	}
	for _, wh := range every {
		res.Workflows = append(res.Workflows, *wh)
	}
	return res, nil
}

// coverBatches covers the named batches of a project, each through cover
// (B1, then the checks of a batch target), in the bounded pool. A batch
// without a workflow is listed in NoWorkflow; any other failure is an error.
func coverBatches(ctx context.Context, c *client.Client, projectID string, ids []string, opts Options) (Coverage, error) {
	parts := make([]Coverage, len(ids))
	errs := make([]error, len(ids))
	if err := Each(ctx, opts.workers(), len(ids), func(ctx context.Context, i int) {
		parts[i], errs[i] = cover(ctx, c, Target{ProjectID: projectID, BatchID: ids[i]}, opts)
	}); err != nil {
		return Coverage{}, err
	}
	cov := Coverage{Batches: map[string]string{}, Unreadable: map[string]error{}, Names: map[string]string{}}
	seen := map[string]bool{}
	var bad []error
	for i, part := range parts {
		switch {
		case errors.Is(errs[i], ErrNoWorkflow):
			cov.NoWorkflow = append(cov.NoWorkflow, ids[i])
			continue
		case errs[i] != nil:
			bad = append(bad, &BatchError{BatchID: ids[i], Err: errs[i]})
			continue
		}
		for b, w := range part.Batches {
			cov.Batches[b] = w
		}
		for b, n := range part.Names {
			cov.Names[b] = n
		}
		for _, w := range part.Workflows {
			if !seen[w] {
				seen[w] = true
				cov.Workflows = append(cov.Workflows, w)
			}
		}
	}
	return cov, errors.Join(bad...)
}

// classify derives a webhook's state, and when its last error happened,
// from what the workflow document holds. lastCall is the last delivery
// attempt and carries a date; lastError is the last failed attempt and
// carries none. So "the last error is newer than the last success" is
// decided by lastCall alone:
//   - lastCall 2xx: the last attempt succeeded; an error on record is older
//     (a newer one would be the last attempt). ok, error date unknown.
//   - lastCall not 2xx (0: no answer): the last attempt failed, so it is the
//     last error and newer than any success. failing; the error is dated by
//     lastCall when their status codes agree, else unknown.
//   - no lastCall but a lastError: a failure and no success on record.
//     failing, undated.
//   - neither: never_called. No webhook: no_webhook.
//
// Setting a webhook again keeps both but moves updatedAt. A lastCall dated
// before updatedAt was made to the webhook as it was before (another url,
// another header), so it says nothing of the current one: never_called,
// whatever its status, until the next delivery. lastError is no newer than
// lastCall, so it is older too.
func classify(w *client.Webhook) (State, string) {
	switch {
	case w == nil:
		return StateNoWebhook, ""
	case calledBeforeSet(w):
		return StateNeverCalled, ""
	case w.LastCall != nil && w.LastCall.StatusCode >= 200 && w.LastCall.StatusCode < 300:
		return StateOK, ""
	case w.LastCall != nil:
		if w.LastError != nil && w.LastError.StatusCode == w.LastCall.StatusCode {
			return StateFailing, w.LastCall.Date
		}
		return StateFailing, ""
	case w.LastError != nil:
		return StateFailing, ""
	}
	return StateNeverCalled, ""
}

// calledBeforeSet reports whether the last call is known to predate the
// last setting of the webhook. Unlike Later, a date missing or not RFC 3339
// on either side proves nothing, and equal dates (the API keeps
// milliseconds) are not "before": the state then rests on lastCall alone.
func calledBeforeSet(w *client.Webhook) bool {
	if w.LastCall == nil {
		return false
	}
	called, err := time.Parse(time.RFC3339Nano, w.LastCall.Date)
	if err != nil {
		return false
	}
	set, err := time.Parse(time.RFC3339Nano, w.UpdatedAt)
	if err != nil {
		return false
	}
	return called.Before(set)
}

// assess is one workflow's health, with the header's value (and every
// secret the client knows) redacted from messages and the body, in any form
// a receiver may echo it, before the body is cut to maxBody bytes (see
// client.Clean): a cut never leaves part of a secret.
func assess(c *client.Client, id string, w *client.Webhook, maxBody int) *WorkflowHealth {
	state, errDate := classify(w)
	wh := &WorkflowHealth{WorkflowID: id, State: state, LastErrorDate: errDate}
	if w == nil {
		return wh
	}
	// The header is searched for even if the client has forgotten it (its
	// memory is bounded).
	var header []string
	if w.Header != nil {
		header = append(header, *w.Header)
	}
	clean := func(s string, limit int) string { return c.Clean(s, limit, header...) }
	wh.URL = w.URL
	if w.LastCall != nil {
		wh.LastCall = &client.Call{StatusCode: w.LastCall.StatusCode, Message: clean(w.LastCall.Message, maxMessage), Date: w.LastCall.Date}
	}
	if w.LastError != nil {
		wh.LastError = &client.CallError{StatusCode: w.LastError.StatusCode, Message: clean(w.LastError.Message, maxMessage),
			Body: clean(w.LastError.Body, maxBody)}
	}
	return wh
}

// withheld replaces a text that may quote a header too short to redact.
var withheld = redact.Withheld

// firstByID keeps the limit batches with the smallest ids, sorted (ids grow
// with creation, so these are the oldest), adding b.
func firstByID(refs []BatchRef, b BatchRef, limit int) []BatchRef {
	i := sort.Search(len(refs), func(i int) bool { return refs[i].ID > b.ID })
	if i >= limit {
		return refs
	}
	if len(refs) < limit {
		refs = append(refs, BatchRef{})
	}
	copy(refs[i+1:], refs[i:])
	refs[i] = b
	return refs
}

// newestFirst keeps the limit failing workflows whose failure is newest: a
// min-heap on the failure time, so the oldest kept is dropped first.
type newestFirst struct {
	limit int
	items []failingItem
}

type failingItem struct {
	at time.Time // zero when unknown: older than any known time
	wh *WorkflowHealth
}

// failedAt is when the last delivery of a failing workflow failed.
func failedAt(wh *WorkflowHealth) time.Time {
	if wh.LastCall == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, wh.LastCall.Date)
	if err != nil {
		return time.Time{}
	}
	return t
}

// older orders the items: by time, then by workflow id (the larger id is
// "older", so ties list the smaller id first).
func older(a, b failingItem) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.wh.WorkflowID > b.wh.WorkflowID
}

func (n *newestFirst) Len() int           { return len(n.items) }
func (n *newestFirst) Less(i, j int) bool { return older(n.items[i], n.items[j]) }
func (n *newestFirst) Swap(i, j int)      { n.items[i], n.items[j] = n.items[j], n.items[i] }
func (n *newestFirst) Push(x any) {
	if it, ok := x.(failingItem); ok {
		n.items = append(n.items, it)
	}
}

func (n *newestFirst) Pop() any {
	last := n.items[len(n.items)-1]
	n.items = n.items[:len(n.items)-1]
	return last
}

func (n *newestFirst) offer(wh *WorkflowHealth) {
	if n.limit <= 0 {
		return
	}
	it := failingItem{at: failedAt(wh), wh: wh}
	if len(n.items) < n.limit {
		heap.Push(n, it)
		return
	}
	if older(n.items[0], it) {
		n.items[0] = it
		heap.Fix(n, 0)
	}
}

// sorted returns the kept workflows, newest first.
func (n *newestFirst) sorted() []*WorkflowHealth {
	items := append([]failingItem(nil), n.items...)
	sort.Slice(items, func(i, j int) bool { return older(items[j], items[i]) })
	out := make([]*WorkflowHealth, len(items))
	for i, it := range items {
		out[i] = it.wh
	}
	return out
}
