package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The isahitlab_webhook_health data source: the delivery health of the
// webhooks of a project (or of one workflow, or of some batches), made for
// check blocks. It reads each workflow once through the engine (Health);
// the counts cover every workflow, the lists are bounded.

var (
	_ datasource.DataSourceWithConfigure        = (*webhookHealthDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*webhookHealthDataSource)(nil)
)

// NewWebhookHealthDataSource is the isahitlab_webhook_health data source.
func NewWebhookHealthDataSource() datasource.DataSource { return &webhookHealthDataSource{} }

type webhookHealthDataSource struct {
	data *providerData
}

const (
	defaultMaxFailing = 10
	maxMaxFailing     = 100
	// maxHealthBatchIDs: each named batch is read on its own; past this
	// many, the project scope (one list walk) is the cheaper question.
	maxHealthBatchIDs = 1000
	// healthBatchesNamed and healthMaxBody bound each workflow's entry.
	healthBatchesNamed = 5
	healthMaxBody      = 1024
)

type webhookHealthModel struct {
	ProjectID        types.String `tfsdk:"project_id"`
	WorkflowID       types.String `tfsdk:"workflow_id"`
	BatchIDs         types.Set    `tfsdk:"batch_ids"`
	MaxFailing       types.Int64  `tfsdk:"max_failing"`
	IncludeWorkflows types.Bool   `tfsdk:"include_workflows"`
	Counts           types.Object `tfsdk:"counts"`
	BatchCounts      types.Object `tfsdk:"batch_counts"`
	Failing          types.List   `tfsdk:"failing"`
	Workflows        types.List   `tfsdk:"workflows"`
}

// stateCountTypes: a count per state, and their total.
var stateCountTypes = func() map[string]attr.Type {
	m := map[string]attr.Type{"total": types.Int64Type}
	for _, s := range webhooks.States {
		m[string(s)] = types.Int64Type
	}
	return m
}()

var healthErrorTypes = map[string]attr.Type{
	"status_code": types.Int64Type,
	"message":     types.StringType,
	"date":        types.StringType,
	"body":        types.StringType,
}

var batchRefTypes = map[string]attr.Type{
	"id":   types.StringType,
	"name": types.StringType,
}

var workflowHealthTypes = map[string]attr.Type{
	"workflow_id": types.StringType,
	"state":       types.StringType,
	"url":         types.StringType,
	"last_call":   types.ObjectType{AttrTypes: lastCallTypes},
	"last_error":  types.ObjectType{AttrTypes: healthErrorTypes},
	"batch_count": types.Int64Type,
	"batches":     types.ListType{ElemType: types.ObjectType{AttrTypes: batchRefTypes}},
}

func (d *webhookHealthDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook_health"
}

// stateDescriptions says what each state means, for the schema's text.
const stateDescriptions = "`ok` (the last delivery succeeded), `failing` (the last delivery failed: its error is newer than any success), " +
	"`never_called` (a webhook not delivered to since it was last set: no call on record, or a last call dated before the webhook's `updatedAt`, " +
	"made to the url or header it had then), `no_webhook` (the workflow holds none), " +
	"`unreadable` (the webhook, or a batch's workflow, could not be read: a warning says why)"

func countsSchema(what string) schema.SingleNestedAttribute {
	attrs := map[string]schema.Attribute{
		"total": schema.Int64Attribute{Computed: true, MarkdownDescription: "All of them: the sum of the others."},
	}
	for _, s := range webhooks.States {
		attrs[string(s)] = schema.Int64Attribute{Computed: true, MarkdownDescription: fmt.Sprintf("Those in state `%s`.", s)}
	}
	return schema.SingleNestedAttribute{Computed: true, MarkdownDescription: what, Attributes: attrs}
}

func workflowHealthSchema() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"workflow_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The workflow, which holds the webhook."},
		"state":       schema.StringAttribute{Computed: true, MarkdownDescription: "One of " + stateDescriptions + "."},
		"url":         schema.StringAttribute{Computed: true, MarkdownDescription: "The URL Isahit Lab calls; null without a webhook. The header is never read into this data source."},
		"last_call": schema.SingleNestedAttribute{
			Computed: true, MarkdownDescription: "The last delivery attempt; null when none. With state `never_called` it is one made before the webhook was last set (to another url or header, perhaps), kept by the API: it says nothing of the current receiver.",
			Attributes: lastCallDataSchema(),
		},
		"last_error": schema.SingleNestedAttribute{
			Computed: true, MarkdownDescription: "The last failed delivery; null when none. It may be older than `last_call` (state `ok`).",
			Attributes: map[string]schema.Attribute{
				"status_code": schema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
				"message":     schema.StringAttribute{Computed: true, MarkdownDescription: descMessage + " The header's value is replaced by `***`."},
				"date": schema.StringAttribute{Computed: true, MarkdownDescription: "When it happened: the API records no date with the last error, so this is " +
					"`last_call.date` when the last call is this failure (state `failing`, same status code), else null."},
				"body": schema.StringAttribute{Computed: true, MarkdownDescription: fmt.Sprintf(
					"The receiver's response body, JSON text when it was JSON, cut to %d bytes; any occurrence of the header's value "+
						"(whole, its credentials after the scheme, or JSON-escaped) is replaced by `***`. Null when empty.", healthMaxBody)},
			},
		},
		"batch_count": schema.Int64Attribute{Computed: true, MarkdownDescription: "The covered batches that use the workflow (0 with `workflow_id`: the API cannot list a workflow's batches)."},
		"batches": schema.ListNestedAttribute{
			Computed:            true,
			MarkdownDescription: fmt.Sprintf("The first %d of those batches, by id (the oldest first).", healthBatchesNamed),
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Batch id."},
				"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Batch name, as the API gives it (the batch list, or the batch itself with `batch_ids`)."},
			}},
		},
	}}
}

func (d *webhookHealthDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The delivery health of the webhooks of a project, one workflow or some batches: for each workflow, the state derived from its last call " +
			"and last error, counts per state, and the failing receivers, newest failure first, with the batches they serve. Made for `check` blocks. " +
			"It only reads: the project's batches once, then each workflow once.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				MarkdownDescription: "The project. Alone, every batch of the project that has a workflow is covered.",
				Required:            true,
				Validators:          []validator.String{objectID()},
			},
			"workflow_id": schema.StringAttribute{
				MarkdownDescription: "Only this workflow. Conflicts with `batch_ids`.",
				Optional:            true,
				Validators:          []validator.String{objectID()},
			},
			"batch_ids": schema.SetAttribute{
				MarkdownDescription: fmt.Sprintf("Only these batches of the project (1 to %d), each read on its own instead of listing the project. Conflicts with `workflow_id`.", maxHealthBatchIDs),
				Optional:            true,
				ElementType:         types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeBetween(1, maxHealthBatchIDs),
					setvalidator.ValueStringsAre(objectID()),
				},
			},
			"max_failing": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many failing workflows `failing` lists, from 0 to %d. Defaults to %d. The counts cover them all.", maxMaxFailing, defaultMaxFailing),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(0, maxMaxFailing)},
			},
			"include_workflows": schema.BoolAttribute{
				MarkdownDescription: "Also list every workflow covered, whatever its state, in `workflows`: one object per workflow, so keep it for a workflow, a few batches or a small project. Defaults to false.",
				Optional:            true,
			},
			"counts":       countsSchema("The workflows covered, by state: " + stateDescriptions + "."),
			"batch_counts": countsSchema("The batches covered, by the state of their workflow (a batch whose workflow could not be found is `unreadable`). Batches without a workflow are in no count. All 0 with `workflow_id`."),
			"failing": schema.ListNestedAttribute{
				MarkdownDescription: "The failing workflows, the newest failure first, at most `max_failing` of them.",
				Computed:            true,
				NestedObject:        workflowHealthSchema(),
			},
			"workflows": schema.ListNestedAttribute{
				MarkdownDescription: "With `include_workflows`, every workflow covered, in the order of their first batch (in the project's batch list, or by id with `batch_ids`); else null.",
				Computed:            true,
				NestedObject:        workflowHealthSchema(),
			},
		},
	}
}

func (d *webhookHealthDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.Conflicting(path.MatchRoot("workflow_id"), path.MatchRoot("batch_ids")),
	}
}

func (d *webhookHealthDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *webhookHealthDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m webhookHealthModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	t := webhooks.Target{ProjectID: m.ProjectID.ValueString(), WorkflowID: m.WorkflowID.ValueString()}
	h := webhooks.HealthOptions{MaxFailing: defaultMaxFailing, MaxBatches: healthBatchesNamed, MaxBody: healthMaxBody, Every: m.IncludeWorkflows.ValueBool()}
	if !m.MaxFailing.IsNull() {
		h.MaxFailing = int(m.MaxFailing.ValueInt64())
		if h.MaxFailing == 0 {
			h.MaxFailing = -1 // the engine's "none"
		}
	}
	resp.Diagnostics.Append(m.BatchIDs.ElementsAs(ctx, &h.BatchIDs, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	slices.Sort(h.BatchIDs) // a set has no order; the results follow this one

	res, err := webhooks.Health(ctx, d.data.client, t, d.data.engineOptions(), h)
	if err != nil {
		healthError(&resp.Diagnostics, m, err)
		return
	}
	warnForeign(&resp.Diagnostics, t, res.Foreign)
	if rerr := res.Err(); rerr != nil {
		resp.Diagnostics.AddWarning("Some webhooks could not be read",
			fmt.Sprintf("Checking the webhook health of %s: %s\n\nThey count as unreadable.", t, describe(rerr)))
	}

	m.Counts = stateCounts(res.Counts, &resp.Diagnostics)
	m.BatchCounts = stateCounts(res.BatchCounts, &resp.Diagnostics)
	m.Failing = workflowHealthList(ctx, res.Failing, &resp.Diagnostics)
	m.Workflows = types.ListNull(types.ObjectType{AttrTypes: workflowHealthTypes})
	if h.Every {
		m.Workflows = workflowHealthList(ctx, res.Workflows, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// healthError reports a failed read on the argument that chose what was
// read, with its value.
func healthError(diags *diag.Diagnostics, m webhookHealthModel, err error) {
	const summary = "Cannot read the webhook health"
	var bad []*webhooks.BatchError
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			var be *webhooks.BatchError
			if errors.As(e, &be) {
				bad = append(bad, be)
			}
		}
	}
	switch {
	case len(bad) > 0:
		for _, be := range bad {
			diags.AddAttributeError(path.Root("batch_ids").AtSetValue(types.StringValue(be.BatchID)), summary,
				fmt.Sprintf("batch_ids holds %q: %s", be.BatchID, describe(be.Err)))
		}
	case !m.WorkflowID.IsNull():
		diags.AddAttributeError(path.Root("workflow_id"), summary,
			fmt.Sprintf("workflow_id = %q: %s", m.WorkflowID.ValueString(), describe(err)))
	default:
		diags.AddAttributeError(path.Root("project_id"), summary,
			fmt.Sprintf("project_id = %q: %s", m.ProjectID.ValueString(), describe(err)))
	}
}

func stateCounts(counts map[webhooks.State]int, diags *diag.Diagnostics) types.Object {
	vals := map[string]attr.Value{}
	total := 0
	for _, s := range webhooks.States {
		vals[string(s)] = types.Int64Value(int64(counts[s]))
		total += counts[s]
	}
	vals["total"] = types.Int64Value(int64(total))
	v, d := types.ObjectValue(stateCountTypes, vals)
	diags.Append(d...)
	return v
}

func workflowHealthList(ctx context.Context, whs []webhooks.WorkflowHealth, diags *diag.Diagnostics) types.List {
	items := make([]attr.Value, 0, len(whs))
	for _, wh := range whs {
		items = append(items, workflowHealthValue(ctx, wh, diags))
	}
	v, d := types.ListValue(types.ObjectType{AttrTypes: workflowHealthTypes}, items)
	diags.Append(d...)
	return v
}

func workflowHealthValue(ctx context.Context, wh webhooks.WorkflowHealth, diags *diag.Diagnostics) attr.Value {
	url := types.StringNull()
	if wh.URL != "" {
		url = types.StringValue(wh.URL)
	}
	batches := make([]attr.Value, 0, len(wh.Batches))
	for _, b := range wh.Batches {
		name := types.StringNull()
		if b.Name != "" {
			name = types.StringValue(b.Name)
		}
		v, d := types.ObjectValue(batchRefTypes, map[string]attr.Value{"id": types.StringValue(b.ID), "name": name})
		diags.Append(d...)
		batches = append(batches, v)
	}
	batchList, d := types.ListValue(types.ObjectType{AttrTypes: batchRefTypes}, batches)
	diags.Append(d...)
	v, d := types.ObjectValue(workflowHealthTypes, map[string]attr.Value{
		"workflow_id": types.StringValue(wh.WorkflowID),
		"state":       types.StringValue(string(wh.State)),
		"url":         url,
		"last_call":   lastCallValue(ctx, wh.LastCall, diags),
		"last_error":  healthErrorValue(wh.LastError, wh.LastErrorDate, diags),
		"batch_count": types.Int64Value(int64(wh.BatchCount)),
		"batches":     batchList,
	})
	diags.Append(d...)
	return v
}

func healthErrorValue(e *client.CallError, date string, diags *diag.Diagnostics) types.Object {
	if e == nil {
		return types.ObjectNull(healthErrorTypes)
	}
	body, at := types.StringNull(), types.StringNull()
	if e.Body != "" {
		body = types.StringValue(e.Body)
	}
	if date != "" {
		at = types.StringValue(date)
	}
	v, d := types.ObjectValue(healthErrorTypes, map[string]attr.Value{
		"status_code": types.Int64Value(int64(e.StatusCode)),
		"message":     types.StringValue(e.Message),
		"date":        at,
		"body":        body,
	})
	diags.Append(d...)
	return v
}
