package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// UpgradeState carries a state of schema version 0 (provider 0.x) forward.
// Version 1 made the scope and the header mode explicit attributes, and
// dropped the per-batch map batch_ids (Terraform walks every value in state
// on each plan, so a map of 100,000 batches made plans slow): batch_count
// keeps its size, and isahitlab_batches lists the batches.
// batches_out_of_step became out_of_step.
func (r *webhookResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	str := func() schema.StringAttribute { return schema.StringAttribute{Optional: true} }
	return map[int64]resource.StateUpgrader{
		0: {
			PriorSchema: &schema.Schema{
				Attributes: map[string]schema.Attribute{
					"id": str(), "project_id": str(), "batch_id": str(), "workflow_id": str(), "url": str(),
					"header": str(), "header_wo": str(), "header_wo_version": str(), "on_destroy": str(), "updated_at": str(),
					"last_call":           schema.SingleNestedAttribute{Optional: true, Attributes: lastCallSchema()},
					"last_error":          schema.SingleNestedAttribute{Optional: true, Attributes: lastErrorSchema()},
					"batch_ids":           schema.MapAttribute{Optional: true, ElementType: types.StringType},
					"batches_out_of_step": schema.Int64Attribute{Optional: true},
				},
				Blocks: map[string]schema.Block{
					"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
				},
			},
			StateUpgrader: upgradeWebhookV0,
		},
	}
}

type webhookModelV0 struct {
	ID               types.String   `tfsdk:"id"`
	ProjectID        types.String   `tfsdk:"project_id"`
	BatchID          types.String   `tfsdk:"batch_id"`
	WorkflowID       types.String   `tfsdk:"workflow_id"`
	URL              types.String   `tfsdk:"url"`
	Header           types.String   `tfsdk:"header"`
	HeaderWO         types.String   `tfsdk:"header_wo"`
	HeaderWOVersion  types.String   `tfsdk:"header_wo_version"`
	OnDestroy        types.String   `tfsdk:"on_destroy"`
	UpdatedAt        types.String   `tfsdk:"updated_at"`
	LastCall         types.Object   `tfsdk:"last_call"`
	LastError        types.Object   `tfsdk:"last_error"`
	BatchIDs         types.Map      `tfsdk:"batch_ids"`
	BatchesOutOfStep types.Int64    `tfsdk:"batches_out_of_step"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

func upgradeWebhookV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	var old webhookModelV0
	resp.Diagnostics.Append(req.State.Get(ctx, &old)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m := webhookModel{
		ID: old.ID, ProjectID: old.ProjectID, BatchID: old.BatchID, WorkflowID: old.WorkflowID,
		URL: old.URL, Header: old.Header, HeaderWO: types.StringNull(), HeaderWOVersion: old.HeaderWOVersion,
		OnDestroy: old.OnDestroy, UpdatedAt: old.UpdatedAt, LastCall: old.LastCall, LastError: old.LastError,
		Timeouts: old.Timeouts, OutOfStep: types.Int64Value(old.BatchesOutOfStep.ValueInt64()),
	}
	// Version 0 inferred the scope from which ids were set; project scope
	// had no workflow_id.
	switch {
	case !old.BatchID.IsNull():
		m.Scope, m.BatchCount = types.StringValue(scopeBatch), types.Int64Value(1)
	case !old.WorkflowID.IsNull():
		m.Scope, m.BatchCount = types.StringValue(scopeWorkflow), types.Int64Null()
	default:
		m.Scope, m.BatchCount = types.StringValue(scopeProject), types.Int64Value(int64(len(old.BatchIDs.Elements())))
	}
	// A header managed through header_wo left only its version (if any) in
	// state; the private flag of version 0 refines this on the next read.
	switch {
	case !old.Header.IsNull():
		m.HeaderMode = types.StringValue(headerAttribute)
	case !old.HeaderWOVersion.IsNull():
		m.HeaderMode = types.StringValue(headerWriteOnly)
	default:
		m.HeaderMode = types.StringValue(headerNone)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
