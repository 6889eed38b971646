package provider

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// A url changed after the last delivery (by the resource, as a user would)
// keeps the old last call on the server; the health data source shows the
// workflow never_called, not the old receiver's state, until the next
// delivery: a broken new receiver then shows failing, a working one ok.
func TestAccWebhookHealthDataSource_urlChanged(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	wf := env.workflowOf(t, b)
	first, broken, fixed := newHealthReceiver(t, 200), newHealthReceiver(t, 404), newHealthReceiver(t, 200)
	cfg := func(r *healthReceiver) string {
		// depends_on: read after the resource's apply, not at plan time before it.
		return batchConfig(env, b, r.URL+"/hook", "") + fmt.Sprintf(`
data "isahitlab_webhook_health" "h" {
  project_id        = %q
  workflow_id       = %q
  include_workflows = true
  depends_on        = [isahitlab_webhook.test]
}
`, env.project, wf)
	}
	deliver := func() {
		time.Sleep(5 * time.Millisecond) // a date after the last set's
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := env.emu.Deliver(ctx, b, "task", "annotation"); err != nil && !errors.Is(err, emulator.ErrDeliveryFailed) {
			t.Fatalf("delivering: %v", err)
		}
	}
	// expect: the workflow's state and url, and the status of the last call
	// on record (0: none), which a url change does not reset.
	expect := func(state string, r *healthReceiver, lastStatus int) []statecheck.StateCheck {
		counts := map[string]int{"ok": 0, "failing": 0, "never_called": 0}
		counts[state] = 1
		var lastCall knownvalue.Check = knownvalue.Null()
		if lastStatus != 0 {
			lastCall = knownvalue.ObjectPartial(map[string]knownvalue.Check{"status_code": knownvalue.Int64Exact(int64(lastStatus))})
		}
		return []statecheck.StateCheck{
			healthCheck("h", "counts", func() knownvalue.Check {
				return stateCountsExact(counts["ok"], counts["failing"], counts["never_called"], 0, 0)
			}),
			healthCheck("h", "workflows", func() knownvalue.Check {
				return knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"workflow_id": knownvalue.StringExact(wf),
					"state":       knownvalue.StringExact(state),
					"url":         knownvalue.StringExact(r.URL + "/hook"),
					"last_call":   lastCall,
				})})
			}),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(first), ConfigStateChecks: expect("never_called", first, 0)},
			{PreConfig: deliver, Config: cfg(first), ConfigStateChecks: expect("ok", first, 200)},
			// The url moves to a broken receiver: the old success says nothing of it.
			{Config: cfg(broken), ConfigStateChecks: expect("never_called", broken, 200)},
			{PreConfig: deliver, Config: cfg(broken), ConfigStateChecks: expect("failing", broken, 404)},
			// Moved again, to a working receiver: not failing on the old receiver's account.
			{Config: cfg(fixed), ConfigStateChecks: expect("never_called", fixed, 404)},
			{PreConfig: deliver, Config: cfg(fixed), ConfigStateChecks: expect("ok", fixed, 200)},
		},
	})
}
