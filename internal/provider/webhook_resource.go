package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

var _ interface {
	resource.ResourceWithConfigure
	resource.ResourceWithModifyPlan
	resource.ResourceWithImportState
	resource.ResourceWithConfigValidators
	resource.ResourceWithUpgradeState
} = (*webhookResource)(nil)

// NewWebhookResource is the isahitlab_webhook resource.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

type webhookResource struct{ data *providerData }

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Version: 1,
		MarkdownDescription: "The webhook Isahit Lab calls when a task finishes an annotation or review job: " +
			"on one batch (`batch_id`), one workflow (`workflow_id`), or every batch of a project (neither).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`PROJECT_ID` (project scope), `PROJECT_ID/BATCH_ID` (batch) or `PROJECT_ID/workflow/WORKFLOW_ID` (workflow).",
				Computed:            true,
			},
			"scope": schema.StringAttribute{
				MarkdownDescription: "`project`, `batch` or `workflow`, from the configuration: `batch_id` set, `workflow_id` set, or neither. Fixed for the resource's life: a change of scope replaces the resource.",
				Computed:            true,
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "The project. Changing it replaces the resource.",
				Required:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"batch_id": schema.StringAttribute{
				MarkdownDescription: "One batch of the project: the webhook is set on its workflow. Omit it, and `workflow_id`, for every batch of the project. Adding, changing or removing it replaces the resource.",
				Optional:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"workflow_id": schema.StringAttribute{
				MarkdownDescription: "One workflow, targeted directly. Conflicts with `batch_id`; with `batch_id` it is computed (the batch's workflow). Adding, changing or removing it replaces the resource.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{objectID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The URL Isahit Lab POSTs to: an absolute `http://` or `https://` URL, starting with `http` in lowercase (the API refuses `HTTPS://...`), without credentials (`user:password@`) or fragment, at most 2048 characters. Updated in place.",
				Required:            true,
				Validators:          []validator.String{webhookURL()},
			},
			"header": schema.StringAttribute{
				MarkdownDescription: "Value Isahit Lab sends as the `Authorization` header of each call: 4 to 8192 bytes of printable ASCII, without a space at either end (a shorter value could not be masked in logs and error messages). Stored in state (marked sensitive); use `header_wo` to keep it out of state.",
				Optional:            true,
				Sensitive:           true,
				Validators:          []validator.String{headerValue()},
			},
			"header_wo": schema.StringAttribute{
				MarkdownDescription: "Write-only twin of `header` (Terraform 1.11 or later): never stored in state or plan; the same rules apply (4 to 8192 bytes of printable ASCII). " +
					"Sent when the resource is created, when the url, the header mode or `header_wo_version` changes, and when batches out of step are set. Conflicts with `header`.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{headerValue()},
			},
			"header_wo_version": schema.StringAttribute{
				MarkdownDescription: "Any string; change it to send a new `header_wo` value. Requires `header_wo`.",
				Optional:            true,
				Validators:          []validator.String{headerWOVersion(), stringvalidator.AlsoRequires(path.MatchRoot("header_wo"))},
			},
			"header_mode": schema.StringAttribute{
				MarkdownDescription: "How the header is managed: `none`, `header` or `header_wo`, from the arguments set; or `adopted`: a header set outside Terraform, kept as the server holds it (even when the url changes) and never read into state. Import sets `adopted` when it finds a header. Set it only to `adopted` (or to the value the arguments give). A change of mode is an update.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{stringvalidator.OneOf(headerNone, headerAttribute, headerWriteOnly, headerAdopted)},
			},
			"on_destroy": schema.StringAttribute{
				MarkdownDescription: "What destroy does: `clear` (default) removes the webhook from every batch or workflow it covers that still holds a url this resource set (others are left alone, with a warning); `keep` leaves the webhooks in place and only forgets them.",
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
			"batch_count": schema.Int64Attribute{
				MarkdownDescription: "How many batches the webhook covers: in project scope every batch that has a workflow (the data source `isahitlab_batches` lists them), 1 in batch scope, null in workflow scope.",
				Computed:            true,
			},
			"out_of_step": schema.Int64Attribute{
				MarkdownDescription: "How many of the covered batches (in workflow scope, the workflow) lack the webhook or hold another url or header than this resource set: a batch created since, or a change made outside Terraform. When it is not 0 the plan updates the resource, and apply sets only those.",
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
		headerModeMatches{},
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || !r.data.ready(&resp.Diagnostics) {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Create, &resp.Diagnostics)
	defer cancel()
	ctx = rememberHeader(ctx, r.data.client, config.HeaderWO, plan.Header)

	want := wantToSend(&plan, &config, privateRecord{})
	o := scopeOf(plan.Scope.ValueString()).set(ctx, r.engine(), &plan, want, prior{})
	resp.Diagnostics.Append(o.diags...)
	if o.failed() && !o.sent {
		return // the server did not change: no resource
	}
	// Something may have been set: keep it in state (tainted on error), so
	// nothing applied is lost and destroy can clear it.
	var rec privateRecord
	rec.own(want.URL)
	plan.ID = types.StringValue(formatID(plan.target()))
	resp.Diagnostics.Append(save(ctx, &resp.State, resp.Identity, resp.Private, &plan, rec)...)
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.data.ready(&resp.Diagnostics) {
		return
	}
	ctx, cancel := withTimeout(ctx, state.Timeouts.Read, &resp.Diagnostics)
	defer cancel()
	ctx = rememberHeader(ctx, r.data.client, state.Header)

	rec := readPrivate(ctx, req.Private, &state)
	sc := scopeOf(state.Scope.ValueString())
	var want *webhooks.Want
	if !state.URL.IsNull() { // null: just imported, nothing wanted yet
		w := wantInState(&state)
		want = &w
	}
	o := sc.observe(ctx, r.engine(), &state, want)
	if want == nil {
		rec.own(state.URL.ValueString()) // adopted
	}
	resp.Diagnostics.Append(o.diags...)
	switch {
	case o.gone:
		resp.State.RemoveResource(ctx)
		resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, &state)...) // the framework wants one even then
		return
	case o.failed():
		return
	}
	rec.afterRefresh(o)
	resp.Diagnostics.Append(save(ctx, &resp.State, resp.Identity, resp.Private, &state, rec)...)
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config, state webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !webhookChanged(&plan, &state) && state.OutOfStep.ValueInt64() == 0 {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...) // on_destroy or timeouts: no call
		resp.Diagnostics.Append(setIdentity(ctx, resp.Identity, &plan)...)
		return
	}
	if !r.data.ready(&resp.Diagnostics) {
		return
	}
	ctx, cancel := withTimeout(ctx, plan.Timeouts.Update, &resp.Diagnostics)
	defer cancel()
	ctx = rememberHeader(ctx, r.data.client, config.HeaderWO, plan.Header, state.Header)

	rec := readPrivate(ctx, req.Private, &state)
	changed := webhookChanged(&plan, &state)
	want := wantToSend(&plan, &config, rec)
	pr := rec.forUpdate(changed, &plan, &want)
	next := plan
	o := scopeOf(state.Scope.ValueString()).set(ctx, r.engine(), &next, want, pr)
	resp.Diagnostics.Append(o.diags...)
	rec.afterUpdate(o, want.URL, changed, &plan)
	if pr.known != nil {
		next.keepLaterFacts(&state) // the skipped workflows were not read
	}
	if o.failed() {
		next = state.afterFailure(&next) // the next plan shows the change again
	}
	resp.Diagnostics.Append(save(ctx, &resp.State, resp.Identity, resp.Private, &next, rec)...)
}

func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state webhookModel
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
	ctx, cancel := withTimeout(ctx, state.Timeouts.Delete, &resp.Diagnostics)
	defer cancel()
	rec := readPrivate(ctx, req.Private, &state)
	var pr prior
	if rec.Seen.madeHere() {
		pr.seen = rec.Seen // the refresh of this destroy's own command
	}
	resp.Diagnostics.Append(scopeOf(state.Scope.ValueString()).clear(ctx, r.engine(), &state, rec.owns, pr)...)
}
