package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/fanout"
)

var (
	_ resource.ResourceWithConfigure   = (*webhookResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*webhookResource)(nil)
	_ resource.ResourceWithImportState = (*webhookResource)(nil)

	_ resource.ResourceWithConfigValidators = (*webhookResource)(nil)
)

// Defaults sized for a project of 10,000 batches at a modest rate limit
// (about two calls per batch at 50 calls/s is under 7 minutes).
const (
	defaultCreateTimeout = 30 * time.Minute
	defaultReadTimeout   = 20 * time.Minute
	defaultUpdateTimeout = 30 * time.Minute
	defaultDeleteTimeout = 30 * time.Minute
)

// privateWriteOnly marks, in private state, that the header is managed
// through header_wo: the server's header must not then be copied into the
// header attribute, or every plan would propose to remove it.
const privateWriteOnly = "header_write_only"

// privateAppliedURL records, in private state, the url this resource last
// set. Destroy clears only webhooks that still hold it: refresh may have
// copied someone else's url into the url attribute since.
const privateAppliedURL = "applied_url"

// privateOutOfStep records, in project scope, the batches the last refresh
// (or apply) found out of step. The update that converges them then sets
// only their workflows and those of batches created since, instead of
// reading every workflow again. Transient: empty once in step.
const privateOutOfStep = "out_of_step"

// NewWebhookResource is the isahitlab_webhook resource.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

type webhookResource struct {
	data *providerData
}

type webhookResourceModel struct {
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

// scope is which webhooks the resource covers.
type scope int

const (
	scopeProject scope = iota
	scopeBatch
	scopeWorkflow
)

func (m *webhookResourceModel) scope() scope {
	switch {
	case !m.BatchID.IsNull():
		return scopeBatch
	case !m.WorkflowID.IsNull() && !m.WorkflowID.IsUnknown():
		return scopeWorkflow
	}
	return scopeProject
}

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The webhook Isahit Lab calls when a task finishes an annotation or review job: " +
			"on one batch (`batch_id`), one workflow (`workflow_id`), or every batch of a project (neither).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`PROJECT_ID` (project scope), `PROJECT_ID/BATCH_ID` (batch) or `PROJECT_ID/workflow/WORKFLOW_ID` (workflow).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "The project. Changing it replaces the resource.",
				Required:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"batch_id": schema.StringAttribute{
				MarkdownDescription: "One batch of the project: the webhook is set on its workflow. Omit it, and `workflow_id`, for every batch of the project. Changing it replaces the resource.",
				Optional:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"workflow_id": schema.StringAttribute{
				MarkdownDescription: "One workflow, targeted directly. Conflicts with `batch_id`; with `batch_id` it is computed (the batch's workflow). Changing a configured value replaces the resource.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.RequiresReplaceIfConfigured(),
					stringplanmodifier.UseStateForUnknown(),
				},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The URL Isahit Lab POSTs to: an absolute `http://` or `https://` URL. Updated in place.",
				Required:            true,
				Validators:          []validator.String{httpURL()},
			},
			"header": schema.StringAttribute{
				MarkdownDescription: "Value Isahit Lab sends as the `Authorization` header of each call. Stored in state (marked sensitive); use `header_wo` to keep it out of state.",
				Optional:            true,
				Sensitive:           true,
				Validators:          []validator.String{nonEmpty()},
			},
			"header_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only twin of `header` (Terraform 1.11 or later): never stored in state or plan. " +
					"Sent when the resource is created and whenever `header_wo_version` changes. Conflicts with `header`.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{nonEmpty()},
			},
			"header_wo_version": schema.StringAttribute{
				MarkdownDescription: "Any string; change it to send a new `header_wo` value. Requires `header_wo`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("header_wo"))},
			},
			"on_destroy": schema.StringAttribute{
				MarkdownDescription: "What destroy does: `clear` (default) removes the webhook from every batch or workflow it covers, except one whose url is no longer this resource's (left alone, with a warning); `keep` leaves the webhooks in place and only forgets them.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("clear"),
				Validators:          []validator.String{stringvalidator.OneOf("clear", "keep")},
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the webhook was last set, as the API reports it. In project scope, the most recent across the batches.",
				Computed:            true,
			},
			"last_call": schema.SingleNestedAttribute{
				MarkdownDescription: "The last delivery attempt. In project scope, the most recent across the batches.",
				Computed:            true,
				Attributes:          lastCallSchema(),
			},
			"last_error": schema.SingleNestedAttribute{
				MarkdownDescription: "The last failed delivery. In project scope, the one of the most recently called batch.",
				Computed:            true,
				Attributes:          lastErrorSchema(),
			},
			"batch_ids": schema.MapAttribute{
				MarkdownDescription: "Project scope: the batches the webhook covers, each mapped to its workflow id (batches on one workflow share its webhook); `keys()` gives the ids. " +
					"A map, not a list: Terraform renders a list of thousands of items in time and memory that grow with the square of its length.",
				Computed:    true,
				ElementType: types.StringType,
			},
			"batches_out_of_step": schema.Int64Attribute{
				MarkdownDescription: "Project scope: how many batches lack the webhook or hold another url or header (a batch created since the last apply, or a change made outside Terraform). When it is not 0 the plan updates the resource, and apply sets those batches.",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

// ConfigValidators refuse, at plan time, two scopes or two header forms at once.
func (r *webhookResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.Conflicting(path.MatchRoot("batch_id"), path.MatchRoot("workflow_id")),
		resourcevalidator.Conflicting(path.MatchRoot("header"), path.MatchRoot("header_wo")),
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan fills in what the framework cannot know: project scope has no
// workflow, and a project whose batches drifted must be updated even though
// the configuration did not change.
func (r *webhookResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, config webhookResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if config.BatchID.IsNull() && config.WorkflowID.IsNull() {
		plan.WorkflowID = types.StringNull()
		plan.BatchesOutOfStep = types.Int64Value(0)
	} else {
		plan.BatchIDs = types.MapNull(types.StringType)
		plan.BatchesOutOfStep = types.Int64Null()
	}

	if !req.State.Raw.IsNull() {
		var state webhookResourceModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if n := state.BatchesOutOfStep.ValueInt64(); n > 0 && plan.scope() == scopeProject {
			// Converge: the values that apply will change are unknown until then.
			resp.Diagnostics.AddWarning("Batches out of step",
				fmt.Sprintf("%d batch(es) of project %s lack this webhook or hold another url or header; apply will set them.",
					n, state.ProjectID.ValueString()))
			plan.BatchIDs = types.MapUnknown(types.StringType)
			plan.UpdatedAt = types.StringUnknown()
			plan.LastCall = types.ObjectUnknown(lastCallTypes)
			plan.LastError = types.ObjectUnknown(lastErrorTypes)
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config webhookResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || !r.data.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	plan.ID = types.StringValue(plan.webhookID().String())
	writeOnly := !config.HeaderWO.IsNull()
	ctx = maskHeader(ctx, config.HeaderWO, plan.Header)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateWriteOnly, privateFlag(writeOnly))...)
	outOfStep := r.apply(ctx, &plan, headerToSend(plan, config), writeOnly, fanout.Known{}, &resp.Diagnostics)
	if plan.ID.IsNull() {
		return // nothing was applied
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAppliedURL, jsonString(plan.URL.ValueString()))...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateOutOfStep, jsonStrings(outOfStep))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config, state webhookResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.data.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	writeOnly := !config.HeaderWO.IsNull()
	ctx = maskHeader(ctx, config.HeaderWO, plan.Header)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateWriteOnly, privateFlag(writeOnly))...)
	// Only the out-of-step batches need a call when the wanted webhook is unchanged.
	known := fanout.Known{}
	unchanged := plan.URL.Equal(state.URL) && plan.Header.Equal(state.Header) &&
		plan.HeaderWOVersion.Equal(state.HeaderWOVersion)
	if unchanged {
		known = knownFromRefresh(ctx, req.Private, state)
	}
	outOfStep := r.apply(ctx, &plan, headerToSend(plan, config), writeOnly, known, &resp.Diagnostics)
	if plan.ID.IsNull() {
		return
	}
	if known.InStep != nil {
		plan.keepLatestFacts(state) // the skipped workflows were not read
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAppliedURL, jsonString(plan.URL.ValueString()))...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateOutOfStep, jsonStrings(outOfStep))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// apply sets the webhook the plan describes and reads back what the server
// holds into m. On a failure before anything was applied it nulls m.ID. In
// project scope it returns the batches still out of step.
func (r *webhookResource) apply(ctx context.Context, m *webhookResourceModel, header *string, writeOnly bool, known fanout.Known, diags *diag.Diagnostics) (outOfStep []string) {
	c := r.data.client
	setting := client.WebhookSetting{URL: m.URL.ValueString(), Header: header}

	switch m.scope() {
	case scopeBatch:
		b, err := batchOfProject(ctx, c, m.ProjectID.ValueString(), m.BatchID.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("batch_id"), "Cannot set the webhook of batch "+m.BatchID.ValueString(), describe(err))
			m.ID = types.StringNull()
			return
		}
		answer, err := c.SetupWebhook(ctx, client.Target{BatchID: b.ID}, setting)
		if err != nil {
			diags.AddError("Cannot set the webhook of batch "+b.ID, describe(err))
			m.ID = types.StringNull()
			return
		}
		m.WorkflowID = types.StringValue(b.WorkflowID)
		r.readBack(ctx, m, answer, setting, writeOnly, diags)

	case scopeWorkflow:
		answer, err := c.SetupWebhook(ctx, client.Target{WorkflowID: m.WorkflowID.ValueString()}, setting)
		if err != nil {
			diags.AddAttributeError(path.Root("workflow_id"), "Cannot set the webhook of workflow "+m.WorkflowID.ValueString(), describe(err))
			m.ID = types.StringNull()
			return
		}
		r.readBack(ctx, m, answer, setting, writeOnly, diags)

	case scopeProject:
		projectID := m.ProjectID.ValueString()
		if _, err := c.GetProject(ctx, projectID); err != nil {
			diags.AddAttributeError(path.Root("project_id"), "Cannot set the webhooks of project "+projectID, describe(err))
			m.ID = types.StringNull()
			return
		}
		want := fanout.Want{URL: setting.URL, Header: header, CompareHeader: true}
		rep, err := fanout.Apply(ctx, c, projectID, want, known, r.data.fanoutOptions())
		if err == nil {
			err = rep.Err()
		}
		if rep.BatchIDs == nil && err != nil {
			diags.AddError("Cannot set the webhooks of project "+projectID, describe(err))
			m.ID = types.StringNull()
			return
		}
		// Partial results are kept: the batches set stay set, and the next
		// plan shows the ones still out of step.
		m.setProjectReport(ctx, rep, diags)
		if err == nil && len(rep.OutOfStep) > 0 {
			// Every call succeeded, yet the server holds something else.
			err = fmt.Errorf("the server answered every call, but %d batch(es) hold another url or header than was set (does it rewrite the url?): %v",
				len(rep.OutOfStep), firstFew(rep.OutOfStep))
		}
		if err != nil {
			diags.AddError(fmt.Sprintf("Webhook not set on every batch of project %s", projectID),
				fmt.Sprintf("%v\n\nThe batches that succeeded keep the webhook; the next plan shows the %d batch(es) still out of step, and apply sets only those.",
					err, len(rep.OutOfStep)))
		}
		tflog.Info(ctx, "project webhooks applied", map[string]any{"project_id": projectID, "batches": len(rep.BatchIDs), "workflows": rep.Workflows, "out_of_step": len(rep.OutOfStep)})
		return rep.OutOfStep
	}
	return nil
}

// knownFromRefresh turns what the last refresh recorded into what apply may
// skip: every batch it listed except those it found out of step.
func knownFromRefresh(ctx context.Context, private privateGetter, state webhookResourceModel) fanout.Known {
	raw, diags := private.GetKey(ctx, privateOutOfStep)
	var out []string
	if diags.HasError() || len(raw) == 0 || json.Unmarshal(raw, &out) != nil || state.BatchIDs.IsNull() || state.BatchIDs.IsUnknown() {
		return fanout.Known{ReadFirst: true}
	}
	var inStep map[string]string
	if state.BatchIDs.ElementsAs(ctx, &inStep, false).HasError() {
		return fanout.Known{ReadFirst: true}
	}
	for _, id := range out {
		delete(inStep, id)
	}
	return fanout.Known{InStep: inStep}
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

// keepLatestFacts keeps the prior state's updated_at, last_call and
// last_error where they are more recent than what apply read.
func (m *webhookResourceModel) keepLatestFacts(prior webhookResourceModel) {
	if prior.UpdatedAt.ValueString() != "" && (m.UpdatedAt.IsNull() || fanout.Later(prior.UpdatedAt.ValueString(), m.UpdatedAt.ValueString())) {
		m.UpdatedAt = prior.UpdatedAt
	}
	date := func(o types.Object) string {
		if d, ok := o.Attributes()["date"].(types.String); ok {
			return d.ValueString()
		}
		return ""
	}
	if !prior.LastCall.IsNull() && (m.LastCall.IsNull() || fanout.Later(date(prior.LastCall), date(m.LastCall))) {
		m.LastCall = prior.LastCall
	}
	if m.LastError.IsNull() {
		m.LastError = prior.LastError
	}
}

// readBack puts into m what the server holds after a set: the setup answer
// when it holds what was set, else the workflow read again.
func (r *webhookResource) readBack(ctx context.Context, m *webhookResourceModel, answer *client.Webhook, set client.WebhookSetting, writeOnly bool, diags *diag.Diagnostics) {
	if (fanout.Want{URL: set.URL, Header: set.Header, CompareHeader: true}).Holds(answer) {
		m.setWebhook(ctx, answer, writeOnly, diags)
		return
	}
	wf, err := r.data.client.GetWorkflow(ctx, m.WorkflowID.ValueString())
	if err != nil {
		diags.AddError("Cannot read back the webhook of workflow "+m.WorkflowID.ValueString(), describe(err))
		return
	}
	if wf.Webhook == nil {
		diags.AddError("Webhook not kept by the server",
			fmt.Sprintf("The webhook of workflow %s was set, but reading it back found none.", m.WorkflowID.ValueString()))
		return
	}
	if !(fanout.Want{URL: set.URL, Header: set.Header, CompareHeader: true}).Holds(wf.Webhook) {
		diags.AddError("Webhook not kept as set",
			fmt.Sprintf("The webhook of workflow %s was set, but the server holds another url (%q) or header (does it rewrite the url?).",
				m.WorkflowID.ValueString(), wf.Webhook.URL))
	}
	m.setWebhook(ctx, wf.Webhook, writeOnly, diags)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state webhookResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.data.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, defaultReadTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	flag, diags := req.Private.GetKey(ctx, privateWriteOnly)
	resp.Diagnostics.Append(diags...)
	writeOnly := string(flag) == "1"
	ctx = maskHeader(ctx, types.StringNull(), state.Header)
	c := r.data.client

	var gone error
	switch state.scope() {
	case scopeBatch, scopeWorkflow:
		var wf *client.Workflow
		var err error
		if state.scope() == scopeBatch {
			wf, err = readBatchWebhook(ctx, c, state.ProjectID.ValueString(), state.BatchID.ValueString())
		} else {
			wf, err = readWorkflow(ctx, c, state.WorkflowID.ValueString())
		}
		if err == nil && wf.Webhook == nil {
			err = goneError(fmt.Sprintf("The webhook of %s was cleared outside Terraform.", state.webhookID().what()))
		}
		var g goneError
		switch {
		case errors.As(err, &g):
			gone = err
		case err != nil:
			resp.Diagnostics.AddError("Cannot read the webhook of "+state.webhookID().what(), describe(err))
			return
		default:
			state.WorkflowID = types.StringValue(wf.ID)
			state.setWebhook(ctx, wf.Webhook, writeOnly, &resp.Diagnostics)
		}

	case scopeProject:
		gone = r.readProject(ctx, &state, writeOnly, resp.Private, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}

	if gone != nil {
		resp.Diagnostics.AddWarning("Webhook removed from state", gone.Error()+" The next plan will create it again.")
		resp.State.RemoveResource(ctx)
		return
	}
	if applied, d := req.Private.GetKey(ctx, privateAppliedURL); len(applied) == 0 && !d.HasError() {
		// Imported: the resource owns the webhook it adopted.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAppliedURL, jsonString(state.URL.ValueString()))...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// readProject refreshes project scope: which batches there are now and how
// many of them do not hold the webhook. After an import (no url in state yet)
// it adopts the webhook most batches hold.
func (r *webhookResource) readProject(ctx context.Context, m *webhookResourceModel, writeOnly bool, private privateSetter, diags *diag.Diagnostics) (gone error) {
	c := r.data.client
	projectID := m.ProjectID.ValueString()
	if _, err := c.GetProject(ctx, projectID); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			return goneError(fmt.Sprintf("Project %s no longer exists.", projectID))
		}
		diags.AddError("Cannot read project "+projectID, describe(err))
		return nil
	}
	var want *fanout.Want
	if !m.URL.IsNull() {
		want = &fanout.Want{URL: m.URL.ValueString(), Header: m.Header.ValueStringPointer(), CompareHeader: !writeOnly}
	}
	rep, err := fanout.Inspect(ctx, c, projectID, want, r.data.fanoutOptions())
	if err != nil {
		diags.AddError("Cannot read the webhooks of project "+projectID, describe(err))
		return nil
	}
	if ferr := rep.Err(); ferr != nil {
		// Some batches could not be read (a 403, say): they count as out of
		// step, so the plan shows the work left, and are never dropped.
		diags.AddWarning("Some webhooks of project "+projectID+" could not be read", describe(ferr))
	}
	if want == nil {
		if rep.Common == nil {
			diags.AddError("No webhook to import",
				fmt.Sprintf("No batch of project %s holds a webhook (%d batches).", projectID, len(rep.BatchIDs)))
			return nil
		}
		m.URL = types.StringValue(rep.Common.URL)
		m.Header = headerValue(rep.Common.Header)
	}
	m.setProjectReport(ctx, rep, diags)
	diags.Append(private.SetKey(ctx, privateOutOfStep, jsonStrings(rep.OutOfStep))...)
	return nil
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state webhookResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.OnDestroy.ValueString() == "keep" {
		tflog.Info(ctx, "on_destroy = keep: leaving the webhook in place", map[string]any{"id": state.ID.ValueString()})
		return
	}
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := r.data.client
	owned := state.URL.ValueString()
	if applied, d := req.Private.GetKey(ctx, privateAppliedURL); len(applied) > 0 && !d.HasError() {
		_ = json.Unmarshal(applied, &owned) // a value this resource wrote; on error the state url stands
	}

	switch state.scope() {
	case scopeBatch, scopeWorkflow:
		target := client.Target{WorkflowID: state.WorkflowID.ValueString()}
		what := "workflow " + target.WorkflowID
		if state.scope() == scopeBatch {
			target = client.Target{BatchID: state.BatchID.ValueString()}
			what = "batch " + target.BatchID
		}
		wf, err := c.GetWorkflow(ctx, state.WorkflowID.ValueString())
		switch {
		case errors.Is(err, client.ErrNotFound):
			return // nothing left to clear
		case err != nil:
			resp.Diagnostics.AddError("Cannot read the webhook of "+what, describe(err))
			return
		case wf.Webhook == nil:
			return
		case wf.Webhook.URL != owned:
			resp.Diagnostics.AddWarning("Webhook left in place",
				fmt.Sprintf("The webhook of %s now has another url than this resource set; someone else owns it, so destroy leaves it alone.", what))
			return
		}
		if err := c.ClearWebhook(ctx, target); err != nil && !errors.Is(err, client.ErrNotFound) {
			resp.Diagnostics.AddError("Cannot clear the webhook of "+what, describe(err))
		}

	case scopeProject:
		projectID := state.ProjectID.ValueString()
		rep, err := fanout.Clear(ctx, c, projectID, owned, r.data.fanoutOptions())
		if err == nil {
			err = rep.Err()
		}
		if n := len(rep.Foreign); n > 0 {
			resp.Diagnostics.AddWarning("Webhooks left in place",
				fmt.Sprintf("%d batch(es) of project %s now hold another url than this resource set; destroy left them alone: %v", n, projectID, firstFew(rep.Foreign)))
		}
		if err != nil {
			resp.Diagnostics.AddError("Cannot clear the webhooks of project "+projectID,
				err.Error()+"\n\nThe resource stays in state; destroy again to clear the rest.")
		}
	}
}

func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, err := parseWebhookID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", describe(err))
		return
	}
	set := func(name, value string) {
		v := types.StringNull()
		if value != "" {
			v = types.StringValue(value)
		}
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
	set("id", id.String())
	set("project_id", id.ProjectID)
	set("batch_id", id.BatchID)
	set("workflow_id", id.WorkflowID)
	set("on_destroy", "clear")
}

func (m *webhookResourceModel) webhookID() webhookID {
	id := webhookID{ProjectID: m.ProjectID.ValueString()}
	switch m.scope() {
	case scopeBatch:
		id.BatchID = m.BatchID.ValueString()
	case scopeWorkflow:
		id.WorkflowID = m.WorkflowID.ValueString()
	}
	return id
}

// setWebhook copies one webhook as the server holds it into m.
func (m *webhookResourceModel) setWebhook(ctx context.Context, w *client.Webhook, writeOnly bool, diags *diag.Diagnostics) {
	m.URL = types.StringValue(w.URL)
	if writeOnly {
		m.Header = types.StringNull()
	} else {
		m.Header = headerValue(w.Header)
	}
	m.UpdatedAt = types.StringValue(w.UpdatedAt)
	m.LastCall = lastCallValue(ctx, w.LastCall, diags)
	m.LastError = lastErrorValue(ctx, w.LastError, diags)
	m.BatchIDs = types.MapNull(types.StringType)
	m.BatchesOutOfStep = types.Int64Null()
}

// setProjectReport copies a project-wide report into m.
func (m *webhookResourceModel) setProjectReport(ctx context.Context, rep fanout.Report, diags *diag.Diagnostics) {
	ids := make(map[string]attr.Value, len(rep.BatchIDs))
	for i, id := range rep.BatchIDs {
		ids[id] = types.StringValue(rep.BatchWorkflows[i])
	}
	batches, d := types.MapValue(types.StringType, ids)
	diags.Append(d...)
	m.BatchIDs = batches
	m.BatchesOutOfStep = types.Int64Value(int64(len(rep.OutOfStep)))
	m.WorkflowID = types.StringNull()
	m.UpdatedAt = types.StringNull()
	if rep.UpdatedAt != "" {
		m.UpdatedAt = types.StringValue(rep.UpdatedAt)
	}
	m.LastCall = lastCallValue(ctx, rep.LastCall, diags)
	m.LastError = lastErrorValue(ctx, rep.LastError, diags)
}

// headerToSend is the Authorization value to send: header, or header_wo
// from the configuration (write-only values live only there).
func headerToSend(plan, config webhookResourceModel) *string {
	if !config.HeaderWO.IsNull() {
		return config.HeaderWO.ValueStringPointer()
	}
	return plan.Header.ValueStringPointer()
}

// headerValue maps the API's header to the attribute: "" and null both mean none.
func headerValue(h *string) types.String {
	if h == nil || *h == "" {
		return types.StringNull()
	}
	return types.StringValue(*h)
}

// jsonStrings encodes ids for private state ("[]" when none).
func jsonStrings(ids []string) []byte {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // strings always marshal
	return b
}

// jsonString encodes s for private state, whose values must be JSON.
func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func privateFlag(on bool) []byte {
	if on {
		return []byte("1")
	}
	return []byte("0")
}

func firstFew(ids []string) []string {
	if len(ids) > 5 {
		return ids[:5]
	}
	return ids
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
