package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

const addr = "isahitlab_webhook.test"

// planChecks asserts the planned action before apply and an empty plan after
// apply and refresh: the "no perpetual diff" guarantee of every step.
func planChecks(action plancheck.ResourceActionType) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, action)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
}

func str(path string, want string) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, tfjsonpath.New(path), knownvalue.StringExact(want))
}

// serverHolds checks what the emulator holds for a batch, "" meaning no webhook.
func (e *testEnv) serverHolds(t *testing.T, batchID, url, header string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := e.webhookURL(t, batchID); got != url {
			return fmt.Errorf("batch %s: server url %q, want %q", batchID, got, url)
		}
		if got := e.webhookHeader(t, batchID); got != header {
			return fmt.Errorf("batch %s: server header differs from the expected one", batchID)
		}
		return nil
	}
}

func batchConfig(env *testEnv, batch, url, extra string) string {
	return env.provider() + fmt.Sprintf(`
resource "isahitlab_webhook" "test" {
  project_id = %q
  batch_id   = %q
  url        = %q
  %s
}
`, env.project, batch, url, extra)
}

func workflowConfig(env *testEnv, workflow, url, extra string) string {
	return env.provider() + fmt.Sprintf(`
resource "isahitlab_webhook" "test" {
  project_id  = %q
  workflow_id = %q
  url         = %q
  %s
}
`, env.project, workflow, url, extra)
}

func projectConfig(env *testEnv, url, extra string) string {
	return env.provider() + projectResource(env, url, extra)
}

func projectResource(env *testEnv, url, extra string) string {
	return fmt.Sprintf(`
resource "isahitlab_webhook" "test" {
  project_id = %q
  url        = %q
  %s
}
`, env.project, url, extra)
}

func TestAccWebhook_batchScope(t *testing.T) {
	env := newTestEnv(t, 2)
	b1, b2 := env.batches[0], env.batches[1]
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           batchConfig(env, b1, "https://hooks.example.com/a", `header = "Bearer one"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					str("id", env.project+"/"+b1),
					str("url", "https://hooks.example.com/a"),
					str("workflow_id", env.workflowOf(t, b1)),
					str("on_destroy", "clear"),
					statecheck.ExpectSensitiveValue(addr, tfjsonpath.New("header")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(1)),
					str("scope", "batch"),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("updated_at"), knownvalue.NotNull()),
				},
				Check: env.serverHolds(t, b1, "https://hooks.example.com/a", "Bearer one"),
			},
			{
				// url and header change in place
				Config:           batchConfig(env, b1, "https://hooks.example.com/b", `header = "Bearer two"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.serverHolds(t, b1, "https://hooks.example.com/b", "Bearer two"),
			},
			{
				// removing the header clears it on the server
				Config:           batchConfig(env, b1, "https://hooks.example.com/b", ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.serverHolds(t, b1, "https://hooks.example.com/b", ""),
			},
			{
				// another batch replaces the resource; destroy clears the first
				Config:           batchConfig(env, b2, "https://hooks.example.com/b", ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, b1, "", ""),
					env.serverHolds(t, b2, "https://hooks.example.com/b", ""),
				),
			},
		},
		CheckDestroy: env.serverHolds(t, b2, "", ""),
	})
}

func TestAccWebhook_workflowScope(t *testing.T) {
	env := newTestEnv(t, 2)
	w1, w2 := env.workflowOf(t, env.batches[0]), env.workflowOf(t, env.batches[1])
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           workflowConfig(env, w1, "http://receiver.internal:8080/hook", ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					str("id", env.project+"/workflow/"+w1),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_id"), knownvalue.Null()),
				},
				Check: env.serverHolds(t, env.batches[0], "http://receiver.internal:8080/hook", ""),
			},
			{
				Config:           workflowConfig(env, w1, "http://receiver.internal:8080/hook", `header = "k-key"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.serverHolds(t, env.batches[0], "http://receiver.internal:8080/hook", "k-key"),
			},
			{
				Config:           workflowConfig(env, w2, "http://receiver.internal:8080/hook", `header = "k-key"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[0], "", ""),
					env.serverHolds(t, env.batches[1], "http://receiver.internal:8080/hook", "k-key"),
				),
			},
		},
		CheckDestroy: env.serverHolds(t, env.batches[1], "", ""),
	})
}

func TestAccWebhook_projectScope(t *testing.T) {
	env := newTestEnv(t, 3)
	// A fourth batch shares the first one's workflow: one call covers both.
	shared := env.emu.AddBatchWithWorkflow(env.project, "shares-a-workflow", env.workflowOf(t, env.batches[0]))
	all := append(append([]string{}, env.batches...), shared)
	holdAll := func(url, header string) resource.TestCheckFunc {
		var checks []resource.TestCheckFunc
		for _, b := range all {
			checks = append(checks, env.serverHolds(t, b, url, header))
		}
		return resource.ComposeTestCheckFunc(checks...)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig:        env.emu.ResetCalls,
				Config:           projectConfig(env, "https://hooks.example.com/all", `header = "h-hdr"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					str("id", env.project),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(int64(len(all)))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(0)),
					str("scope", "project"),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("workflow_id"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(holdAll("https://hooks.example.com/all", "h-hdr"),
					func(*terraform.State) error {
						// Three distinct workflows: set once each, never by batch.
						calls := env.emu.Calls()
						if calls["W2"] != 3 || calls["W3"] != 0 {
							return fmt.Errorf("setup calls by workflow %d, by batch %d; want 3 and 0", calls["W2"], calls["W3"])
						}
						return nil
					}),
			},
			{
				Config:           projectConfig(env, "https://hooks.example.com/v2", `header = "h-hdr"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            holdAll("https://hooks.example.com/v2", "h-hdr"),
			},
			{
				Config:           projectConfig(env, "https://hooks.example.com/v2", `on_destroy = "keep"`),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            holdAll("https://hooks.example.com/v2", ""),
			},
			{
				// on_destroy = keep: removing the resource leaves the webhooks.
				Config: env.provider(),
				Check:  holdAll("https://hooks.example.com/v2", ""),
			},
		},
	})
}

func TestAccWebhook_projectScopeDestroyClears(t *testing.T) {
	env := newTestEnv(t, 3)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           projectConfig(env, "https://hooks.example.com/all", ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			},
			{
				// Someone points one batch elsewhere: destroy must leave it alone.
				PreConfig: func() {
					env.emu.SetWebhook(env.workflowOf(t, env.batches[2]), "https://someone-else.example.com/", nil)
				},
				Config: env.provider(),
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[0], "", ""),
					env.serverHolds(t, env.batches[1], "", ""),
					env.serverHolds(t, env.batches[2], "https://someone-else.example.com/", ""),
				),
			},
		},
	})
}

func TestAccWebhook_projectIDChangeReplaces(t *testing.T) {
	env := newTestEnv(t, 2)
	other := &testEnv{emu: env.emu, url: env.url, project: env.emu.AddProject("other")}
	ob := env.emu.AddBatch(other.project, "other-1")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: projectConfig(env, "https://hooks.example.com/p", "")},
			{
				Config:           projectConfig(other, "https://hooks.example.com/p", ""),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					str("id", other.project),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[0], "", ""),
					env.serverHolds(t, env.batches[1], "", ""),
					env.serverHolds(t, ob, "https://hooks.example.com/p", ""),
				),
			},
		},
	})
}

func TestAccWebhook_batchDestroyLeavesForeignURL(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: batchConfig(env, b, "https://mine.example.com/", "")},
			{
				PreConfig: func() { env.emu.SetWebhook(env.workflowOf(t, b), "https://theirs.example.com/", nil) },
				Config:    env.provider(),
				Check:     env.serverHolds(t, b, "https://theirs.example.com/", ""),
			},
		},
	})
}

func TestAccWebhook_drift(t *testing.T) {
	env := newTestEnv(t, 2)
	b := env.batches[0]
	wf := env.workflowOf(t, b)
	cfg := batchConfig(env, b, "https://hooks.example.com/a", `header = "mine"`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// url changed outside Terraform: the plan updates it back
				PreConfig:        func() { env.emu.SetWebhook(wf, "https://elsewhere.example.com/", strPtr("mine")) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.serverHolds(t, b, "https://hooks.example.com/a", "mine"),
			},
			{
				// header changed outside Terraform
				PreConfig:        func() { env.emu.SetWebhook(wf, "https://hooks.example.com/a", strPtr("theirs")) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.serverHolds(t, b, "https://hooks.example.com/a", "mine"),
			},
			{
				// cleared outside Terraform: removed from state, created again
				PreConfig:        func() { env.emu.ClearWebhook(wf) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				Check:            env.serverHolds(t, b, "https://hooks.example.com/a", "mine"),
			},
			{
				// batch deleted outside Terraform: the next plan creates it again
				PreConfig: func() { env.emu.DeleteBatch(b) },
				Config:    cfg,
				PlanOnly:  true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func TestAccWebhook_projectDriftAndNewBatch(t *testing.T) {
	env := newTestEnv(t, 3)
	cfg := projectConfig(env, "https://hooks.example.com/p", `header = "h-hdr"`)
	var added string
	outOfStep := func(n int64) plancheck.PlanCheck {
		return plancheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(n))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// A batch created after the apply: the plan updates, apply sets only it.
				PreConfig: func() {
					added = env.emu.AddBatch(env.project, "late")
					env.emu.ResetCalls()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						outOfStep(0),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeTestCheckFunc(
					func(s *terraform.State) error {
						return env.serverHolds(t, added, "https://hooks.example.com/p", "h-hdr")(s)
					},
					func(*terraform.State) error {
						// The plan's refresh read the 4 workflows. The provider served in-process
						// cannot tell that the apply is in the refresh's command (webhook_run.go), so
						// the apply walks and reads each again, and sets only the new batch's: the
						// setup answer holds the webhook. TestCLI_workPerPhaseIsLinear pins the
						// path without the second read, under a real terraform process.
						if c := env.emu.Calls(); c["W2"] != 1 || c["W1"] != 8 {
							return fmt.Errorf("set %d and read %d workflows; want 1 set, the 4 refresh reads and 4 reads by the apply", c["W2"], c["W1"])
						}
						return nil
					}),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(4)),
				},
			},
			{
				// url and header changed outside on two batches
				PreConfig: func() {
					env.emu.SetWebhook(env.workflowOf(t, env.batches[0]), "https://elsewhere.example.com/", strPtr("h-hdr"))
					env.emu.SetWebhook(env.workflowOf(t, env.batches[1]), "https://hooks.example.com/p", strPtr("other"))
				},
				Config:   cfg,
				PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
			},
			{
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[0], "https://hooks.example.com/p", "h-hdr"),
					env.serverHolds(t, env.batches[1], "https://hooks.example.com/p", "h-hdr"),
				),
			},
		},
	})
}

func TestAccWebhook_import(t *testing.T) {
	env := newTestEnv(t, 2)
	b := env.batches[0]
	// A webhook that exists before Terraform knows it.
	env.emu.SetWebhook(env.workflowOf(t, b), "https://pre.example.com/b", strPtr("tok-en"))

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// import {} block: the header on the server is never read into
				// state, so a configured one is sent once: an update.
				Config:             batchConfig(env, b, "https://pre.example.com/b", `header = "tok-en"`),
				ResourceName:       addr,
				ImportState:        true,
				ImportStateKind:    resource.ImportBlockWithID,
				ImportStateId:      env.project + "/" + b,
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("header_mode"), knownvalue.StringExact("header")),
					},
				},
			},
			{
				Config:        batchConfig(env, b, "https://pre.example.com/b", `header = "tok-en"`),
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: env.project + "/" + b,
				ImportStateCheck: func(s []*terraform.InstanceState) error {
					if len(s) != 1 || s[0].Attributes["url"] != "https://pre.example.com/b" || s[0].Attributes["header"] != "" || s[0].Attributes["header_mode"] != "adopted" {
						return fmt.Errorf("imported state %v", s)
					}
					return nil
				},
			},
			{
				Config:        batchConfig(env, b, "https://pre.example.com/b", ""),
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: env.project + "/batch/" + b,
				ExpectError:   regexp.MustCompile(`unknown keyword "batch"[\s\S]*PROJECT_ID/BATCH_ID`),
			},
			{
				Config:        batchConfig(env, b, "https://pre.example.com/b", ""),
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "not-an-id",
				ExpectError:   regexp.MustCompile(`"not-an-id"[\s\S]*not 24 lowercase\s+hexadecimal digits`),
			},
		},
	})
}

// Plannable import blocks must come first in a test case (the harness
// copies the previous step's state otherwise), hence a test of their own.
func TestAccWebhook_importWorkflowBlock(t *testing.T) {
	env := newTestEnv(t, 1)
	wf := env.workflowOf(t, env.batches[0])
	env.emu.SetWebhook(wf, "https://pre.example.com/w", nil)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:          workflowConfig(env, wf, "https://pre.example.com/w", ""),
				ResourceName:    addr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   env.project + "/workflow/" + wf,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop)},
				},
			},
		},
	})
}

// Import round-trips: create, then import the same id and compare states.
func TestAccWebhook_importRoundTrip(t *testing.T) {
	env := newTestEnv(t, 2)
	for name, cfg := range map[string]string{
		"batch":    batchConfig(env, env.batches[0], "https://rt.example.com/", `header = "x-hdr"`),
		"workflow": workflowConfig(env, env.workflowOf(t, env.batches[1]), "https://rt.example.com/w", ""),
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: cfg},
					// The header is never read into state on import (it may be a
					// write-only value): the next apply sends the configured one.
					{Config: cfg, ResourceName: addr, ImportState: true, ImportStateVerify: true,
						ImportStateVerifyIgnore: []string{"header", "header_mode"}},
				},
			})
		})
	}
}

func TestAccWebhook_importProject(t *testing.T) {
	env := newTestEnv(t, 3)
	for _, b := range env.batches {
		env.emu.SetWebhook(env.workflowOf(t, b), "https://pre.example.com/p", strPtr("t-hdr"))
	}
	cfg := projectConfig(env, "https://pre.example.com/p", `header = "t-hdr"`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:          cfg,
				ResourceName:    addr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   env.project,
				// The adopted header is sent again: its value was never read.
				ExpectNonEmptyPlan: true,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
			},
			{
				// A batch without the webhook: import adopts what the others
				// hold and counts the newcomer as out of step.
				PreConfig:     func() { env.emu.AddBatch(env.project, "late") },
				Config:        cfg,
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: env.project,
				ImportStateCheck: func(s []*terraform.InstanceState) error {
					a := s[0].Attributes
					if a["url"] != "https://pre.example.com/p" || a["header"] != "" || a["header_mode"] != "adopted" || a["out_of_step"] != "1" || a["batch_count"] != "4" {
						return fmt.Errorf("imported attributes %v", a)
					}
					return nil
				},
			},
		},
	})
}

func TestAccWebhook_headerWriteOnly(t *testing.T) {
	env := newTestEnv(t, 3)
	b := env.batches[0]
	wo := func(value, version string) string {
		return batchConfig(env, b, "https://hooks.example.com/wo", fmt.Sprintf("header_wo = %q\n  header_wo_version = %q", value, version))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config:           wo("first-secret-value", "1"),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("header_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("header"), knownvalue.Null()),
					stateLacks("first-secret-value"),
				},
				Check: env.serverHolds(t, b, "https://hooks.example.com/wo", "first-secret-value"),
			},
			{
				// a new value without a version bump is not sent
				Config: wo("second-secret-value", "1"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: env.serverHolds(t, b, "https://hooks.example.com/wo", "first-secret-value"),
			},
			{
				// the version bump sends it, as exactly one in-place update
				Config:            wo("second-secret-value", "2"),
				ConfigPlanChecks:  planChecks(plancheck.ResourceActionUpdate),
				ConfigStateChecks: []statecheck.StateCheck{stateLacks("second-secret-value")},
				Check:             env.serverHolds(t, b, "https://hooks.example.com/wo", "second-secret-value"),
			},
			{
				// project scope carries it to every batch, and keeps it out of state too
				Config: projectConfig(env, "https://hooks.example.com/wo", `header_wo = "third-secret-value"`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateLacks("third-secret-value"),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(0)),
				},
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[1], "https://hooks.example.com/wo", "third-secret-value"),
					env.serverHolds(t, env.batches[2], "https://hooks.example.com/wo", "third-secret-value"),
				),
			},
		},
	})
}

// stateLacks fails when a value appears anywhere in the resource's state.
func stateLacks(secret string) statecheck.StateCheck { return stateLacksCheck{secret} }

type stateLacksCheck struct{ secret string }

func (c stateLacksCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(raw), c.secret) {
		resp.Error = fmt.Errorf("the state holds the write-only value")
	}
}
