package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// InspectResult is what Inspect found.
type InspectResult struct {
	Coverage
	// InStep holds the workflows that hold the wanted webhook (on import,
	// the adopted one).
	InStep map[string]bool
	// Failed maps the workflows that could not be read to why.
	Failed map[string]error
	// Held is the webhook the most batches hold (for one workflow, its
	// webhook); nil when none holds one.
	Held *client.Webhook
	// Why maps each workflow not in step to the reason, when want was given.
	Why map[string]Reason
	// URLs maps each workflow read to the url it holds ("" for none).
	URLs map[string]string
	Facts
}

// Reason says why a workflow does not hold the wanted webhook.
type Reason uint8

const (
	NoWebhook   Reason = iota + 1 // none at all: a new batch, or one cleared outside Terraform
	OtherURL                      // another url
	OtherHeader                   // the url, with another header
	NotReadable                   // the read failed (a 403, say)
)

func (r Reason) String() string {
	return [...]string{"", "without the webhook (new, or cleared outside Terraform)", "with another url", "with another header", "that could not be read"}[r]
}

// reason classifies a webhook read against want.
func reason(w *client.Webhook, want Want) Reason {
	switch {
	case w == nil:
		return NoWebhook
	case w.URL != want.URL:
		return OtherURL
	}
	return OtherHeader
}

// OutOfStepBy groups the batches out of step by reason (for a workflow
// target, the workflow).
func (r InspectResult) OutOfStepBy() map[Reason][]string {
	byWF := map[Reason]map[string]bool{}
	for w, why := range r.Why {
		if byWF[why] == nil {
			byWF[why] = map[string]bool{}
		}
		byWF[why][w] = true
	}
	for w := range r.Failed {
		if byWF[NotReadable] == nil {
			byWF[NotReadable] = map[string]bool{}
		}
		byWF[NotReadable][w] = true
	}
	out := map[Reason][]string{}
	for why, set := range byWF {
		if batches := r.batchesOf(set); len(batches) > 0 {
			out[why] = batches
		} else {
			for w := range set {
				out[why] = append(out[why], w)
			}
		}
	}
	for b := range r.Unreadable {
		out[NotReadable] = append(out[NotReadable], b)
	}
	return out
}

// Inspect reads what every workflow the target covers holds, and which hold
// want. With want nil (import), it adopts the webhook the most batches hold
// (Held) and compares against that. It writes nothing.
func Inspect(ctx context.Context, c *client.Client, t Target, want *Want, opts Options) (InspectResult, error) {
	cov, err := cover(ctx, c, t, opts)
	if err != nil {
		return InspectResult{}, err
	}
	res := InspectResult{Coverage: cov, InStep: map[string]bool{}, Why: map[string]Reason{}, URLs: make(map[string]string, len(cov.Workflows))}
	weight := map[string]int{} // workflow -> batches behind it
	for _, w := range cov.Batches {
		weight[w]++
	}
	tally := newTally()
	var mu sync.Mutex
	res.Failed, err = eachWorkflow(ctx, opts, "read", cov.Workflows, func(ctx context.Context, id string) error {
		wf, err := c.GetWorkflow(ctx, id)
		if errors.Is(err, client.ErrNotFound) && t.WorkflowID != "" {
			return goneError{fmt.Sprintf("workflow %s no longer exists (the API answered 404)", id)}
		}
		if err != nil {
			return fmt.Errorf("reading the webhook of workflow %s: %w", id, err)
		}
		mu.Lock()
		defer mu.Unlock()
		res.observe(wf.Webhook)
		res.URLs[id] = ""
		if wf.Webhook != nil {
			res.URLs[id] = wf.Webhook.URL
		}
		if !t.Project() {
			res.Held = wf.Webhook
		}
		if want == nil {
			tally.add(id, wf.Webhook, max(1, weight[id]))
		} else if want.Holds(wf.Webhook) {
			res.InStep[id] = true
		} else {
			res.Why[id] = reason(wf.Webhook, *want)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, e := range res.Failed {
		if errors.Is(e, ErrGone) {
			return res, e
		}
	}
	if want == nil {
		if t.Project() {
			res.Held = tally.most()
		}
		for _, w := range tally.holding(res.Held) {
			res.InStep[w] = true
		}
	}
	return res, nil
}

// OutOfStep lists the covered batches that do not hold the webhook: those
// of workflows not in step (failed to read included), and unreadable ones.
func (r InspectResult) OutOfStep() []string { return r.outOfStep(r.InStep) }

// Err says what could not be read; nil when everything was.
func (r InspectResult) Err() error {
	return partialErr(r.Coverage, r.Failed, r.Unreadable, "read")
}

// tally counts, for import, which webhook (url and header) the most batches
// hold, keeping one key per workflow rather than every webhook read.
type tally struct {
	batches map[string]int // key -> batches
	sample  map[string]*client.Webhook
	byWF    map[string]string // workflow -> key
}

func newTally() *tally {
	return &tally{batches: map[string]int{}, sample: map[string]*client.Webhook{}, byWF: map[string]string{}}
}

func (t *tally) add(workflowID string, w *client.Webhook, batches int) {
	if w == nil {
		return
	}
	key := w.URL + "\x00" + headerOf(w.Header) // "" and null are both "no header"
	t.batches[key] += batches
	t.byWF[workflowID] = key
	if _, ok := t.sample[key]; !ok {
		t.sample[key] = &client.Webhook{URL: w.URL, Header: w.Header, UpdatedAt: w.UpdatedAt, LastCall: w.LastCall, LastError: w.LastError}
	}
}

func (t *tally) most() *client.Webhook {
	best, bestN := "", 0
	for k, n := range t.batches {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return t.sample[best]
}

func (t *tally) holding(w *client.Webhook) []string {
	if w == nil {
		return nil
	}
	want := Want{URL: w.URL, Header: w.Header, HeaderKnown: true}
	var out []string
	for wf, key := range t.byWF {
		if s := t.sample[key]; want.Holds(s) {
			out = append(out, wf)
		}
	}
	return out
}
