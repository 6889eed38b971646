package fanout

import (
	"context"
	"errors"
	"fmt"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// Inspect reads the webhook of every batch of the project and says which
// batches do not hold want. With want nil (import), it reports the webhook
// most batches hold in Report.Common and compares against that.
func Inspect(ctx context.Context, c *client.Client, projectID string, want *Want, opts Options) (Report, error) {
	r := &run{c: c, opts: opts}
	if err := r.list(ctx, projectID); err != nil {
		return Report{}, err
	}
	perWorkflow := r.batchesPerWorkflow()
	var hooks []*client.Webhook
	if want == nil {
		r.common, r.commonWH = map[string]int{}, map[string]*client.Webhook{}
		hooks = make([]*client.Webhook, len(r.workflows))
	}
	err := r.each(ctx, "read", func(ctx context.Context, i int, id string) (workflowResult, error) {
		wf, err := c.GetWorkflow(ctx, id)
		if err != nil {
			return resultFailed, fmt.Errorf("reading workflow %s: %w", id, err)
		}
		r.observe(wf.Webhook, perWorkflow[i])
		if want == nil {
			hooks[i] = wf.Webhook
			return resultPending, nil
		}
		if want.Holds(wf.Webhook) {
			return resultInStep, nil
		}
		return resultOutOfStep, nil
	})
	if err != nil || want != nil {
		return r.report(), err
	}
	// Import: compare every workflow with the webhook most batches hold.
	if common := r.report().Common; common != nil {
		adopted := Want{URL: common.URL, Header: common.Header, CompareHeader: true}
		for i, h := range hooks {
			if r.results[i] == resultPending && adopted.Holds(h) {
				r.results[i] = resultInStep
			}
		}
	}
	return r.report(), nil
}

// Known is what a recent refresh found, so that Apply can skip work.
type Known struct {
	// InStep holds batches found holding the wanted webhook, each with its
	// workflow id as then known ("" if not). A workflow all of whose batches
	// are in it is not touched (a batch created since is not in it, so its
	// workflow is set).
	InStep map[string]string
	// ReadFirst, when InStep is nil, reads each workflow first and sets only
	// those that differ.
	ReadFirst bool
}

// Apply makes every batch of the project hold want, skipping what known
// says is in step already. What the report says of each workflow it sets is
// the server's answer (the setup answer when it holds the webhook, else a
// read), never the request. Skipped workflows are
// reported in step; their last call and error are not read.
func Apply(ctx context.Context, c *client.Client, projectID string, want Want, known Known, opts Options) (Report, error) {
	r := &run{c: c, opts: opts, inStep: known.InStep}
	if err := r.list(ctx, projectID); err != nil {
		return Report{}, err
	}
	var skip []bool
	if known.InStep != nil {
		skip = make([]bool, len(r.workflows))
		for i := range skip {
			skip[i] = true
		}
		for _, b := range r.batches {
			if _, ok := known.InStep[b.id]; b.workflow >= 0 && !ok {
				skip[b.workflow] = false
			}
		}
	}
	setting := client.WebhookSetting{URL: want.URL, Header: want.Header}
	err := r.each(ctx, "set", func(ctx context.Context, i int, id string) (workflowResult, error) {
		if skip != nil && skip[i] {
			return resultInStep, nil
		}
		if skip == nil && known.ReadFirst {
			wf, err := c.GetWorkflow(ctx, id)
			if err != nil {
				return resultFailed, fmt.Errorf("reading workflow %s: %w", id, err)
			}
			if want.Holds(wf.Webhook) {
				r.observe(wf.Webhook, 0)
				return resultInStep, nil
			}
		}
		answer, err := c.SetupWebhook(ctx, client.Target{WorkflowID: id}, setting)
		if err != nil {
			return resultFailed, fmt.Errorf("setting the webhook of workflow %s: %w", id, err)
		}
		// An answer holding what was set is the server's word; anything else
		// (no body, the document before the update) is read back.
		got := answer
		if !want.Holds(got) {
			wf, err := c.GetWorkflow(ctx, id)
			if err != nil {
				return resultFailed, fmt.Errorf("reading back workflow %s: %w", id, err)
			}
			got = wf.Webhook
		}
		r.observe(got, 0)
		if !want.Holds(got) {
			return resultOutOfStep, nil
		}
		return resultInStep, nil
	})
	return r.report(), err
}

// Clear removes the webhook from every batch of the project whose webhook url
// is still ownedURL. A webhook with another url belongs to someone else now:
// it is left alone and reported in Report.Foreign.
func Clear(ctx context.Context, c *client.Client, projectID, ownedURL string, opts Options) (Report, error) {
	r := &run{c: c, opts: opts}
	if err := r.list(ctx, projectID); err != nil {
		return Report{}, err
	}
	err := r.each(ctx, "cleared", func(ctx context.Context, _ int, id string) (workflowResult, error) {
		wf, err := c.GetWorkflow(ctx, id)
		switch {
		case errors.Is(err, client.ErrNotFound):
			return resultGone, nil
		case err != nil:
			return resultFailed, fmt.Errorf("reading workflow %s: %w", id, err)
		case wf.Webhook == nil:
			return resultGone, nil
		case wf.Webhook.URL != ownedURL:
			return resultForeign, nil
		}
		if err := c.ClearWebhook(ctx, client.Target{WorkflowID: id}); err != nil {
			return resultFailed, fmt.Errorf("clearing the webhook of workflow %s: %w", id, err)
		}
		return resultGone, nil
	})
	return r.report(), err
}
