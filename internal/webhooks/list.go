package webhooks

import (
	"context"
	"fmt"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// BatchRef names a batch: its id and its name as the batch list gives it.
type BatchRef struct {
	ID   string
	Name string
}

// Listed is one workflow of a project that holds a webhook, and the
// project's batches that use it, in the order the batch list gives them.
type Listed struct {
	WorkflowID string
	Webhook    *client.Webhook
	Batches    []BatchRef
}

// ListResult is what List found.
type ListResult struct {
	// Webhooks holds the workflows found holding a webhook, ordered by their
	// first batch in the batch list.
	Webhooks []Listed
	// Truncated is true when List stopped at its limit before reading every
	// workflow.
	Truncated bool
	// NoWorkflow lists the batches without a workflow (hence no webhook).
	NoWorkflow []string
	// Unreadable maps the batches whose workflow could not be found to why.
	Unreadable map[string]error
	// Foreign maps the batches the API returned that name another project
	// to that project: left out.
	Foreign map[string]string
	// Failed maps the workflows that could not be read to why.
	Failed map[string]error
	cov    Coverage
}

// Err says what could not be read; nil when everything was.
func (r ListResult) Err() error {
	return partialErr(r.cov, r.Failed, r.Unreadable, "read")
}

// List finds the webhooks of a project's workflows: it walks the project's
// batches once (walkProject), then reads each distinct workflow once (W1) in
// the bounded pool, in the order of their first batch. With limit > 0 it
// stops reading once limit webhooks are found. It writes nothing.
//
// The error is for what makes the answer meaningless (the project cannot be
// read, the batch list fails, ctx ends); a workflow or batch that cannot be
// read is in the result (Err).
func List(ctx context.Context, c *client.Client, projectID string, limit int, opts Options) (ListResult, error) {
	walk, err := walkProject(ctx, c, projectID, opts)
	if err != nil {
		return ListResult{}, err
	}
	res := ListResult{NoWorkflow: walk.noWorkflow, Unreadable: walk.unreadable, Foreign: walk.foreign, Failed: map[string]error{}}
	res.cov = Coverage{Batches: map[string]string{}}
	batches, wfOf := walk.batches, walk.workflowOf

	// Group the batches by workflow, workflows in the order of their first batch.
	var workflows []string
	behind := map[string][]BatchRef{}
	for i, b := range batches {
		w := wfOf[i]
		if w == "" {
			continue
		}
		if _, seen := behind[w]; !seen {
			workflows = append(workflows, w)
		}
		behind[w] = append(behind[w], b)
		res.cov.Batches[b.ID] = w
	}
	res.cov.Workflows = workflows

	// Read the workflows window by window, so that a limit stops the reads
	// soon after it is reached and the results keep their order.
	window := len(workflows)
	if limit > 0 {
		window = max(limit, 4*opts.workers())
	}
	for start := 0; start < len(workflows); start += window {
		part := workflows[start:min(start+window, len(workflows))]
		held := make([]*client.Webhook, len(part))
		index := map[string]int{}
		for i, w := range part {
			index[w] = i
		}
		failed, err := eachWorkflow(ctx, opts, "list", part, func(ctx context.Context, id string) error {
			wf, err := c.GetWorkflow(ctx, id)
			if err != nil {
				return fmt.Errorf("reading the webhook of workflow %s: %w", id, err)
			}
			held[index[id]] = wf.Webhook // each index written by one worker only
			return nil
		})
		for w, e := range failed {
			res.Failed[w] = e
		}
		if err != nil {
			return res, err
		}
		for i, w := range part {
			if held[i] == nil {
				continue
			}
			if limit > 0 && len(res.Webhooks) == limit {
				res.Truncated = true
				return res, nil
			}
			res.Webhooks = append(res.Webhooks, Listed{WorkflowID: w, Webhook: held[i], Batches: behind[w]})
		}
		if limit > 0 && len(res.Webhooks) == limit && start+window < len(workflows) {
			res.Truncated = true
			return res, nil
		}
	}
	return res, nil
}
