package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// ErrGone matches the error of a target that no longer exists: the API
// answered 404 for it (and, for a batch, the project no longer lists it).
var ErrGone = errors.New("no longer exists")

// ErrNoWorkflow matches the error of a batch that has no workflow, so no
// webhook.
var ErrNoWorkflow = errors.New("batch has no workflow")

type goneError struct{ msg string }

func (e goneError) Error() string        { return e.msg }
func (e goneError) Is(target error) bool { return target == ErrGone }

// Coverage is what a target covers.
type Coverage struct {
	// Batches maps each covered batch to its workflow (empty for a workflow
	// target: the API cannot list a workflow's batches).
	Batches map[string]string
	// Workflows lists the distinct workflows, in first-seen order.
	Workflows []string
	// NoWorkflow lists the project's batches that have no workflow, hence no
	// webhook: they are skipped, neither set nor out of step.
	NoWorkflow []string
	// Unreadable maps the project's batches whose workflow could not be
	// found (a 403 on the batch, say) to why: they count as out of step.
	Unreadable map[string]error
	// Names maps the project's batches to their names, for messages.
	Names map[string]string
}

// batchesOf lists the covered batches whose workflow is in the set.
func (c Coverage) batchesOf(workflows map[string]bool) []string {
	var out []string
	for b, w := range c.Batches {
		if workflows[w] {
			out = append(out, b)
		}
	}
	return out
}

// outOfStep lists the covered batches whose workflow is not in inStep, and
// the unreadable ones.
func (c Coverage) outOfStep(inStep map[string]bool) []string {
	bad := map[string]bool{}
	for _, w := range c.Workflows {
		if !inStep[w] {
			bad[w] = true
		}
	}
	out := c.batchesOf(bad)
	for b := range c.Unreadable {
		out = append(out, b)
	}
	return out
}

// cover finds what t covers. Project scope lists the batches once and reads
// a batch (B1) only when its list document leaves the workflow out.
func cover(ctx context.Context, c *client.Client, t Target, opts Options) (Coverage, error) {
	switch {
	case t.WorkflowID != "":
		return Coverage{Batches: map[string]string{}, Workflows: []string{t.WorkflowID}}, nil
	case t.BatchID != "":
		b, err := batchOfProject(ctx, c, t.ProjectID, t.BatchID)
		if err != nil {
			return Coverage{}, err
		}
		return Coverage{Batches: map[string]string{b.ID: b.WorkflowID}, Workflows: []string{b.WorkflowID}}, nil
	}
	return coverProject(ctx, c, t.ProjectID, opts)
}

func coverProject(ctx context.Context, c *client.Client, projectID string, opts Options) (Coverage, error) {
	if _, err := c.GetProject(ctx, projectID); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return Coverage{}, goneError{fmt.Sprintf("project %s no longer exists (the API answered 404)", projectID)}
		}
		return Coverage{}, fmt.Errorf("reading project %s: %w", projectID, err)
	}
	cov := Coverage{Batches: map[string]string{}, Unreadable: map[string]error{}, Names: map[string]string{}}
	seen := map[string]bool{}
	add := func(batchID, workflowID string) {
		cov.Batches[batchID] = workflowID
		if !seen[workflowID] {
			seen[workflowID] = true
			cov.Workflows = append(cov.Workflows, workflowID)
		}
	}
	var missing []string
	err := c.ListBatches(ctx, client.BatchFilter{ProjectID: projectID}, func(b client.Batch) error {
		if b.Name != "" {
			cov.Names[b.ID] = b.Name
		}
		if b.WorkflowID != "" {
			add(b.ID, b.WorkflowID)
		} else {
			missing = append(missing, b.ID)
		}
		return nil
	})
	if err != nil {
		return Coverage{}, fmt.Errorf("listing the batches of project %s: %w", projectID, err)
	}
	if len(missing) == 0 {
		return cov, nil
	}

	// The list documents left the workflow out (or the batch has none): ask
	// each batch.
	tflog.Debug(ctx, "batch documents without workflow; reading them one by one", map[string]any{"batches": len(missing)})
	found := make([]string, len(missing))
	var mu sync.Mutex
	err = Each(ctx, opts.workers(), len(missing), func(ctx context.Context, i int) {
		b, err := c.GetBatch(ctx, missing[i])
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, client.ErrNotFound):
			// Deleted since the list: no longer the project's.
		case err != nil:
			cov.Unreadable[missing[i]] = err
		case b.WorkflowID == "":
			cov.NoWorkflow = append(cov.NoWorkflow, missing[i])
		default:
			found[i] = b.WorkflowID
		}
	})
	if err != nil {
		return Coverage{}, err
	}
	for i, id := range missing {
		if found[i] != "" {
			add(id, found[i])
		}
	}
	return cov, nil
}

// errStop ends a list walk early once the answer is known.
var errStop = errors.New("stop")

// batchOfProject reads a batch, as the SDK's get_webhook does, and checks
// that it is the project's and has a workflow. A 404 is double-checked
// against the project's batch list: an API that answers 404 for a batch it
// still lists is not saying that the batch is gone.
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
		switch {
		case lerr != nil && !errors.Is(lerr, errStop):
			return nil, fmt.Errorf("%w (and listing the batches of project %s to confirm failed: %v)", err, projectID, lerr)
		case listed:
			return nil, fmt.Errorf("the API answered 404 for batch %s, yet project %s still lists it; not treating it as deleted: %w", batchID, projectID, err)
		}
		return nil, goneError{fmt.Sprintf("batch %s no longer exists in project %s", batchID, projectID)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading batch %s: %w", batchID, err)
	}
	if b.ProjectID != projectID {
		return nil, fmt.Errorf("batch %s belongs to project %s, not to project %s", batchID, b.ProjectID, projectID)
	}
	if b.WorkflowID == "" {
		return nil, fmt.Errorf("batch %s of project %s: %w, so it cannot carry a webhook", batchID, projectID, ErrNoWorkflow)
	}
	return b, nil
}
