package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// last_call and last_error, shared by the resource and the data source.

var lastCallTypes = map[string]attr.Type{
	"status_code": types.Int64Type,
	"message":     types.StringType,
	"date":        types.StringType,
}

var lastErrorTypes = map[string]attr.Type{
	"status_code": types.Int64Type,
	"message":     types.StringType,
	"body":        types.StringType,
}

const (
	descStatusCode = "HTTP status of the receiver's answer (0 when it did not answer)."
	descMessage    = "Status text, or why the call failed."
	descDate       = "When the call was made, as the API reports it."
	descBody       = "The receiver's response body: JSON text when it was JSON, else the text itself."
)

// What the client does to a receiver's texts before they reach state (see
// client.GetWorkflow): redacted, then cut.
var (
	descRedacted = " Secrets are replaced by `***` before anything is kept: the webhook's header (whole, its " +
		"credentials after the scheme, raw, JSON- or url-escaped, or base64) and the provider's own. A text " +
		"quoting a secret too short to mask is withheld whole."
	descCallMessage = descMessage + descRedacted + fmt.Sprintf(" At most %d bytes are kept, then a note "+
		"of the full length.", client.MaxCallMessage)
	descCallBody = descBody + descRedacted + fmt.Sprintf(" At most %d bytes are kept, then a note "+
		"of the full length.", client.MaxCallBody)
)

func lastCallSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"status_code": schema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     schema.StringAttribute{Computed: true, MarkdownDescription: descCallMessage},
		"date":        schema.StringAttribute{Computed: true, MarkdownDescription: descDate},
	}
}

func lastErrorSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"status_code": schema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     schema.StringAttribute{Computed: true, MarkdownDescription: descCallMessage},
		"body":        schema.StringAttribute{Computed: true, MarkdownDescription: descCallBody},
	}
}

func lastCallDataSchema() map[string]dsschema.Attribute {
	return map[string]dsschema.Attribute{
		"status_code": dsschema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     dsschema.StringAttribute{Computed: true, MarkdownDescription: descCallMessage},
		"date":        dsschema.StringAttribute{Computed: true, MarkdownDescription: descDate},
	}
}

func lastErrorDataSchema() map[string]dsschema.Attribute {
	return map[string]dsschema.Attribute{
		"status_code": dsschema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     dsschema.StringAttribute{Computed: true, MarkdownDescription: descCallMessage},
		"body":        dsschema.StringAttribute{Computed: true, MarkdownDescription: descCallBody},
	}
}

func lastCallValue(_ context.Context, c *client.Call, diags *diag.Diagnostics) types.Object {
	if c == nil {
		return types.ObjectNull(lastCallTypes)
	}
	v, d := types.ObjectValue(lastCallTypes, map[string]attr.Value{
		"status_code": types.Int64Value(int64(c.StatusCode)),
		"message":     types.StringValue(c.Message),
		"date":        types.StringValue(c.Date),
	})
	diags.Append(d...)
	return v
}

func lastErrorValue(_ context.Context, e *client.CallError, diags *diag.Diagnostics) types.Object {
	if e == nil {
		return types.ObjectNull(lastErrorTypes)
	}
	body := types.StringNull()
	if e.Body != "" {
		body = types.StringValue(e.Body)
	}
	v, d := types.ObjectValue(lastErrorTypes, map[string]attr.Value{
		"status_code": types.Int64Value(int64(e.StatusCode)),
		"message":     types.StringValue(e.Message),
		"body":        body,
	})
	diags.Append(d...)
	return v
}

// headerAttr maps the API's header to an attribute: "" and null both mean none.
func headerAttr(h *string) types.String {
	if h == nil || *h == "" {
		return types.StringNull()
	}
	return types.StringValue(*h)
}
