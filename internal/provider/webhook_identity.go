package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The resource identity of isahitlab_webhook (Terraform 1.12 or later): the
// scope's ids, named as the resource's arguments. It is fixed for the
// resource's life, as the scope is:
//
//	project scope   project_id
//	batch scope     project_id, batch_id
//	workflow scope  project_id, workflow_id
//
// In batch scope workflow_id stays null: the resource's workflow_id is the
// batch's workflow, which may change outside Terraform, and an identity must
// not. Create, Read and Update set it through save, ImportState from the id
// or the identity it was given; a state written before identities gets it
// at its next refresh.

var _ resource.ResourceWithIdentity = (*webhookResource)(nil)

type webhookIdentityModel struct {
	ProjectID  types.String `tfsdk:"project_id"`
	BatchID    types.String `tfsdk:"batch_id"`
	WorkflowID types.String `tfsdk:"workflow_id"`
}

func (r *webhookResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"project_id": identityschema.StringAttribute{
				Description:       "The project: 24 hexadecimal digits. Alone, it names the project scope (every batch of the project).",
				RequiredForImport: true,
			},
			"batch_id": identityschema.StringAttribute{
				Description:       "The batch, in batch scope; null otherwise. Conflicts with workflow_id.",
				OptionalForImport: true,
			},
			"workflow_id": identityschema.StringAttribute{
				Description:       "The workflow, in workflow scope; null otherwise (in batch scope too: the batch's workflow may change, the identity does not). Conflicts with batch_id.",
				OptionalForImport: true,
			},
		},
	}
}

// identityOf is the identity of a target.
func identityOf(t webhooks.Target) webhookIdentityModel {
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	return webhookIdentityModel{ProjectID: str(t.ProjectID), BatchID: str(t.BatchID), WorkflowID: str(t.WorkflowID)}
}

// setIdentity writes the identity of the model's scope; nil (a client or
// framework without identities) writes nothing.
func setIdentity(ctx context.Context, ident *tfsdk.ResourceIdentity, m *webhookModel) diag.Diagnostics {
	if ident == nil {
		return nil
	}
	return ident.Set(ctx, identityOf(m.target()))
}

// importedTarget is the target an import names: by the import id when
// there is one, else by the identity of an import block's `identity`.
func importedTarget(ctx context.Context, req resource.ImportStateRequest) (webhooks.Target, diag.Diagnostics) {
	var diags diag.Diagnostics
	if req.ID != "" || req.Identity == nil || req.Identity.Raw.IsNull() {
		id, err := parseWebhookID(req.ID)
		if err != nil {
			diags.AddError("Invalid import id", describe(err))
		}
		return id, diags
	}
	var ident webhookIdentityModel
	diags.Append(req.Identity.Get(ctx, &ident)...)
	if diags.HasError() {
		return webhooks.Target{}, diags
	}
	id := webhooks.Target{ProjectID: ident.ProjectID.ValueString(), BatchID: ident.BatchID.ValueString(), WorkflowID: ident.WorkflowID.ValueString()}
	const forms = "set project_id alone for project scope, with batch_id for batch scope, or with workflow_id for workflow scope"
	if id.ProjectID == "" {
		diags.AddAttributeError(path.Root("project_id"), "Invalid import identity",
			"The identity has no project_id; it is required: "+forms+".")
	}
	for _, a := range []struct{ name, value string }{{"project_id", id.ProjectID}, {"batch_id", id.BatchID}, {"workflow_id", id.WorkflowID}} {
		if a.value != "" && checkObjectID(a.value) != "" {
			diags.AddAttributeError(path.Root(a.name), "Invalid import identity",
				fmt.Sprintf("The identity's %s = %s %s.", a.name, shown(a.value), checkObjectID(a.value)))
		}
	}
	if id.BatchID != "" && id.WorkflowID != "" {
		diags.AddAttributeError(path.Root("workflow_id"), "Invalid import identity",
			fmt.Sprintf("The identity sets both batch_id = %q and workflow_id = %q; %s.", id.BatchID, id.WorkflowID, forms))
	}
	return id, diags
}
