package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/ephemeralvalidator"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ ephemeral.EphemeralResourceWithConfigure        = (*webhookEphemeralResource)(nil)
	_ ephemeral.EphemeralResourceWithConfigValidators = (*webhookEphemeralResource)(nil)
)

// NewWebhookEphemeralResource is the isahitlab_webhook ephemeral resource:
// the url and header of one batch's or one workflow's webhook, read as the
// data source reads them, for a run only. The data source keeps no header
// because it is saved in the state; this is where the header can be read.
func NewWebhookEphemeralResource() ephemeral.EphemeralResource { return &webhookEphemeralResource{} }

type webhookEphemeralResource struct {
	data *providerData
}

type webhookEphemeralModel struct {
	ProjectID  types.String `tfsdk:"project_id"`
	BatchID    types.String `tfsdk:"batch_id"`
	WorkflowID types.String `tfsdk:"workflow_id"`
	URL        types.String `tfsdk:"url"`
	Header     types.String `tfsdk:"header"`
}

func (e *webhookEphemeralResource) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (e *webhookEphemeralResource) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the url and the `Authorization` header of one batch's or one workflow's webhook, for the current run only: " +
			"Terraform never saves an ephemeral resource in the plan or the state. Use it where the header itself is needed " +
			"(a write-only argument, a provider block, another ephemeral resource); the `isahitlab_webhook` data source holds " +
			"only whether a header is set (`has_header`), because it is saved in the state. " +
			"Needs Terraform 1.10 or OpenTofu 1.11, or later. It makes the same calls and checks as the data source.",
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
				MarkdownDescription: "The URL Isahit Lab calls; null when no webhook is set.",
				Computed:            true,
			},
			"header": schema.StringAttribute{
				MarkdownDescription: "The value Isahit Lab sends as the `Authorization` header; null when the webhook has none, or no webhook is set.",
				Computed:            true,
				Sensitive:           true,
			},
		},
	}
}

func (e *webhookEphemeralResource) ConfigValidators(context.Context) []ephemeral.ConfigValidator {
	return []ephemeral.ConfigValidator{
		ephemeralvalidator.ExactlyOneOf(path.MatchRoot("batch_id"), path.MatchRoot("workflow_id")),
	}
}

func (e *webhookEphemeralResource) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (e *webhookEphemeralResource) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m webhookEphemeralModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !e.data.ready(&resp.Diagnostics) {
		return
	}
	workflowID, w, ok := readWebhook(ctx, e.data, m.ProjectID, m.BatchID, m.WorkflowID, &resp.Diagnostics)
	if !ok {
		return
	}
	m.WorkflowID = types.StringValue(workflowID)
	m.URL, m.Header = types.StringNull(), types.StringNull()
	if w != nil {
		m.Header = headerAttr(w.Header)
		ctx = maskHeader(ctx, m.Header) // from here on, the provider's logs mask it
		m.URL = types.StringValue(w.URL)
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
