package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// The read paths shared by the isahitlab_webhook resource and data source,
// following the SDK's get_webhook: the batch, a check that it belongs to the
// project, its workflow, then the workflow's webhook.

// goneError says an object was deleted (or its webhook cleared) outside
// Terraform: the resource leaves state, the data source fails.
type goneError string

func (e goneError) Error() string { return string(e) }

// errStop ends a list walk early once the answer is known.
var errStop = errors.New("stop")

// batchOfProject reads a batch and checks it is the project's and has a
// workflow. A 404 is double-checked against the project's batch list: an API
// that answers 404 for a batch it still lists is not telling us it is gone.
func batchOfProject(ctx context.Context, c *client.Client, projectID, batchID string) (*client.Batch, error) {
	b, err := c.GetBatch(ctx, batchID)
	if errors.Is(err, client.ErrNotFound) {
		listed := false
		lerr := c.ListBatches(ctx, client.BatchFilter{ProjectID: projectID}, func(lb client.Batch) error {
			if lb.ID == batchID {
				listed = true
				return errStop
			}
			return nil
		})
		if lerr != nil && !errors.Is(lerr, errStop) {
			return nil, fmt.Errorf("%w (and listing the batches of project %s to confirm failed: %v)", err, projectID, lerr)
		}
		if listed {
			return nil, fmt.Errorf("the API answered 404 for batch %s, yet project %s still lists it; not treating it as deleted: %w", batchID, projectID, err)
		}
		return nil, goneError(fmt.Sprintf("Batch %s no longer exists in project %s.", batchID, projectID))
	}
	if err != nil {
		return nil, err
	}
	if b.ProjectID != projectID {
		return nil, fmt.Errorf("batch %s belongs to project %s, not to project %s (project_id)", batchID, b.ProjectID, projectID)
	}
	if b.WorkflowID == "" {
		return nil, fmt.Errorf("batch %s of project %s has no workflow, so it cannot carry a webhook", batchID, projectID)
	}
	return b, nil
}

// readBatchWebhook returns the workflow of a project's batch; its Webhook is
// nil when none is set.
func readBatchWebhook(ctx context.Context, c *client.Client, projectID, batchID string) (*client.Workflow, error) {
	b, err := batchOfProject(ctx, c, projectID, batchID)
	if err != nil {
		return nil, err
	}
	return readWorkflow(ctx, c, b.WorkflowID)
}

// readWorkflow returns a workflow; a 404 is a goneError.
func readWorkflow(ctx context.Context, c *client.Client, workflowID string) (*client.Workflow, error) {
	wf, err := c.GetWorkflow(ctx, workflowID)
	if errors.Is(err, client.ErrNotFound) {
		return nil, goneError(fmt.Sprintf("Workflow %s no longer exists.", workflowID))
	}
	if err == nil && wf.ID == "" {
		wf.ID = workflowID // a document without _id is still the one asked for
	}
	return wf, err
}
