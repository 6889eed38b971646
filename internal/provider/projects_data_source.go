package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*projectsDataSource)(nil)

// Project statuses and types, as the API contract lists them (§5).
var (
	projectStatuses = []string{"configuring", "pending", "complete", "toBeDeleted", "deleted", "archived"}
	projectTypes    = []string{"form", "iat-rectangle", "iat-polygon", "iat-segmentation", "iat-graph", "iat-polyline"}
)

// NewProjectsDataSource is the isahitlab_projects data source: the projects
// the credentials may see, for for_each (an organisation-wide webhook is one
// project-scope isahitlab_webhook per project).
func NewProjectsDataSource() datasource.DataSource { return &projectsDataSource{} }

type projectsDataSource struct {
	data *providerData
}

type projectsDataSourceModel struct {
	IDs      types.List   `tfsdk:"ids"`
	Statuses types.List   `tfsdk:"statuses"`
	Types    types.List   `tfsdk:"types"`
	Search   types.String `tfsdk:"search"`
	Projects types.List   `tfsdk:"projects"`
}

var projectAttrTypes = map[string]attr.Type{
	"id":     types.StringType,
	"name":   types.StringType,
	"status": types.StringType,
	"type":   types.StringType,
}

func (d *projectsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_projects"
}

func (d *projectsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the Isahit Lab projects the credentials may see, every page of them, optionally filtered. " +
			"Use it with `for_each` to give every project a project-scope `isahitlab_webhook`: an organisation-wide webhook. " +
			"Filters combine (a project must match all of them); each list filter matches any of its values.",
		Attributes: map[string]schema.Attribute{
			"ids": schema.ListAttribute{
				MarkdownDescription: "Only these projects (24-hex-digit ids). An id the credentials may not see makes the API answer 403: an error, not an omission.",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(objectID())},
			},
			"statuses": schema.ListAttribute{
				MarkdownDescription: "Only projects with one of these statuses: " + projectsMarkdownList(projectStatuses) + ".",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(stringCheck{description: "value must be a project status", check: checkProjectStatus})},
			},
			"types": schema.ListAttribute{
				MarkdownDescription: "Only projects of one of these types: " + projectsMarkdownList(projectTypes) + ".",
				Optional:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(stringCheck{description: "value must be a project type", check: checkProjectType})},
			},
			"search": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Only projects whose name matches this text, as the API searches (the emulator: a case-insensitive substring). At most %d bytes, no control characters.", maxSearchLength),
				Optional:            true,
				Validators:          []validator.String{searchText()},
			},
			"projects": schema.ListNestedAttribute{
				MarkdownDescription: "The projects, in the API's order, each once.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":     schema.StringAttribute{Computed: true, MarkdownDescription: "Project id: the `project_id` of `isahitlab_webhook`."},
					"name":   schema.StringAttribute{Computed: true, MarkdownDescription: "Project name."},
					"status": schema.StringAttribute{Computed: true, MarkdownDescription: "Project status, such as `pending`."},
					"type":   schema.StringAttribute{Computed: true, MarkdownDescription: "Project type, such as `iat-rectangle`."},
				}},
			},
		},
	}
}

func (d *projectsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *projectsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m projectsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Checked again: a value known only at apply skipped plan-time validation.
	var filter client.ProjectFilter
	filter.IDs = projectFilterValues(ctx, m.IDs, "ids", checkObjectID, &resp.Diagnostics)
	filter.Statuses = projectFilterValues(ctx, m.Statuses, "statuses", checkProjectStatus, &resp.Diagnostics)
	filter.Types = projectFilterValues(ctx, m.Types, "types", checkProjectType, &resp.Diagnostics)
	filter.Search = m.Search.ValueString()
	if msg := checkPlainText(filter.Search, maxSearchLength); !m.Search.IsNull() && msg != "" {
		resp.Diagnostics.AddAttributeError(path.Root("search"), "Invalid search", fmt.Sprintf("search = %q: %s.", filter.Search, msg))
	}
	if resp.Diagnostics.HasError() || !d.data.ready(&resp.Diagnostics) {
		return
	}

	found, err := d.data.client.ListProjects(ctx, filter)
	if err != nil {
		resp.Diagnostics.AddError("Cannot list the Isahit Lab projects",
			fmt.Sprintf("Listing the projects (%s) failed: %s", describeProjectFilter(filter), describe(err)))
		return
	}

	// The server's answer is checked against the filters it was given: a
	// server that ignored one would otherwise put a webhook on projects the
	// configuration excludes. A project listed twice (pages shifting while
	// they are walked) is kept once, so that for_each keys stay unique.
	seen := make(map[string]bool, len(found))
	items := make([]attr.Value, 0, len(found))
	var outside []string
	for _, p := range found {
		if why := projectMismatch(p, filter); why != "" {
			tflog.Warn(ctx, "the API listed a project outside the filters; left out", map[string]any{"project_id": p.ID, "reason": why})
			outside = append(outside, p.ID+" ("+why+")")
			continue
		}
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		obj, diags := types.ObjectValue(projectAttrTypes, map[string]attr.Value{
			"id": types.StringValue(p.ID), "name": types.StringValue(p.Name),
			"status": types.StringValue(p.Status), "type": types.StringValue(p.Type),
		})
		resp.Diagnostics.Append(diags...)
		items = append(items, obj)
	}
	if len(outside) > 0 {
		const most = 5
		shownIDs := outside[:min(len(outside), most)]
		more := ""
		if len(outside) > most {
			more = fmt.Sprintf(" and %d more", len(outside)-most)
		}
		resp.Diagnostics.AddWarning("The Isahit Lab API ignored a project filter",
			fmt.Sprintf("Asked for the projects with %s, the API also listed %d that do not match, left out of projects: %s%s.",
				describeProjectFilter(filter), len(outside), strings.Join(shownIDs, ", "), more))
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: projectAttrTypes}, items)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.Projects = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// projectFilterValues is a list filter's values, nil when null, each checked
// with check. An empty list is refused here too, not only at plan time (a
// value known only at apply is not validated then): an empty filter would
// otherwise mean "every project".
func projectFilterValues(ctx context.Context, l types.List, name string, check func(string) string, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var elems []types.String
	if d := l.ElementsAs(ctx, &elems, false); d.HasError() {
		diags.Append(d...)
		return nil
	}
	if len(elems) == 0 {
		diags.AddAttributeError(path.Root(name), "Invalid "+name,
			name+" = []: an empty filter is refused rather than read as no filter; leave "+name+" out to list every project.")
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		p := path.Root(name).AtListIndex(i)
		if e.IsNull() {
			diags.AddAttributeError(p, "Invalid "+p.String(), p.String()+" is null: a filter value must be a string.")
			continue
		}
		out[i] = e.ValueString()
		if msg := check(out[i]); msg != "" {
			diags.AddAttributeError(p, "Invalid "+p.String(), fmt.Sprintf("%s = %q: %s.", p, out[i], msg))
		}
	}
	return out
}

// projectMismatch says which filter p fails, "" when it passes them all.
// search is the server's to interpret and is not checked.
func projectMismatch(p client.Project, f client.ProjectFilter) string {
	switch {
	case len(f.IDs) > 0 && !slices.Contains(f.IDs, p.ID):
		return fmt.Sprintf("id %q is not in ids", p.ID)
	case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, p.Status):
		return fmt.Sprintf("status %q is not in statuses", p.Status)
	case len(f.Types) > 0 && !slices.Contains(f.Types, p.Type):
		return fmt.Sprintf("type %q is not in types", p.Type)
	}
	return ""
}

func describeProjectFilter(f client.ProjectFilter) string {
	var parts []string
	add := func(name string, values []string) {
		if len(values) > 0 {
			parts = append(parts, fmt.Sprintf("%s = %q", name, values))
		}
	}
	add("ids", f.IDs)
	add("statuses", f.Statuses)
	add("types", f.Types)
	if f.Search != "" {
		parts = append(parts, fmt.Sprintf("search = %q", f.Search))
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, ", ")
}

var (
	checkProjectStatus = enumCheck("project status", projectStatuses)
	checkProjectType   = enumCheck("project type", projectTypes)
)

// enumCheck accepts exactly one of allowed; a value that differs only in
// case is pointed at its spelling.
func enumCheck(what string, allowed []string) func(string) string {
	list := `"` + strings.Join(allowed, `", "`) + `"`
	return func(s string) string {
		if slices.Contains(allowed, s) {
			return ""
		}
		for _, a := range allowed {
			if strings.EqualFold(a, s) {
				return fmt.Sprintf("is not a %s; values are case-sensitive: did you mean %q?", what, a)
			}
		}
		return fmt.Sprintf("is not a %s; use one of %s", what, list)
	}
}

// projectsMarkdownList is `a`, `b`, ... for descriptions.
func projectsMarkdownList(values []string) string {
	return "`" + strings.Join(values, "`, `") + "`"
}
