package provider

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

var _ datasource.DataSourceWithConfigure = (*batchesDataSource)(nil)

// NewBatchesDataSource is the isahitlab_batches data source: a project's
// batches, for for_each.
func NewBatchesDataSource() datasource.DataSource { return &batchesDataSource{} }

type batchesDataSource struct {
	data *providerData
}

type batchesDataSourceModel struct {
	ProjectID types.String `tfsdk:"project_id"`
	Statuses  types.List   `tfsdk:"statuses"`
	Search    types.String `tfsdk:"search"`
	Batches   types.List   `tfsdk:"batches"`
}

var batchTypes = map[string]attr.Type{
	"id":          types.StringType,
	"name":        types.StringType,
	"status":      types.StringType,
	"workflow_id": types.StringType,
}

func (d *batchesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_batches"
}

func (d *batchesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the batches of a project, with each batch's workflow.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				MarkdownDescription: "The project.",
				Required:            true,
				Validators:          []validator.String{objectID()},
			},
			"statuses": schema.ListAttribute{
				MarkdownDescription: "Only batches with one of these statuses (words such as `pending` or `complete`, each listed once).",
				Optional:            true,
				ElementType:         types.StringType,
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(statusWord()),
				},
			},
			"search": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Only batches whose name matches this text, as the API searches: at most %d bytes, without control characters.", maxSearchLength),
				Optional:            true,
				Validators:          []validator.String{searchText()},
			},
			"batches": schema.ListNestedAttribute{
				MarkdownDescription: "The batches, in the API's order.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "Batch id."},
					"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Batch name."},
					"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "Batch status."},
					"workflow_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The batch's workflow, which holds its webhook."},
				}},
			},
		},
	}
}

func (d *batchesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *batchesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m batchesDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}
	filter := client.BatchFilter{ProjectID: m.ProjectID.ValueString(), Search: m.Search.ValueString()}
	resp.Diagnostics.Append(m.Statuses.ElementsAs(ctx, &filter.Statuses, false)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// A document that names another project is not this project's, whatever
	// the server's filter did.
	var batches []client.Batch
	foreign := map[string]string{}
	err := d.data.client.ListBatches(ctx, filter, func(b client.Batch) error {
		if b.ProjectID != "" && b.ProjectID != filter.ProjectID {
			foreign[b.ID] = b.ProjectID
			return nil
		}
		batches = append(batches, b)
		return nil
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the batches of project "+filter.ProjectID, describe(err))
		return
	}

	// List documents may leave the workflow out: ask those batches directly.
	var mu sync.Mutex
	var firstErr error
	err = webhooks.Each(ctx, d.data.concurrency, len(batches), func(ctx context.Context, i int) {
		if batches[i].WorkflowID != "" {
			return
		}
		b, err := d.data.client.GetBatch(ctx, batches[i].ID)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
		case b.ProjectID != "" && b.ProjectID != filter.ProjectID:
			foreign[b.ID] = b.ProjectID
		default:
			batches[i].WorkflowID = b.WorkflowID
		}
	})
	if err == nil {
		err = firstErr
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the workflows of the batches of project "+filter.ProjectID, describe(err))
		return
	}

	warnForeign(&resp.Diagnostics, webhooks.Target{ProjectID: filter.ProjectID}, foreign)
	batches = slices.DeleteFunc(batches, func(b client.Batch) bool { _, ok := foreign[b.ID]; return ok })
	items := make([]attr.Value, len(batches))
	for i, b := range batches {
		wf := types.StringNull()
		if b.WorkflowID != "" {
			wf = types.StringValue(b.WorkflowID)
		}
		obj, diags := types.ObjectValue(batchTypes, map[string]attr.Value{
			"id": types.StringValue(b.ID), "name": types.StringValue(b.Name),
			"status": types.StringValue(b.Status), "workflow_id": wf,
		})
		resp.Diagnostics.Append(diags...)
		items[i] = obj
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: batchTypes}, items)
	resp.Diagnostics.Append(diags...)
	m.Batches = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
