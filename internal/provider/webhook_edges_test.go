package provider

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Edges a careful user or a hostile server reaches (issue 14), one test
// each; the engine's own tests (internal/webhooks/edges_test.go) pin the
// same rules below Terraform.

// A batch list that ignores its projectId filter must not put another
// project's workflows in reach: apply does not set them, destroy does not
// clear a live webhook of theirs that uses the same url.
func TestAccWebhook_anotherProjectsBatchesAreNeverTouched(t *testing.T) {
	env := newTestEnv(t, 2)
	const url, theirSecret = "https://hooks.example.com/org-wide", "Bearer their-own-7f3a"
	other := env.emu.AddProject("other team")
	theirs := env.emu.AddBatch(other, "their batch")
	env.emu.SetWebhook(env.workflowOf(t, theirs), url, strPtr(theirSecret))
	env.emu.SetListIgnoresFilter(true)
	theirsIntact := func(*terraform.State) error {
		if got, h := env.webhookURL(t, theirs), env.webhookHeader(t, theirs); got != url || h != theirSecret {
			return fmt.Errorf("the other project's webhook was changed: url %q", got)
		}
		return nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           projectConfig(env, url, ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			Check: resource.ComposeTestCheckFunc(theirsIntact,
				resource.TestCheckResourceAttr(addr, "batch_count", "2"),
				env.serverHolds(t, env.batches[0], url, ""), env.serverHolds(t, env.batches[1], url, "")),
		}},
		CheckDestroy: resource.ComposeTestCheckFunc(theirsIntact,
			env.serverHolds(t, env.batches[0], "", ""), env.serverHolds(t, env.batches[1], "", "")),
	})
}

// A header_wo rotation that failed midway, retried with yet another value
// under the same version, sends the value configured now to every workflow,
// also those the failed attempt reached: no refresh can see a write-only
// header, so a workflow skipped would keep the old secret for good.
func TestAccWebhook_headerWORetryWithNewValueReachesEveryWorkflow(t *testing.T) {
	env := newTestEnv(t, 2)
	stuck := env.workflowOf(t, env.batches[1])
	wo := func(value, version string) string {
		return projectConfig(env, "https://hooks.example.com/p",
			fmt.Sprintf("header_wo = %q\n  header_wo_version = %q", value, version))
	}
	secrets := []string{"Bearer first-1111", "Bearer second-2222", "Bearer third-3333"}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: wo(secrets[0], "1"), Check: env.allHoldHeader(t, secrets[0])},
			{
				PreConfig:   func() { env.emu.FailSets(stuck, http.StatusForbidden) },
				Config:      wo(secrets[1], "2"),
				ExpectError: wrapped("1 batch(es) not set: [" + env.batches[1] + "]"),
				Check:       env.serverHolds(t, env.batches[0], "https://hooks.example.com/p", secrets[1]),
			},
			{
				PreConfig:        func() { env.emu.FailSets(stuck, 0) },
				Config:           wo(secrets[2], "2"),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            resource.ComposeTestCheckFunc(env.allHoldHeader(t, secrets[2]), stateFilesLack(secrets...)),
			},
		},
	})
}

// allHoldHeader checks that every batch holds the header (any url).
func (e *testEnv) allHoldHeader(t *testing.T, header string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, b := range e.batches {
			if e.webhookHeader(t, b) != header {
				return fmt.Errorf("batch %s holds another header than the one configured now", b)
			}
		}
		return nil
	}
}

// The retry of a failed url change skips the workflows the change reached,
// but not one that was reverted since: the refresh before the retry sees it
// and drops it from what the change reached.
func TestAccWebhook_retrySetsAWorkflowRevertedSince(t *testing.T) {
	env := newTestEnv(t, 2)
	first, stuck := env.workflowOf(t, env.batches[0]), env.workflowOf(t, env.batches[1])
	const v1, v2 = "https://hooks.example.com/v1", "https://hooks.example.com/v2"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: projectConfig(env, v1, "")},
			{
				PreConfig:   func() { env.emu.FailSets(stuck, http.StatusForbidden) },
				Config:      projectConfig(env, v2, ""),
				ExpectError: wrapped("1 batch(es) not set: [" + env.batches[1] + "]"),
			},
			{
				PreConfig: func() {
					env.emu.FailSets(stuck, 0)
					env.emu.SetWebhook(first, v1, nil) // someone puts the old url back
				},
				Config:           projectConfig(env, v2, ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.allHold(t, v2),
			},
		},
	})
}

// A create whose set may have been applied (the first attempt answered 502)
// and whose retry was refused (403) keeps the resource in state, tainted:
// the server may hold the webhook, and only a resource in state can clear
// it. The next apply replaces it.
func TestAccWebhook_createMaybeAppliedStaysInState(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	wf := env.workflowOf(t, b)
	cfg := batchConfig(env, b, "https://hooks.example.com/b", "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					env.emu.AnswerAppliedSetsWith(wf, http.StatusBadGateway, 1)
					env.emu.FailSets(wf, http.StatusForbidden)
				},
				Config:      cfg,
				ExpectError: wrapped("an earlier attempt may have been applied"),
				Check:       env.serverHolds(t, b, "https://hooks.example.com/b", ""),
			},
			{
				PreConfig:        func() { env.emu.FailSets(wf, 0) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				Check:            env.serverHolds(t, b, "https://hooks.example.com/b", ""),
			},
		},
		CheckDestroy: env.serverHolds(t, b, "", ""),
	})
}

// header_mode = "adopted" in project scope keeps each workflow's header only
// where it came with this resource's url; a workflow that held another
// receiver's url and secret gets the webhook without a header, never that
// secret sent to our url.
func TestAccWebhook_adoptedNeverSendsAnotherReceiversHeader(t *testing.T) {
	env := newTestEnv(t, 2)
	const url, ours, foreign = "https://hooks.example.com/p", "Bearer ours-a1b2", "Bearer theirs-c3d4"
	env.emu.SetWebhook(env.workflowOf(t, env.batches[0]), url, strPtr(ours))
	env.emu.SetWebhook(env.workflowOf(t, env.batches[1]), "https://another-team.example.com/", strPtr(foreign))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           projectConfig(env, url, `header_mode = "adopted"`),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			Check: resource.ComposeTestCheckFunc(
				env.serverHolds(t, env.batches[0], url, ours),
				env.serverHolds(t, env.batches[1], url, ""),
				stateFilesLack(ours, foreign)),
		}},
	})
}
