package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// ClearResult is what Clear did.
type ClearResult struct {
	Coverage
	// Cleared holds the workflows whose webhook was removed.
	Cleared map[string]bool
	// Foreign maps the workflows left alone, because the url they hold is
	// not the caller's, to that url.
	Foreign map[string]string
	// Failed maps the workflows whose read or clear failed to why.
	Failed map[string]error
}

// Clear removes the webhook from every workflow the target covers whose url
// owned accepts; a webhook with another url belongs to someone else and is
// left alone. Each workflow is read first: the API has no conditional
// clear, and a url set since by someone else must survive. A target that no
// longer exists has nothing left to clear.
func Clear(ctx context.Context, c *client.Client, t Target, owned func(url string) bool, opts Options) (ClearResult, error) {
	cov, err := cover(ctx, c, t, opts)
	if errors.Is(err, ErrGone) || errors.Is(err, ErrNoWorkflow) {
		return newClearResult(Coverage{}), nil
	}
	if err != nil {
		return newClearResult(Coverage{}), err
	}
	return clearCovered(ctx, c, cov, owned, opts)
}

// ClearWorkflows is Clear on workflows already known to be the project's,
// as a refresh of the same command found them: no batch walk, but still a
// read of each workflow before its clear, since the refresh may be long past
// (an approval prompt). Failures are named by batch, as SetWorkflows does.
func ClearWorkflows(ctx context.Context, c *client.Client, projectID string, workflows []string, owned func(url string) bool, opts Options) (ClearResult, error) {
	res, err := clearCovered(ctx, c, Coverage{Workflows: workflows}, owned, opts)
	if err == nil && len(res.Failed) > 0 {
		res.Coverage = named(ctx, c, Target{ProjectID: projectID}, res.Coverage, opts)
	}
	return res, err
}

func newClearResult(cov Coverage) ClearResult {
	return ClearResult{Coverage: cov, Cleared: map[string]bool{}, Foreign: map[string]string{}, Failed: map[string]error{}}
}

// clearCovered reads each workflow of cov and clears it if it holds a url
// owned accepts.
func clearCovered(ctx context.Context, c *client.Client, cov Coverage, owned func(url string) bool, opts Options) (ClearResult, error) {
	res := newClearResult(cov)
	var mu sync.Mutex
	var err error
	res.Failed, err = eachWorkflow(ctx, opts, "cleared", cov.Workflows, func(ctx context.Context, id string) error {
		wf, err := c.GetWorkflow(ctx, id)
		switch {
		case errors.Is(err, client.ErrNotFound):
			return nil // nothing left to clear
		case err != nil:
			return fmt.Errorf("reading the webhook of workflow %s: %w", id, err)
		case wf.Webhook == nil:
			return nil
		case !owned(wf.Webhook.URL):
			mu.Lock()
			res.Foreign[id] = wf.Webhook.URL
			mu.Unlock()
			return nil
		}
		// The workflow just read, not the batch: a batch deleted meanwhile
		// would answer 404 while its workflow still holds the webhook.
		if err := c.ClearWebhook(ctx, client.Target{WorkflowID: id}); err != nil && !errors.Is(err, client.ErrNotFound) {
			return fmt.Errorf("clearing the webhook of workflow %s: %w", id, err)
		}
		mu.Lock()
		res.Cleared[id] = true
		mu.Unlock()
		return nil
	})
	return res, err
}

// Err says what could not be cleared; nil when everything owned was.
func (r ClearResult) Err() error {
	return partialErr(r.Coverage, r.Failed, r.Unreadable, "cleared")
}

// ForeignBatches lists the batches (for a workflow target, the workflows)
// left alone because someone else's url is on them.
func (r ClearResult) ForeignBatches() []string {
	set := map[string]bool{}
	var ws []string
	for w := range r.Foreign {
		set[w], ws = true, append(ws, w)
	}
	if b := r.batchesOf(set); len(b) > 0 {
		return b
	}
	return ws
}
