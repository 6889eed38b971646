package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// webhookID is the resource's id, and the import id: it names the scope.
//
//	PROJECT_ID                       every batch of the project
//	PROJECT_ID/BATCH_ID              one batch
//	PROJECT_ID/workflow/WORKFLOW_ID  one workflow
type webhookID struct {
	ProjectID  string
	BatchID    string
	WorkflowID string
}

const idForms = "PROJECT_ID, PROJECT_ID/BATCH_ID or PROJECT_ID/workflow/WORKFLOW_ID"

func parseWebhookID(s string) (webhookID, error) {
	bad := func(why string) (webhookID, error) {
		return webhookID{}, fmt.Errorf("import id %q %s; the accepted forms are %s, each id being 24 lowercase hex digits", s, why, idForms)
	}
	parts := strings.Split(s, "/")
	for i, p := range parts {
		if p == "" {
			if s == "" {
				return bad("is empty")
			}
			return bad(fmt.Sprintf("has an empty part %d", i+1))
		}
	}
	var id webhookID
	switch len(parts) {
	case 1:
		id = webhookID{ProjectID: parts[0]}
	case 2:
		if parts[1] == "workflow" {
			return bad("lacks the workflow id after \"workflow\"")
		}
		id = webhookID{ProjectID: parts[0], BatchID: parts[1]}
	case 3:
		if parts[1] != "workflow" {
			return bad(fmt.Sprintf("has the unknown keyword %q where \"workflow\" was expected", parts[1]))
		}
		id = webhookID{ProjectID: parts[0], WorkflowID: parts[2]}
	default:
		return bad(fmt.Sprintf("has %d parts, at most 3 are accepted", len(parts)))
	}
	for _, p := range []struct{ name, value string }{
		{"project id", id.ProjectID}, {"batch id", id.BatchID}, {"workflow id", id.WorkflowID},
	} {
		if p.value == "" || checkObjectID(p.value) == "" {
			continue
		}
		if lower := strings.ToLower(p.value); checkObjectID(lower) == "" {
			return bad(fmt.Sprintf("has %s %q, which is not 24 lowercase hexadecimal digits: it has upper-case letters, write it in lowercase (%q)", p.name, p.value, lower))
		}
		return bad(fmt.Sprintf("has %s %q, which is not 24 lowercase hexadecimal digits", p.name, p.value))
	}
	return id, nil
}

func (id webhookID) String() string {
	switch {
	case id.BatchID != "":
		return id.ProjectID + "/" + id.BatchID
	case id.WorkflowID != "":
		return id.ProjectID + "/workflow/" + id.WorkflowID
	}
	return id.ProjectID
}

// scope is the scope the id names.
func (id webhookID) scope() string {
	switch {
	case id.BatchID != "":
		return scopeBatch
	case id.WorkflowID != "":
		return scopeWorkflow
	}
	return scopeProject
}

// what names the scope in messages: "batch B of project P" and the like.
func (id webhookID) what() string {
	switch {
	case id.BatchID != "":
		return "batch " + id.BatchID + " of project " + id.ProjectID
	case id.WorkflowID != "":
		return "workflow " + id.WorkflowID
	}
	return "project " + id.ProjectID
}

// ImportState takes the scope from the id, or from the identity of an
// import block (webhook_identity.go); the next read adopts the webhook.
func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, diags := importedID(ctx, req)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	for name, value := range map[string]string{
		"id": id.String(), "scope": id.scope(), "project_id": id.ProjectID, "batch_id": id.BatchID,
		"workflow_id": id.WorkflowID, "on_destroy": "clear",
	} {
		v := types.StringNull()
		if value != "" {
			v = types.StringValue(value)
		}
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
	if resp.Identity != nil {
		resp.Diagnostics.Append(resp.Identity.Set(ctx, identityOf(id))...)
	}
}
