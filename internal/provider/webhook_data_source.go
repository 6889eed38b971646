package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

var (
	_ datasource.DataSourceWithConfigure        = (*webhookDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*webhookDataSource)(nil)
)

// NewWebhookDataSource is the isahitlab_webhook data source: one batch's or
// one workflow's webhook, read as the SDK's get_webhook reads it.
func NewWebhookDataSource() datasource.DataSource { return &webhookDataSource{} }

type webhookDataSource struct {
	data *providerData
}

type webhookDataSourceModel struct {
	ProjectID  types.String `tfsdk:"project_id"`
	BatchID    types.String `tfsdk:"batch_id"`
	WorkflowID types.String `tfsdk:"workflow_id"`
	URL        types.String `tfsdk:"url"`
	HasHeader  types.Bool   `tfsdk:"has_header"`
	UpdatedAt  types.String `tfsdk:"updated_at"`
	LastCall   types.Object `tfsdk:"last_call"`
	LastError  types.Object `tfsdk:"last_error"`
}

func (d *webhookDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (d *webhookDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the webhook of one batch or one workflow, with its last call and last error. `url` and the other attributes are null when no webhook is set (`has_header` is false). " +
			"It holds no header value, only whether one is set (`has_header`): a data source is saved in the state, and the header is the receiver's secret, " +
			"which `header_wo` keeps out of the state. Read the header with the `isahitlab_webhook` ephemeral resource, which is never saved.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				MarkdownDescription: "The project.",
				Required:            true,
				Validators:          []validator.String{objectID()},
			},
			"batch_id": schema.StringAttribute{
				MarkdownDescription: "A batch of the project. Exactly one of `batch_id` and `workflow_id` is required.",
				Optional:            true,
				Validators:          []validator.String{objectID()},
			},
			"workflow_id": schema.StringAttribute{
				MarkdownDescription: "A workflow. Exactly one of `batch_id` and `workflow_id` is required; with `batch_id`, the batch's workflow.",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{objectID()},
			},
			"url": schema.StringAttribute{
				MarkdownDescription: "The URL Isahit Lab calls.",
				Computed:            true,
			},
			"has_header": schema.BoolAttribute{
				MarkdownDescription: "Whether the webhook has an `Authorization` header set (false without a webhook). Not the value, nor a hash of it: " +
					"a hash in the state would let whoever reads the state test guesses of the secret offline. " +
					"The `isahitlab_webhook` ephemeral resource gives the value.",
				Computed: true,
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the webhook was last set.",
				Computed:            true,
			},
			"last_call": schema.SingleNestedAttribute{
				MarkdownDescription: "The last delivery attempt.",
				Computed:            true,
				Attributes:          lastCallDataSchema(),
			},
			"last_error": schema.SingleNestedAttribute{
				MarkdownDescription: "The last failed delivery.",
				Computed:            true,
				Attributes:          lastErrorDataSchema(),
			},
		},
	}
}

func (d *webhookDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("batch_id"), path.MatchRoot("workflow_id")),
	}
}

func (d *webhookDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *webhookDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m webhookDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	workflowID, w, ok := readWebhook(ctx, d.data, m.ProjectID, m.BatchID, m.WorkflowID, &resp.Diagnostics)
	if !ok {
		return
	}

	m.WorkflowID = types.StringValue(workflowID)
	m.URL, m.UpdatedAt = types.StringNull(), types.StringNull()
	m.HasHeader = types.BoolValue(false)
	m.LastCall, m.LastError = types.ObjectNull(lastCallTypes), types.ObjectNull(lastErrorTypes)
	if w != nil {
		ctx = maskHeader(ctx, headerAttr(w.Header))
		m.URL = types.StringValue(w.URL)
		m.HasHeader = types.BoolValue(!headerAttr(w.Header).IsNull())
		m.UpdatedAt = types.StringValue(w.UpdatedAt)
		m.LastCall = lastCallValue(ctx, w.LastCall, &resp.Diagnostics)
		m.LastError = lastErrorValue(ctx, w.LastError, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readWebhook reads the webhook of one batch or one workflow, as the SDK's
// get_webhook does: the data source and the ephemeral resource share it, so
// both check and answer alike. It returns the workflow read and its webhook
// (nil when none is set); ok is false after an error, added to diags.
func readWebhook(ctx context.Context, data *providerData, projectID, batchID, workflowID types.String, diags *diag.Diagnostics) (string, *client.Webhook, bool) {
	t := webhooks.Target{ProjectID: projectID.ValueString(), BatchID: batchID.ValueString(), WorkflowID: workflowID.ValueString()}
	res, err := webhooks.Inspect(ctx, data.client, t, nil, data.engineOptions())
	err = orPartial(err, res)
	if err != nil {
		diags.AddError("Cannot read the webhook", fmt.Sprintf("Reading the webhook of %s failed: %s", t, describe(err)))
		return "", nil, false
	}
	return res.Workflows[0], res.Held, true
}
