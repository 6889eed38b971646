package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// SetResult is what Set did.
type SetResult struct {
	Coverage
	// InStep holds the workflows verified holding the wanted webhook, and
	// those skipped as known in step.
	InStep map[string]bool
	// Failed maps the workflows whose set or read-back failed to why.
	Failed map[string]error
	// Rewritten maps the workflows whose calls all succeeded but which hold
	// another webhook than was sent, to the url they hold ("" for none).
	Rewritten map[string]string
	// Sent counts the set calls sent: the server may have acted on each,
	// failed or not.
	Sent int
	// HeaderDropped lists the workflows where a header was not kept
	// (KeepHeaderOf) because it came with a url that is not the caller's.
	HeaderDropped []string
	Facts
}

// Set makes every workflow the target covers hold want, then verifies it:
// the setup answer proves what the server holds only when it carries a
// stored webhook's updatedAt (internal/client/CONTRACT.md, "What
// setup-webhook answers"); otherwise the workflow is read back. Workflows
// for which known reports true are skipped and counted in step. There is no
// rollback: a failure leaves the workflows already set as they are.
func Set(ctx context.Context, c *client.Client, t Target, want Want, known func(workflowID string) bool, opts Options) (SetResult, error) {
	cov, err := cover(ctx, c, t, opts)
	if err != nil {
		return SetResult{}, err
	}
	return setCovered(ctx, c, t, cov, want, known, opts)
}

// SetWorkflows is Set on workflows already known to be the project's, as a
// refresh of the same run found them: no batch walk, one set (and its
// proof) per workflow. The result's Coverage names only the workflows.
//
// When some fail, the project's batches are walked once more, only to name
// the failing ones by batch in the error, as Set does.
func SetWorkflows(ctx context.Context, c *client.Client, projectID string, workflows []string, want Want, opts Options) (SetResult, error) {
	t := Target{ProjectID: projectID}
	res, err := setCovered(ctx, c, t, Coverage{Workflows: workflows}, want, nil, opts)
	if err == nil && (len(res.Failed) > 0 || len(res.Rewritten) > 0) {
		res.Coverage = named(ctx, c, t, res.Coverage, opts)
	}
	return res, err
}

// named fills in which batches use the workflows of cov, for messages; cov
// is returned as it was if the walk fails.
func named(ctx context.Context, c *client.Client, t Target, cov Coverage, opts Options) Coverage {
	walked, err := cover(ctx, c, t, opts)
	if err != nil {
		return cov
	}
	mine := make(map[string]bool, len(cov.Workflows))
	for _, w := range cov.Workflows {
		mine[w] = true
	}
	cov.Batches, cov.Names = map[string]string{}, walked.Names
	for b, w := range walked.Batches {
		if mine[w] {
			cov.Batches[b] = w
		}
	}
	return cov
}

func setCovered(ctx context.Context, c *client.Client, t Target, cov Coverage, want Want, known func(workflowID string) bool, opts Options) (SetResult, error) {
	var err error
	res := SetResult{Coverage: cov, InStep: map[string]bool{}, Rewritten: map[string]string{}}
	setting := client.WebhookSetting{URL: want.URL, Header: want.Header}
	want.HeaderKnown = true // the header sent is known
	var mu sync.Mutex
	res.Failed, err = eachWorkflow(ctx, opts, "set", cov.Workflows, func(ctx context.Context, id string) error {
		if known != nil && known(id) {
			mu.Lock()
			res.InStep[id] = true
			mu.Unlock()
			return nil
		}
		want, setting := want, setting
		if want.KeepHeaderOf != nil || want.SkipHeld {
			wf, err := c.GetWorkflow(ctx, id)
			if err != nil {
				return fmt.Errorf("reading the webhook of workflow %s before setting it: %w", id, err)
			}
			if want.SkipHeld && alreadyHolds(wf.Webhook, want) {
				mu.Lock()
				res.observe(wf.Webhook)
				res.InStep[id] = true
				mu.Unlock()
				return nil
			}
			if want.KeepHeaderOf != nil {
				setting.Header, want.Header = nil, nil
				switch held := wf.Webhook; {
				case held == nil || headerOf(held.Header) == "":
				case want.KeepHeaderOf(held.URL):
					setting.Header, want.Header = held.Header, held.Header
				default:
					mu.Lock()
					res.HeaderDropped = append(res.HeaderDropped, id)
					mu.Unlock()
				}
			}
		}
		mu.Lock()
		res.Sent++
		mu.Unlock()
		answer, err := c.SetupWebhook(ctx, setTarget(t, id), setting)
		if err != nil {
			if refused(err) {
				mu.Lock()
				res.Sent-- // the server said no: it did not act on it
				mu.Unlock()
			}
			return fmt.Errorf("setting the webhook of workflow %s: %w", id, err)
		}
		got := answer
		if !proves(answer, want) {
			wf, err := c.GetWorkflow(ctx, id)
			if err != nil {
				return fmt.Errorf("reading back the webhook of workflow %s: %w", id, err)
			}
			got = wf.Webhook
		}
		mu.Lock()
		defer mu.Unlock()
		res.observe(got)
		if want.Holds(got) {
			res.InStep[id] = true
		} else if got == nil {
			res.Rewritten[id] = ""
		} else {
			res.Rewritten[id] = c.Redact(got.URL) // server text, shown in the error
		}
		return nil
	})
	return res, err
}

// alreadyHolds reports whether a workflow read before a set holds want
// already: with KeepHeaderOf, the url decides (the header is kept as held).
func alreadyHolds(held *client.Webhook, want Want) bool {
	if want.KeepHeaderOf != nil {
		return held != nil && held.URL == want.URL
	}
	return want.Holds(held)
}

// refused reports whether the server answered a definite no (a 4xx other
// than timeout and rate limiting) to every attempt, so that it has changed
// nothing: a 403 on the retry of an attempt that timed out does not say
// that the first one was not applied.
func refused(err error) bool {
	var apiErr *client.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
		apiErr.StatusCode != http.StatusRequestTimeout && apiErr.StatusCode != http.StatusTooManyRequests &&
		!apiErr.EarlierAttemptMayHaveActed
}

// setTarget is where a set goes: a batch target uses the batch (W3), as the
// SDK does; otherwise the workflow (W2).
func setTarget(t Target, workflowID string) client.Target {
	if t.BatchID != "" {
		return client.Target{BatchID: t.BatchID}
	}
	return client.Target{WorkflowID: workflowID}
}

// proves reports whether a setup answer is the server's word that it holds
// want: an echo of the request holds the url and header too, but only a
// stored webhook has an updatedAt. An answer that is the document from
// before the update proves it as well: if it held want before a set of want,
// it holds want after.
func proves(answer *client.Webhook, want Want) bool {
	if answer == nil || !want.Holds(answer) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, answer.UpdatedAt)
	return err == nil
}

// OutOfStep lists the covered batches not known to hold the webhook: those
// of failed and rewritten workflows, of workflows never reached (a
// cancellation), and unreadable batches.
func (r SetResult) OutOfStep() []string { return r.outOfStep(r.InStep) }

// Err says why the target does not hold the webhook everywhere, naming the
// first few batches or workflows; nil when it does.
func (r SetResult) Err() error {
	var errs []error
	if n := len(r.Failed); n > 0 {
		errs = append(errs, failures(r.Coverage, r.Failed, "set"))
	}
	if n := len(r.Rewritten); n > 0 {
		var ws []string
		first, held := "", ""
		for w, u := range r.Rewritten {
			ws = append(ws, w)
			if first == "" || w < first {
				first, held = w, u
			}
		}
		errs = append(errs, fmt.Errorf("%d workflow(s) answered every call but hold another webhook than was sent (url %q; does the server rewrite the url?): %s",
			n, held, FirstFew(ws, 5)))
	}
	if n := len(r.Unreadable); n > 0 {
		errs = append(errs, unreadable(r.Unreadable))
	}
	return errors.Join(errs...)
}

// failures describes failed workflows by their batches when there are any.
func failures(cov Coverage, failed map[string]error, verb string) error {
	set := map[string]bool{}
	var ws []string
	minW, first := "", error(nil)
	for w, err := range failed {
		set[w], ws = true, append(ws, w)
		if minW == "" || w < minW {
			minW, first = w, err
		}
	}
	if batches := cov.batchesOf(set); len(batches) > 0 {
		return fmt.Errorf("%d batch(es) not %s: %s; first error: %w", len(batches), verb, FirstFew(batches, 5), first)
	}
	return fmt.Errorf("%d workflow(s) not %s: %s; first error: %w", len(ws), verb, FirstFew(ws, 5), first)
}

func unreadable(m map[string]error) error {
	var ids []string
	minB, first := "", error(nil)
	for b, err := range m {
		ids = append(ids, b)
		if minB == "" || b < minB {
			minB, first = b, err
		}
	}
	return fmt.Errorf("%d batch(es) could not be read: %s; first error: %w", len(ids), FirstFew(ids, 5), first)
}
