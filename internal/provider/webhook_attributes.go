package provider

import (
	"context"

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

func lastCallSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"status_code": schema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     schema.StringAttribute{Computed: true, MarkdownDescription: descMessage},
		"date":        schema.StringAttribute{Computed: true, MarkdownDescription: descDate},
	}
}

func lastErrorSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"status_code": schema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     schema.StringAttribute{Computed: true, MarkdownDescription: descMessage},
		"body":        schema.StringAttribute{Computed: true, MarkdownDescription: descBody},
	}
}

func lastCallDataSchema() map[string]dsschema.Attribute {
	return map[string]dsschema.Attribute{
		"status_code": dsschema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     dsschema.StringAttribute{Computed: true, MarkdownDescription: descMessage},
		"date":        dsschema.StringAttribute{Computed: true, MarkdownDescription: descDate},
	}
}

func lastErrorDataSchema() map[string]dsschema.Attribute {
	return map[string]dsschema.Attribute{
		"status_code": dsschema.Int64Attribute{Computed: true, MarkdownDescription: descStatusCode},
		"message":     dsschema.StringAttribute{Computed: true, MarkdownDescription: descMessage},
		"body":        dsschema.StringAttribute{Computed: true, MarkdownDescription: descBody},
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
