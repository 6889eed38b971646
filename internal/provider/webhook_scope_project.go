package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// projectScope is every batch of a project, as the SDK's setup_webhook
// without a batch: a fan-out over the project's workflows.
//
// A refresh never copies what the server holds into url or header: it
// counts the batches that lack the webhook or hold another url or header in
// out_of_step (a batch created since, a change made outside Terraform), and
// a non-zero count plans an update that sets only those batches' workflows
// (the private record's in_step). Batches without a workflow cannot carry a
// webhook: they are skipped with a warning, never out of step. A batch that
// cannot be read (a 403) is a warning and counts out of step.
type projectScope struct{}

func (projectScope) plan(plan, state *webhookModel) {
	plan.WorkflowID = types.StringNull()
	if state != nil && !webhookChanged(plan, state) && state.OutOfStep.ValueInt64() == 0 {
		plan.BatchCount, plan.OutOfStep = state.BatchCount, state.OutOfStep
		plan.keepFacts(state)
		return
	}
	// Batches may come and go before apply: their count is known then.
	plan.BatchCount = types.Int64Unknown()
	plan.OutOfStep = types.Int64Value(0)
	plan.unknownFacts()
}

func (p projectScope) set(ctx context.Context, e engine, m *webhookModel, want webhooks.Want, pr prior) outcome {
	if pr.seen != nil {
		return p.setSeen(ctx, e, m, want, pr)
	}
	t := m.target()
	res, err := webhooks.Set(ctx, e.c, t, want, pr.known, e.opts)
	o := outcome{sent: res.Sent > 0}
	if res.Batches == nil {
		o.diags.AddError("Cannot set the webhooks", fmt.Sprintf("Setting the webhooks of %s failed: %s", t, describe(err)))
		return o
	}
	warnSkipped(&o.diags, t, res.Coverage)
	warnHeaderDropped(&o.diags, t, res.HeaderDropped)
	p.count(m, res.Coverage, len(res.OutOfStep()))
	m.setFacts(ctx, res.Facts, &o.diags)
	for w := range res.InStep {
		o.inStep = append(o.inStep, w)
	}
	return p.setFailed(o, t, m, res, err)
}

// setSeen sets the workflows the refresh of this run found (less those
// known in step), with no second walk of the project: the plan showed that
// work, and apply does it.
func (p projectScope) setSeen(ctx context.Context, e engine, m *webhookModel, want webhooks.Want, pr prior) outcome {
	t := m.target()
	ids, counts := pr.seen.ids(), pr.seen.batchCounts()
	var todo []string
	var o outcome
	for _, w := range ids {
		if pr.known != nil && pr.known(w) {
			o.inStep = append(o.inStep, w)
		} else {
			todo = append(todo, w)
		}
	}
	res, err := webhooks.SetWorkflows(ctx, e.c, t.ProjectID, todo, want, e.opts)
	o.sent = res.Sent > 0
	warnHeaderDropped(&o.diags, t, res.HeaderDropped)
	total, behind := 0, 0
	for i, w := range ids {
		n := 0
		if i < len(counts) {
			n = counts[i]
		}
		total += n
		if res.InStep[w] {
			o.inStep = append(o.inStep, w)
		} else if pr.known == nil || !pr.known(w) {
			behind += n
		}
	}
	m.WorkflowID = types.StringNull()
	m.BatchCount, m.OutOfStep = types.Int64Value(int64(total)), types.Int64Value(int64(behind))
	m.setFacts(ctx, res.Facts, &o.diags)
	return p.setFailed(o, t, m, res, err)
}

// setFailed adds the error of a set that did not reach every batch.
func (projectScope) setFailed(o outcome, t webhooks.Target, m *webhookModel, res webhooks.SetResult, err error) outcome {
	err = orPartial(err, res)
	if err != nil {
		o.diags.AddError("Webhook not set on every batch",
			fmt.Sprintf("Setting the webhooks of %s: %s\n\nThe batches that succeeded keep the webhook (there is no rollback); the next plan shows the %d batch(es) still out of step, and apply sets only those.",
				t, describe(err), m.OutOfStep.ValueInt64()))
	}
	return o
}

// observe refreshes m against want, or, on import (want nil), adopts the
// webhook the most batches hold.
func (p projectScope) observe(ctx context.Context, e engine, m *webhookModel, want *webhooks.Want) outcome {
	t := m.target()
	res, err := webhooks.Inspect(ctx, e.c, t, want, e.opts)
	var o outcome
	switch {
	case want != nil && errors.Is(err, webhooks.ErrGone):
		o.gone = true
		o.diags.AddWarning("Webhook removed from state", fmt.Sprintf("%v. The next plan creates the webhook again.", err))
		return o
	case err != nil:
		o.diags.AddError(readSummary(want), fmt.Sprintf("Reading the webhooks of %s failed: %s", t, describe(err)))
		return o
	case want == nil && res.Held == nil:
		o.diags.AddError("No webhook to import", fmt.Sprintf("No batch of %s holds a webhook (%d batches).", t, len(res.Batches)))
		return o
	case want == nil:
		m.URL = types.StringValue(res.Held.URL)
		m.HeaderMode = adoptedHeaderMode(res.Held)
	}
	if rerr := res.Err(); rerr != nil {
		// They count as out of step, so the plan shows the work left.
		o.diags.AddWarning("Some webhooks could not be read",
			fmt.Sprintf("Reading the webhooks of %s: %s\n\nThey count as out of step.", t, describe(rerr)))
	}
	warnSkipped(&o.diags, t, res.Coverage)
	p.count(m, res.Coverage, len(res.OutOfStep()))
	m.setFacts(ctx, res.Facts, &o.diags)
	for w := range res.InStep {
		o.inStep = append(o.inStep, w)
	}
	o.why = whySummary(res)
	o.inspected = &res
	return o
}

// whySummary says, for the plan, which batches are out of step and why: a
// line per reason, the first few batches by id and name, and a count.
func whySummary(res webhooks.InspectResult) string {
	var lines []string
	for why, batches := range res.OutOfStepBy() {
		slices.Sort(batches)
		named := make([]string, 0, 3)
		for _, b := range batches[:min(3, len(batches))] {
			if name, ok := res.Names[b]; ok {
				b += fmt.Sprintf(" (%q)", name)
			}
			named = append(named, b)
		}
		more := ""
		if n := len(batches) - len(named); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		lines = append(lines, fmt.Sprintf("- %d %s: %s%s", len(batches), why, strings.Join(named, ", "), more))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// clear, after a refresh in this destroy's own command (pr.seen), reads
// and clears only the workflows that refresh found holding a webhook: no
// second walk. Otherwise it walks the project. Either way each workflow is
// read just before its clear, so that a url set since by someone else
// survives: the refresh may be long past (an approval prompt).
func (p projectScope) clear(ctx context.Context, e engine, m *webhookModel, owned func(string) bool, pr prior) diag.Diagnostics {
	t := m.target()
	if pr.seen == nil {
		return clearTarget(ctx, e, t, owned)
	}
	res, err := webhooks.ClearWorkflows(ctx, e.c, t.ProjectID, pr.seen.withWebhook(), owned, e.opts)
	return clearDiags(t, res, err)
}

// count records how many batches the webhook covers and how many of them
// are out of step.
func (projectScope) count(m *webhookModel, cov webhooks.Coverage, outOfStep int) {
	m.WorkflowID = types.StringNull()
	m.BatchCount = types.Int64Value(int64(len(cov.Batches) + len(cov.Unreadable)))
	m.OutOfStep = types.Int64Value(int64(outOfStep))
}
