package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The isahitlab_webhook resource's plan: what the configuration decides,
// then what the scope plans (each scope's plan method).

// ModifyPlan settles what the configuration decides (scope, header mode,
// id) and lets the scope plan its computed values. A change of scope, in any
// direction, is a replacement.
func (r *webhookResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: nothing to plan
	}
	var plan, config webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	var state *webhookModel
	if !req.State.Raw.IsNull() {
		state = &webhookModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	plan.Scope = types.StringValue(scopeFromConfig(&config))
	plan.HeaderMode = types.StringValue(headerModeFromConfig(&config))
	plan.ID = plannedID(&plan)
	if state != nil && !state.Scope.Equal(plan.Scope) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("scope"))
		state = nil // planned as a new resource
	}
	scopeOf(plan.Scope.ValueString()).plan(&plan, state)
	if state != nil && state.HeaderMode.ValueString() == headerAdopted && plan.HeaderMode.ValueString() != headerAdopted {
		resp.Diagnostics.AddAttributeWarning(path.Root("header_mode"), "Adopted header replaced",
			fmt.Sprintf("The webhook of %s holds a header set outside Terraform (header_mode %q); apply replaces it (header_mode %q). Set header_mode = %q to keep it.",
				state.target(), headerAdopted, plan.HeaderMode.ValueString(), headerAdopted))
	}
	if state != nil && state.OutOfStep.ValueInt64() > 0 {
		resp.Diagnostics.AddWarning("Webhooks out of step", outOfStepDetail(state, readPrivate(ctx, req.Private, state).Why))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// plannedID is the id, known at plan time when the ids it is made of are.
func plannedID(m *webhookModel) types.String {
	parts := []types.String{m.ProjectID}
	switch m.Scope.ValueString() {
	case scopeBatch:
		parts = append(parts, m.BatchID)
	case scopeWorkflow:
		parts = append(parts, m.WorkflowID)
	}
	for _, p := range parts {
		if p.IsUnknown() {
			return types.StringUnknown()
		}
	}
	return types.StringValue(formatID(m.target()))
}

// outOfStepDetail is the plan's warning for a converging update: how many,
// and which and why as the last refresh found them.
func outOfStepDetail(state *webhookModel, why string) string {
	detail := fmt.Sprintf("%d of the batches covered by the webhook of %s lack it or hold another url or header (a batch created since, or a change made outside Terraform); apply sets only those.",
		state.OutOfStep.ValueInt64(), state.target())
	if why != "" {
		detail += "\n\n" + why
	}
	return detail
}
