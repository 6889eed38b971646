package main

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// The health probe: terraform plan of a configuration that reads the
// isahitlab_webhook_health data source over the whole project (issue 15).
const phaseHealth = "health"

// healthMinCalls is the fewest requests the health probe needs for n
// batches, one workflow each: a login (A1), the project check (P1), list
// pages of 100 (B2), a batch read (B1) per batch when list documents lack
// the workflow, and one read (W1) per workflow.
func healthMinCalls(n int, listHasWorkflow bool) int {
	calls := 2 + (n+99)/100 + n
	if !listHasWorkflow {
		calls += n
	}
	return calls
}

// writeHealthConfig writes the probe's configuration. Its output counts the
// batches the data source covered, so a fast run that read nothing is
// caught.
func writeHealthConfig(ws *tfrun.Workspace, cfg config, endpoint, project string) error {
	return ws.WriteConfig(providerBlock(cfg, endpoint) + fmt.Sprintf(`
data "isahitlab_webhook_health" "all" {
  project_id = %q
}

output "health_batches" {
  value = data.isahitlab_webhook_health.all.batch_counts.total
}
`, project))
}

var healthOutput = regexp.MustCompile(`(?m)^\s*\+ health_batches\s*=\s*(\d+)\s*$`)

// healthResults is the number of batches the probe's plan covered.
func healthResults(out string) (int, error) {
	m := healthOutput.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no health_batches output in the plan:\n%s", tail(out, 20))
	}
	return strconv.Atoi(m[1])
}
