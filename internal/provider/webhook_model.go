package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The isahitlab_webhook resource's model, and how its values move between
// plan, state and what apply did.

type webhookModel struct {
	ID              types.String   `tfsdk:"id"`
	Scope           types.String   `tfsdk:"scope"`
	ProjectID       types.String   `tfsdk:"project_id"`
	BatchID         types.String   `tfsdk:"batch_id"`
	WorkflowID      types.String   `tfsdk:"workflow_id"`
	URL             types.String   `tfsdk:"url"`
	Header          types.String   `tfsdk:"header"`
	HeaderWO        types.String   `tfsdk:"header_wo"`
	HeaderWOVersion types.String   `tfsdk:"header_wo_version"`
	HeaderMode      types.String   `tfsdk:"header_mode"`
	OnDestroy       types.String   `tfsdk:"on_destroy"`
	UpdatedAt       types.String   `tfsdk:"updated_at"`
	LastCall        types.Object   `tfsdk:"last_call"`
	LastError       types.Object   `tfsdk:"last_error"`
	BatchCount      types.Int64    `tfsdk:"batch_count"`
	OutOfStep       types.Int64    `tfsdk:"out_of_step"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

// defaultTimeout bounds each operation: sized for a project of 10,000
// batches at a modest rate limit (two calls per workflow at 50 calls/s is
// under 7 minutes).
const defaultTimeout = 30 * time.Minute

func (r *webhookResource) engine() engine {
	return engine{c: r.data.client, opts: r.data.engineOptions()}
}

// withTimeout bounds ctx by the configured timeout (30 minutes by default).
func withTimeout(ctx context.Context, configured func(context.Context, time.Duration) (time.Duration, diag.Diagnostics), diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	timeout, d := configured(ctx, defaultTimeout)
	diags.Append(d...)
	return context.WithTimeout(ctx, timeout)
}

// maskHeader keeps header values out of every log line written with ctx.
func maskHeader(ctx context.Context, values ...types.String) context.Context {
	for _, v := range values {
		if s := v.ValueString(); s != "" {
			ctx = tflog.MaskMessageStrings(ctx, s)
			ctx = tflog.MaskAllFieldValuesStrings(ctx, s)
		}
	}
	return ctx
}

// rememberHeader is maskHeader for the header values the resource knows
// from its configuration (header, and the header_wo being sent): the client
// learns them too, so that a receiver's text echoing one (last_error, a
// server's error) is redacted before it reaches state, plan or diagnostics,
// even when the server no longer holds that value.
func rememberHeader(ctx context.Context, c *client.Client, values ...types.String) context.Context {
	if c != nil {
		for _, v := range values {
			c.Remember(v.ValueString())
		}
	}
	return maskHeader(ctx, values...)
}

// setFacts copies the read-only facts into m.
func (m *webhookModel) setFacts(ctx context.Context, f webhooks.Facts, diags *diag.Diagnostics) {
	m.UpdatedAt = types.StringNull()
	if f.UpdatedAt != "" {
		m.UpdatedAt = types.StringValue(f.UpdatedAt)
	}
	m.LastCall = lastCallValue(ctx, f.LastCall, diags)
	m.LastError = lastErrorValue(ctx, f.LastError, diags)
}

// keepFacts plans the read-only facts as the state has them.
func (m *webhookModel) keepFacts(state *webhookModel) {
	m.UpdatedAt, m.LastCall, m.LastError = state.UpdatedAt, state.LastCall, state.LastError
}

// unknownFacts plans the read-only facts as known only after apply.
func (m *webhookModel) unknownFacts() {
	m.UpdatedAt = types.StringUnknown()
	m.LastCall = types.ObjectUnknown(lastCallTypes)
	m.LastError = types.ObjectUnknown(lastErrorTypes)
}

// webhookChanged reports whether apply must send a webhook: the url, the
// header or its mode, or the write-only version changed.
func webhookChanged(plan, state *webhookModel) bool {
	return !plan.URL.Equal(state.URL) || !plan.Header.Equal(state.Header) ||
		!plan.HeaderMode.Equal(state.HeaderMode) || !plan.HeaderWOVersion.Equal(state.HeaderWOVersion)
}

// keepLaterFacts keeps the prior state's facts where they are more recent
// than what a converging update read (it reads only what it set).
func (m *webhookModel) keepLaterFacts(prior *webhookModel) {
	if webhooks.Later(prior.UpdatedAt.ValueString(), m.UpdatedAt.ValueString()) {
		m.UpdatedAt = prior.UpdatedAt
	}
	date := func(o types.Object) string {
		if d, ok := o.Attributes()["date"].(types.String); ok {
			return d.ValueString()
		}
		return ""
	}
	if webhooks.Later(date(prior.LastCall), date(m.LastCall)) {
		m.LastCall = prior.LastCall
	}
	if m.LastError.IsNull() {
		m.LastError = prior.LastError
	}
}

// afterFailure is the state after a failed update: the prior url, header,
// header mode and version (what the server holds is not what the plan says,
// so the next plan proposes the change again), with the counts and facts
// apply learnt where it learnt them.
func (m *webhookModel) afterFailure(next *webhookModel) webhookModel {
	s := *m
	if v := next.OutOfStep; !v.IsUnknown() && v.ValueInt64() > 0 {
		s.OutOfStep = v
	}
	if !next.BatchCount.IsUnknown() {
		s.BatchCount = next.BatchCount
	}
	if !next.UpdatedAt.IsUnknown() {
		s.UpdatedAt, s.LastCall, s.LastError = next.UpdatedAt, next.LastCall, next.LastError
	}
	s.Timeouts = next.Timeouts
	return s
}

// nullUnknowns resolves what apply did not learn (an early failure): state
// holds no unknown values.
func (m *webhookModel) nullUnknowns() {
	for _, v := range []*types.String{&m.WorkflowID, &m.UpdatedAt} {
		if v.IsUnknown() {
			*v = types.StringNull()
		}
	}
	for _, v := range []*types.Int64{&m.BatchCount, &m.OutOfStep} {
		if v.IsUnknown() {
			*v = types.Int64Null()
		}
	}
	if m.LastCall.IsUnknown() {
		m.LastCall = types.ObjectNull(lastCallTypes)
	}
	if m.LastError.IsUnknown() {
		m.LastError = types.ObjectNull(lastErrorTypes)
	}
}

// save writes a model, its identity and the private record, state holding
// no unknowns.
func save(ctx context.Context, st *tfsdk.State, ident *tfsdk.ResourceIdentity, p privateSetter, m *webhookModel, rec privateRecord) diag.Diagnostics {
	m.nullUnknowns()
	diags := st.Set(ctx, m)
	diags.Append(setIdentity(ctx, ident, m)...)
	diags.Append(rec.write(ctx, p)...)
	return diags
}

// target is what the model's scope covers: the one conversion from the
// model to the engine's type (the id and the identity are made from it).
func (m *webhookModel) target() webhooks.Target {
	t := webhooks.Target{ProjectID: m.ProjectID.ValueString()}
	switch m.Scope.ValueString() {
	case scopeBatch:
		t.BatchID = m.BatchID.ValueString()
	case scopeWorkflow:
		t.WorkflowID = m.WorkflowID.ValueString()
	}
	return t
}
