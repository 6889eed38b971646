package main

import "testing"

// The health probe's floor: the list walk (A1, P1, B2 pages, B1 per batch
// when list documents lack the workflow) and one W1 per workflow.
func TestHealthMinCalls(t *testing.T) {
	for _, c := range []struct {
		n            int
		withWorkflow bool
		want         int
	}{
		{1000, true, 2 + 10 + 1000},
		{1000, false, 2 + 10 + 1000 + 1000},
		{10001, true, 2 + 101 + 10001},
	} {
		if got := minCalls(phaseHealth, c.n, 0, c.withWorkflow); got != c.want {
			t.Errorf("minCalls(health, %d, %v) = %d, want %d", c.n, c.withWorkflow, got, c.want)
		}
	}
}

func TestHealthProbeResults(t *testing.T) {
	plan := "Changes to Outputs:\n  + health_batches = 11000\n\nYou can apply this plan"
	if n, err := probeResults(phaseHealth, plan); err != nil || n != 11000 {
		t.Errorf("health: %d, %v; want 11000", n, err)
	}
	if _, err := probeResults(phaseHealth, "No changes."); err == nil {
		t.Error("a plan without the output must be an error")
	}
}
