package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The resource's scope is fixed for its life: it comes from the
// configuration (batch_id set: batch; workflow_id set: workflow; neither:
// project), is stored in the `scope` attribute, and any change of it plans
// a replacement (ModifyPlan). Each scope's behaviour lives in one type
// behind webhookScope; the CRUD methods hold no scope logic of their own.
const (
	scopeProject  = "project"
	scopeBatch    = "batch"
	scopeWorkflow = "workflow"
)

// The header modes, from the configuration, stored in `header_mode`. A
// change of mode is an update, so a failed switch stays planned until it
// succeeds. headerAdopted is a header found on import: its value is never
// read into state, so the next apply sends the configured one.
const (
	headerNone      = "none"
	headerAttribute = "header"
	headerWriteOnly = "header_wo"
	headerAdopted   = "adopted"
)

// webhookScope is one scope's behaviour.
type webhookScope interface {
	// plan fills in the scope's computed values; state is nil on create.
	plan(plan, state *webhookModel)
	// set makes the server hold want and writes into m what it then holds.
	set(ctx context.Context, e engine, m *webhookModel, want webhooks.Want, p prior) outcome
	// observe refreshes m: what the server holds against want; on import
	// (want nil) it adopts the webhook the server holds.
	observe(ctx context.Context, e engine, m *webhookModel, want *webhooks.Want) outcome
	// clear removes the webhooks that owned accepts.
	clear(ctx context.Context, e engine, m *webhookModel, owned func(string) bool, p prior) diag.Diagnostics
}

// prior is what an apply knows before it calls the API.
type prior struct {
	// known reports the workflows that may be skipped, known in step.
	known func(workflowID string) bool
	// seen is what the refresh of the same run found (project scope), so
	// that the apply needs no second walk; nil when unknown.
	seen *seenRecord
}

// outcome is what a scope's operation did, for the resource to record.
type outcome struct {
	diags diag.Diagnostics
	// gone: the target no longer exists; the resource leaves state.
	gone bool
	// sent: a set was sent, so the server may hold what was sent.
	sent bool
	// inStep lists the workflows known to hold the webhook (project scope).
	inStep []string
	// why says which batches are out of step and why (project scope).
	why string
	// inspected is what a project-scope observation found.
	inspected *webhooks.InspectResult
}

func (o outcome) failed() bool { return o.diags.HasError() }

// scopeOf returns the behaviour of a scope name.
func scopeOf(name string) webhookScope {
	switch name {
	case scopeBatch:
		return singleScope{byBatch: true}
	case scopeWorkflow:
		return singleScope{}
	}
	return projectScope{}
}

// scopeFromConfig names the scope the configuration asks for.
func scopeFromConfig(config *webhookModel) string {
	switch {
	case !config.BatchID.IsNull():
		return scopeBatch
	case !config.WorkflowID.IsNull():
		return scopeWorkflow
	}
	return scopeProject
}

// headerModeFromConfig names the header mode the configuration asks for.
func headerModeFromConfig(config *webhookModel) string {
	switch {
	case !config.HeaderMode.IsNull() && !config.HeaderMode.IsUnknown():
		return config.HeaderMode.ValueString() // headerModeMatches checked it
	case !config.Header.IsNull():
		return headerAttribute
	case !config.HeaderWO.IsNull():
		return headerWriteOnly
	}
	return headerNone
}

// engine is what the scopes need to call the engine.
type engine struct {
	c    *client.Client
	opts webhooks.Options
}

// wantToSend is the webhook apply sends: the url, and the header of the
// configured mode (a write-only value lives only in the configuration). An
// adopted header is kept only where it came with a url this resource owns
// or the url it sends: a header that came with another receiver's url is
// that receiver's secret.
func wantToSend(plan, config *webhookModel, rec privateRecord) webhooks.Want {
	w := webhooks.Want{URL: plan.URL.ValueString(), HeaderKnown: true}
	switch plan.HeaderMode.ValueString() {
	case headerAttribute:
		w.Header = plan.Header.ValueStringPointer()
	case headerWriteOnly:
		w.Header = config.HeaderWO.ValueStringPointer()
	case headerAdopted:
		w.KeepHeaderOf = func(url string) bool { return url == w.URL || rec.owns(url) }
	}
	return w
}

// headerModeMatches refuses, at plan time, a header_mode that says
// otherwise than header and header_wo.
type headerModeMatches struct{}

func (headerModeMatches) Description(context.Context) string {
	return "header_mode matches the header arguments set"
}

func (v headerModeMatches) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (headerModeMatches) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config webhookModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	mode := config.HeaderMode
	if resp.Diagnostics.HasError() || mode.IsNull() || mode.IsUnknown() {
		return
	}
	derived := headerModeFromConfig(&webhookModel{Header: config.Header, HeaderWO: config.HeaderWO, HeaderMode: types.StringNull()})
	if mode.ValueString() == derived || (mode.ValueString() == headerAdopted && derived == headerNone) {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("header_mode"), "Invalid header_mode",
		fmt.Sprintf("header_mode = %q does not match the header arguments, which give %q: set header_mode to %q, or omit it (it follows header and header_wo). %q keeps a header set outside Terraform and cannot be combined with header or header_wo.",
			mode.ValueString(), derived, derived, headerAdopted))
}

// wantInState is what a refresh compares the server with: the header only
// where the state knows it (never a write-only or adopted one).
func wantInState(state *webhookModel) webhooks.Want {
	w := webhooks.Want{URL: state.URL.ValueString()}
	switch state.HeaderMode.ValueString() {
	case headerAttribute:
		w.Header, w.HeaderKnown = state.Header.ValueStringPointer(), true
	case headerNone:
		w.HeaderKnown = true
	}
	return w
}

// adoptedHeaderMode is the mode of a webhook found on import.
func adoptedHeaderMode(w *client.Webhook) types.String {
	if w == nil || w.Header == nil || *w.Header == "" {
		return types.StringValue(headerNone)
	}
	return types.StringValue(headerAdopted)
}
