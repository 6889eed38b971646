package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// How the engine's results become diagnostics, in one place. The engine
// answers with a fatal error (nothing was done, or the walk of the target
// failed) or a result whose Err says which part failed (partialErr); the
// warnings name what a walk skipped or left alone. Summaries are constant,
// so they can be searched for; ids and values go in the detail.

// orPartial is the error of an engine call: the fatal one, else the
// result's partial failure; nil when everything was done.
func orPartial(fatal error, res interface{ Err() error }) error {
	if fatal != nil {
		return fatal
	}
	return res.Err()
}

// warnHeaderDropped says where header_mode = "adopted" sent no header: the
// workflow's header came with someone else's url.
func warnHeaderDropped(diags *diag.Diagnostics, t webhooks.Target, workflows []string) {
	if len(workflows) == 0 {
		return
	}
	diags.AddWarning("Header not kept",
		fmt.Sprintf("header_mode = %q keeps a header only where it came with a url this resource set or adopted. On %d workflow(s) of %s the header came with another url, someone else's receiver, so the webhook was set there without a header: %s",
			headerAdopted, len(workflows), t, webhooks.FirstFew(workflows, 5)))
}

// readSummary is the error summary of a failed observation.
func readSummary(want *webhooks.Want) string {
	if want == nil {
		return "Cannot import the webhook"
	}
	return "Cannot read the webhook"
}

// warnSkipped warns of the batches a project-scope walk skipped: those
// without a workflow, and those the API returned that name another project.
func warnSkipped(diags *diag.Diagnostics, t webhooks.Target, cov webhooks.Coverage) {
	warnNoWorkflow(diags, t, cov)
	warnForeign(diags, t, cov.Foreign)
}

// warnForeign names the batch documents that the API returned for a project
// but that belong to another: never set, cleared or counted.
func warnForeign(diags *diag.Diagnostics, t webhooks.Target, foreign map[string]string) {
	if len(foreign) == 0 {
		return
	}
	ids := make([]string, 0, len(foreign))
	for b := range foreign {
		ids = append(ids, b)
	}
	slices.Sort(ids)
	named := make([]string, 0, 3)
	for _, b := range ids[:min(3, len(ids))] {
		named = append(named, fmt.Sprintf("%s (project %s)", b, foreign[b]))
	}
	more := ""
	if n := len(ids) - len(named); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	diags.AddWarning("Batches of another project skipped",
		fmt.Sprintf("Asked for the batches of %s, the API also returned %d batch(es) of another project; they are not covered (nothing is set on or cleared from them): %s%s",
			t, len(ids), strings.Join(named, ", "), more))
}

func warnNoWorkflow(diags *diag.Diagnostics, t webhooks.Target, cov webhooks.Coverage) {
	if n := len(cov.NoWorkflow); n > 0 {
		diags.AddWarning("Batches without a workflow skipped",
			fmt.Sprintf("%d batch(es) of %s have no workflow, so they cannot carry a webhook; they are skipped: %s",
				n, t, webhooks.FirstFew(cov.NoWorkflow, 5)))
	}
}

// clearDiags says what a clear left: someone else's webhooks, and failures.
func clearDiags(t webhooks.Target, res webhooks.ClearResult, err error) diag.Diagnostics {
	var diags diag.Diagnostics
	warnForeign(&diags, t, res.Foreign)
	if foreign := res.ForeignBatches(); len(foreign) > 0 {
		diags.AddWarning("Webhooks left in place",
			fmt.Sprintf("%d of the webhooks of %s now hold a url this resource never set; someone else owns them, so destroy left them alone: %s",
				len(foreign), t, webhooks.FirstFew(foreign, 5)))
	}
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		diags.AddError("Cannot clear the webhook", fmt.Sprintf("Clearing the webhooks of %s failed: %s\n\nThe resource stays in state; destroy again to clear the rest.", t, describe(err)))
	}
	return diags
}
