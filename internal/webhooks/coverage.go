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
	// Foreign maps the batches the API returned for the project but which
	// name another project to that project: never covered.
	Foreign map[string]string
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
		return Coverage{Batches: map[string]string{b.ID: b.WorkflowID}, Workflows: []string{b.WorkflowID}, Names: map[string]string{b.ID: b.Name}}, nil
	}
	return coverProject(ctx, c, t.ProjectID, opts)
}

func coverProject(ctx context.Context, c *client.Client, projectID string, opts Options) (Coverage, error) {
	w, err := walkProject(ctx, c, projectID, opts)
	if err != nil {
		return Coverage{}, err
	}
	cov := Coverage{
		Batches: make(map[string]string, len(w.batches)), Names: make(map[string]string, len(w.batches)),
		NoWorkflow: w.noWorkflow, Unreadable: w.unreadable, Foreign: w.foreign,
	}
	seen := map[string]bool{}
	for i, b := range w.batches {
		if b.Name != "" {
			cov.Names[b.ID] = b.Name
		}
		wf := w.workflowOf[i]
		if wf == "" {
			continue
		}
		cov.Batches[b.ID] = wf
		if !seen[wf] {
			seen[wf] = true
			cov.Workflows = append(cov.Workflows, wf)
		}
	}
	return cov, nil
}

// projectWalk is one pass over a project's batches, in list order.
type projectWalk struct {
	batches    []BatchRef
	workflowOf []string // by index of batches; "" for none or unknown
	noWorkflow []string
	unreadable map[string]error
	foreign    map[string]string
}

// walkProject lists a project's batches once (B2) and reads a batch (B1)
// only when its list document leaves the workflow out. A document that
// names another project is never the project's, whatever the filter did: it
// goes to foreign, so nothing is set on or cleared from another project's
// workflows. A batch the list returns but whose read answers 404 is an
// error, unless a second listing confirms it was deleted meanwhile: only a
// 404 the project agrees with means "gone".
func walkProject(ctx context.Context, c *client.Client, projectID string, opts Options) (projectWalk, error) {
	if _, err := c.GetProject(ctx, projectID); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return projectWalk{}, goneError{fmt.Sprintf("project %s no longer exists (the API answered 404)", projectID)}
		}
		return projectWalk{}, fmt.Errorf("reading project %s: %w", projectID, err)
	}
	w := projectWalk{unreadable: map[string]error{}, foreign: map[string]string{}}
	var missing []int // indexes of batches whose document has no workflow
	err := c.ListBatches(ctx, client.BatchFilter{ProjectID: projectID}, func(b client.Batch) error {
		if b.ProjectID != "" && b.ProjectID != projectID {
			w.foreign[b.ID] = b.ProjectID
			return nil
		}
		if b.WorkflowID == "" {
			missing = append(missing, len(w.batches))
		}
		w.batches = append(w.batches, BatchRef{ID: b.ID, Name: b.Name})
		w.workflowOf = append(w.workflowOf, b.WorkflowID)
		return nil
	})
	if err != nil {
		return projectWalk{}, fmt.Errorf("listing the batches of project %s: %w", projectID, err)
	}
	if len(missing) == 0 {
		return w, nil
	}

	// The list documents left the workflow out (or the batch has none): ask
	// each batch.
	tflog.Debug(ctx, "batch documents without workflow; reading them one by one", map[string]any{"batches": len(missing)})
	var mu sync.Mutex
	var notFound []string
	err = Each(ctx, opts.workers(), len(missing), func(ctx context.Context, i int) {
		id := w.batches[missing[i]].ID
		b, err := c.GetBatch(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, client.ErrNotFound):
			notFound = append(notFound, id)
		case err != nil:
			w.unreadable[id] = err
		case b.ProjectID != "" && b.ProjectID != projectID:
			w.foreign[id] = b.ProjectID
		case b.WorkflowID == "":
			w.noWorkflow = append(w.noWorkflow, id)
		default:
			w.workflowOf[missing[i]] = b.WorkflowID
		}
	})
	if err != nil {
		return projectWalk{}, err
	}
	gone := map[string]bool{}
	for id := range w.foreign {
		gone[id] = true
	}
	if len(notFound) > 0 {
		if err := confirmDeleted(ctx, c, projectID, notFound); err != nil {
			return projectWalk{}, err
		}
		for _, id := range notFound {
			gone[id] = true
		}
	}
	w.drop(gone)
	return w, nil
}

// drop removes the batches found not to be the project's, in one pass.
func (w *projectWalk) drop(ids map[string]bool) {
	if len(ids) == 0 {
		return
	}
	n := 0
	for i, b := range w.batches {
		if !ids[b.ID] {
			w.batches[n], w.workflowOf[n] = b, w.workflowOf[i]
			n++
		}
	}
	w.batches, w.workflowOf = w.batches[:n], w.workflowOf[:n]
}

// confirmDeleted lists the project's batches again: a batch read answered
// 404 for is gone only if the project no longer lists it either.
func confirmDeleted(ctx context.Context, c *client.Client, projectID string, ids []string) error {
	asked := map[string]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	var still []string
	err := c.ListBatches(ctx, client.BatchFilter{ProjectID: projectID}, func(b client.Batch) error {
		if asked[b.ID] && (b.ProjectID == "" || b.ProjectID == projectID) {
			still = append(still, b.ID)
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("the API answered 404 for %d batch(es) of project %s (%s) and listing the batches again to confirm failed: %w",
			len(ids), projectID, FirstFew(ids, 5), err)
	case len(still) > 0:
		return fmt.Errorf("the API answered 404 for %d batch(es) that project %s still lists: %s; not treating them as deleted",
			len(still), projectID, FirstFew(still, 5))
	}
	return nil
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
