package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// Behaviours a review found wrong in the provider before the resource was
// rebuilt as a state machine, one test each. The transition matrix
// (webhook_transitions_test.go) walks the header-mode switches.

// Removing workflow_id turns a workflow-scope resource into a project-scope
// one: a replacement, which clears the workflow's webhook and sets the
// project's, never an in-place update.
func TestAccWebhook_removingWorkflowIDReplaces(t *testing.T) {
	env := newTestEnv(t, 2)
	wf := env.workflowOf(t, env.batches[1])
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: workflowConfig(env, wf, "https://hooks.example.com/w", "")},
			{
				Config:            projectConfig(env, "https://hooks.example.com/p", ""),
				ConfigPlanChecks:  planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				ConfigStateChecks: []statecheck.StateCheck{str("scope", "project"), str("id", env.project)},
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, env.batches[0], "https://hooks.example.com/p", ""),
					env.serverHolds(t, env.batches[1], "https://hooks.example.com/p", ""),
				),
			},
		},
	})
}

// A batch without a workflow cannot carry a webhook: project scope skips it
// (with a warning) and plans, applies and destroys the rest.
func TestAccWebhook_projectSkipsBatchesWithoutWorkflow(t *testing.T) {
	env := newTestEnv(t, 2)
	env.emu.AddBatchWithoutWorkflow(env.project, "no workflow")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           projectConfig(env, "https://hooks.example.com/p", ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(2)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(0)),
			},
			Check: env.allHoldOrNone(t, "https://hooks.example.com/p"),
		}},
		CheckDestroy: env.allHoldOrNone(t, ""),
	})
}

// allHoldOrNone checks every batch with a workflow holds url ("" for none).
func (e *testEnv) allHoldOrNone(t *testing.T, url string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, b := range e.emu.ProjectBatches(e.project) {
			if e.workflowOf(t, b) == "" {
				continue
			}
			if got := e.webhookURL(t, b); got != url {
				return fmt.Errorf("batch %s holds %q, want %q", b, got, url)
			}
		}
		return nil
	}
}

// A 403 on one batch, when the list documents carry no workflow, is a
// warning during refresh: the batch counts out of step and the plan shows
// the work left, instead of the whole refresh failing.
func TestAccFaults_forbiddenBatchCountsOutOfStep(t *testing.T) {
	env := newTestEnv(t, 3)
	cfg := projectConfig(env, "https://hooks.example.com/p", "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					env.emu.SetListOmitsWorkflow(true)
					env.emu.Forbid(env.batches[1])
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "out_of_step", "1"),
					resource.TestCheckResourceAttr(addr, "batch_count", "3"),
				),
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				PreConfig: func() { env.emu.Unforbid(env.batches[1]) },
				Config:    cfg,
				Check:     env.allHold(t, "https://hooks.example.com/p"),
			},
		},
	})
}

// After a url change that failed on some batches, those still hold the
// previous url, which this resource set: destroy clears them too.
func TestAccWebhook_destroyClearsEveryURLItSet(t *testing.T) {
	env := newTestEnv(t, 3)
	stuck := env.workflowOf(t, env.batches[1])
	refuse := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch || r.URL.Query().Get("workflowId") != stuck {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"url":null`)) {
			return false // clears pass
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"statusCode":403,"message":"Forbidden resource"}`))
		return true
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: projectConfig(env, "https://hooks.example.com/v1", "")},
			{
				PreConfig:   func() { env.intercept.Store(&refuse) },
				Config:      projectConfig(env, "https://hooks.example.com/v2", ""),
				ExpectError: wrapped("1 batch(es) not set: [" + env.batches[1] + "]"),
			},
			{
				PreConfig: func() {
					env.intercept.Store(nil)
					if u := env.webhookURL(t, env.batches[1]); u != "https://hooks.example.com/v1" {
						t.Fatalf("the test needs batch 2 to hold v1 before destroy, it holds %q", u)
					}
				},
				Config: env.provider(), // the resource removed: destroy
				Check:  env.allHoldOrNone(t, ""),
			},
		},
		CheckDestroy: env.allHoldOrNone(t, ""),
	})
}

// A project that the project list does not return is not proof of
// deletion: the refresh fails with what was asked and what came back, and
// the resource stays in state.
func TestAccWebhook_projectNotListedIsNotGone(t *testing.T) {
	env := newTestEnv(t, 2)
	cfg := projectConfig(env, "https://hooks.example.com/p", "")
	emptyList := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/projects") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"docs": []any{}, "totalDocs": 0, "limit": 100, "totalPages": 1,
			"page": 1, "pagingCounter": 1, "hasPrevPage": false, "hasNextPage": false, "prevPage": nil, "nextPage": nil})
		return true
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { env.intercept.Store(&emptyList) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: wrapped("answered 0 project(s), none with id " + env.project),
			},
			{
				PreConfig:        func() { env.intercept.Store(nil) },
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// Tokens revoked every few requests during a fan-out (another login with the
// same access id, a key rotation): the provider logs in again and replays,
// and the apply succeeds.
func TestAccFaults_tokensRevokedDuringFanOut(t *testing.T) {
	env := newTestEnv(t, 0)
	env.addBatches(300)
	env.emu.SetFaults(emulator.Faults{RevokeTokensEvery: 7})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:        env.emu.ResetCalls,
			Config:           env.providerWith("max_concurrency = 16") + projectResource(env, "https://hooks.example.com/r", ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/r"),
				func(*terraform.State) error {
					c := env.emu.Calls()
					if c[emulator.CountRevocations] < 20 || c["A1"] < 20 {
						return fmt.Errorf("%d revocations and %d logins: the test proves nothing", c[emulator.CountRevocations], c["A1"])
					}
					return nil
				}),
		}},
	})
}

// A project without batches yet takes a project-scope webhook (nothing to
// set, and still a resource); its first batch is out of step at the next
// plan, and apply sets it.
func TestAccWebhook_emptyProjectThenFirstBatch(t *testing.T) {
	env := newTestEnv(t, 0)
	cfg := projectConfig(env, "https://hooks.example.com/p", "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(0)),
				},
			},
			{
				PreConfig:        func() { env.addBatches(1) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            env.allHold(t, "https://hooks.example.com/p"),
			},
		},
	})
}

// header_mode = "adopted" keeps a header set outside Terraform where it came
// with this resource's url: the url it sends, or one it set (after a url
// change). The header is never read into state.
func TestAccWebhook_adoptedHeaderIsKept(t *testing.T) {
	env := newTestEnv(t, 2)
	b := env.batches[0]
	const theirs = "Bearer set-outside-terraform-5c1d"
	env.emu.SetWebhook(env.workflowOf(t, b), "https://hooks.example.com/a", strPtr(theirs))
	adopted := func(url string) string { return batchConfig(env, b, url, `header_mode = "adopted"`) }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      batchConfig(env, b, "https://hooks.example.com/a", "header_mode = \"header\""),
				PlanOnly:    true,
				ExpectError: wrapped(`header_mode = "header" does not match the header arguments, which give "none"`),
			},
			{
				Config:      batchConfig(env, b, "https://hooks.example.com/a", "header_mode = \"adopted\"\n  header = \"x-hdr\""),
				PlanOnly:    true,
				ExpectError: wrapped(`header_mode = "adopted" does not match the header arguments, which give "header"`),
			},
			{
				Config:            adopted("https://hooks.example.com/a"),
				ConfigPlanChecks:  planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks: []statecheck.StateCheck{str("header_mode", "adopted"), statecheck.ExpectKnownValue(addr, tfjsonpath.New("header"), knownvalue.Null())},
				Check:             resource.ComposeTestCheckFunc(env.serverHolds(t, b, "https://hooks.example.com/a", theirs), stateFilesLack(theirs)),
			},
			{
				Config:           adopted("https://hooks.example.com/b"),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check:            resource.ComposeTestCheckFunc(env.serverHolds(t, b, "https://hooks.example.com/b", theirs), stateFilesLack(theirs)),
			},
		},
	})
}
