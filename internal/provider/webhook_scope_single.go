package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// singleScope is one batch (byBatch) or one workflow: either way a single
// workflow holds the webhook, so the two share this type. They differ in
// the target, and in workflow_id: configured for a workflow, computed (the
// batch's workflow, which may change outside Terraform) for a batch.
//
// A refresh copies the server's url into state, so url drift shows in the
// plan as a url change; it never copies the header (it may be a write-only
// value, or one this resource did not set): a header that differs from the
// one the state knows sets out_of_step to 1, which plans an update.
type singleScope struct{ byBatch bool }

func (s singleScope) plan(plan, state *webhookModel) {
	plan.OutOfStep = types.Int64Value(0)
	plan.BatchCount = types.Int64Null()
	if s.byBatch {
		plan.BatchCount = types.Int64Value(1)
		plan.WorkflowID = types.StringUnknown()
		if state != nil && state.BatchID.Equal(plan.BatchID) && !state.WorkflowID.IsNull() {
			plan.WorkflowID = state.WorkflowID
		}
	}
	if state == nil || webhookChanged(plan, state) || state.OutOfStep.ValueInt64() > 0 {
		plan.unknownFacts()
	} else {
		plan.keepFacts(state)
	}
}

func (s singleScope) set(ctx context.Context, e engine, m *webhookModel, want webhooks.Want, _ prior) outcome {
	t := m.target()
	res, err := webhooks.Set(ctx, e.c, t, want, nil, e.opts)
	o := outcome{sent: res.Sent > 0}
	warnHeaderDropped(&o.diags, t, res.HeaderDropped)
	err = orPartial(err, res)
	if err != nil {
		o.diags.AddError("Cannot set the webhook", fmt.Sprintf("Setting the webhook of %s failed: %s", t, describe(err)))
		return o
	}
	s.located(m, res.Workflows[0])
	m.OutOfStep = types.Int64Value(0)
	m.setFacts(ctx, res.Facts, &o.diags)
	return o
}

// located records the workflow that holds the webhook.
func (s singleScope) located(m *webhookModel, workflowID string) {
	m.WorkflowID = types.StringValue(workflowID)
	m.BatchCount = types.Int64Null()
	if s.byBatch {
		m.BatchCount = types.Int64Value(1)
	}
}

// observe refreshes m against want: the server's url is copied (url drift
// shows as a url change), the header only compared. On import (want nil)
// it adopts the webhook the workflow holds.
func (s singleScope) observe(ctx context.Context, e engine, m *webhookModel, want *webhooks.Want) outcome {
	t := m.target()
	res, err := webhooks.Inspect(ctx, e.c, t, want, e.opts)
	var o outcome
	err = orPartial(err, res)
	switch {
	case want != nil && errors.Is(err, webhooks.ErrGone):
		o.gone = true
		o.diags.AddWarning("Webhook removed from state", fmt.Sprintf("The target %s: %v. The next plan creates the webhook again.", t, err))
		return o
	case err != nil:
		o.diags.AddError(readSummary(want), fmt.Sprintf("Reading the webhook of %s failed: %s", t, describe(err)))
		return o
	case want == nil && res.Held == nil:
		o.diags.AddError("No webhook to import", fmt.Sprintf("%s holds no webhook.", t))
		return o
	case res.Held == nil:
		o.gone = true
		o.diags.AddWarning("Webhook removed from state", fmt.Sprintf("The webhook of %s was cleared outside Terraform. The next plan creates it again.", t))
		return o
	case want == nil:
		m.HeaderMode = adoptedHeaderMode(res.Held)
	}
	s.located(m, res.Workflows[0])
	m.URL = types.StringValue(res.Held.URL)
	m.OutOfStep = types.Int64Value(0)
	if want != nil && !want.Holds(res.Held) {
		m.OutOfStep = types.Int64Value(1)
	}
	m.setFacts(ctx, res.Facts, &o.diags)
	return o
}

func (s singleScope) clear(ctx context.Context, e engine, m *webhookModel, owned func(string) bool, _ prior) diag.Diagnostics {
	return clearTarget(ctx, e, m.target(), owned)
}

// clearTarget is destroy in every scope: clear what this resource owns,
// leave the rest with a warning.
func clearTarget(ctx context.Context, e engine, t webhooks.Target, owned func(string) bool) diag.Diagnostics {
	res, err := webhooks.Clear(ctx, e.c, t, owned, e.opts)
	return clearDiags(t, res, err)
}
