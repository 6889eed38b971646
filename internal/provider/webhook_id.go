package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The resource's id, and the import id, name its target
// (webhooks.Target) and so its scope:
//
//	PROJECT_ID                       every batch of the project
//	PROJECT_ID/BATCH_ID              one batch
//	PROJECT_ID/workflow/WORKFLOW_ID  one workflow
const idForms = "PROJECT_ID, PROJECT_ID/BATCH_ID or PROJECT_ID/workflow/WORKFLOW_ID"

func parseWebhookID(s string) (webhooks.Target, error) {
	bad := func(why string) (webhooks.Target, error) {
		return webhooks.Target{}, fmt.Errorf("import id %q %s; the accepted forms are %s, each id being 24 lowercase hex digits", s, why, idForms)
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
	var id webhooks.Target
	switch len(parts) {
	case 1:
		id = webhooks.Target{ProjectID: parts[0]}
	case 2:
		if parts[1] == "workflow" {
			return bad("lacks the workflow id after \"workflow\"")
		}
		id = webhooks.Target{ProjectID: parts[0], BatchID: parts[1]}
	case 3:
		if parts[1] != "workflow" {
			return bad(fmt.Sprintf("has the unknown keyword %q where \"workflow\" was expected", parts[1]))
		}
		id = webhooks.Target{ProjectID: parts[0], WorkflowID: parts[2]}
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

// formatID is the id of a target.
func formatID(t webhooks.Target) string {
	switch {
	case t.BatchID != "":
		return t.ProjectID + "/" + t.BatchID
	case t.WorkflowID != "":
		return t.ProjectID + "/workflow/" + t.WorkflowID
	}
	return t.ProjectID
}

// scopeOfTarget is the scope a target names.
func scopeOfTarget(t webhooks.Target) string {
	switch {
	case t.BatchID != "":
		return scopeBatch
	case t.WorkflowID != "":
		return scopeWorkflow
	}
	return scopeProject
}

// ImportState takes the scope from the id, or from the identity of an
// import block (webhook_identity.go); the next read adopts the webhook.
func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	t, diags := importedTarget(ctx, req)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	for name, value := range map[string]string{
		"id": formatID(t), "scope": scopeOfTarget(t), "project_id": t.ProjectID, "batch_id": t.BatchID,
		"workflow_id": t.WorkflowID, "on_destroy": "clear",
	} {
		v := types.StringNull()
		if value != "" {
			v = types.StringValue(value)
		}
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(name), v)...)
	}
	if resp.Identity != nil {
		resp.Diagnostics.Append(resp.Identity.Set(ctx, identityOf(t))...)
	}
}
