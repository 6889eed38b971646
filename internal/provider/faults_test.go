package provider

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// What the provider does when things go wrong: flaky APIs, batches that
// fail for good, expiring tokens, refused credentials, 403 and odd 404s.

func (e *testEnv) addBatches(n int) {
	for i := range n {
		e.batches = append(e.batches, e.emu.AddBatch(e.project, fmt.Sprintf("bulk-%d", i)))
	}
}

// allHold checks every batch of the project holds url.
func (e *testEnv) allHold(t *testing.T, url string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		missing := 0
		for _, b := range e.emu.ProjectBatches(e.project) {
			if e.webhookURL(t, b) != url {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d batches lack the webhook", missing)
		}
		return nil
	}
}

func TestAccFaults_flakyAPI(t *testing.T) {
	env := newTestEnv(t, 0)
	env.addBatches(1000)
	env.emu.SetFaults(emulator.Faults{FailRate: 0.10, ThrottleRate: 0.10, DropRate: 0.02})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:           env.providerWith("max_retries = 10\n  max_concurrency = 32") + projectResource(env, "https://hooks.example.com/flaky", ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(0)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("batch_count"), knownvalue.Int64Exact(1000)),
			},
			Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/flaky"),
				func(*terraform.State) error {
					c := env.emu.Calls()
					if c["5xx"] == 0 || c["429"] == 0 || c["dropped"] == 0 {
						return fmt.Errorf("the faults did not happen: %v", c)
					}
					return nil
				}),
		}},
	})
}

func TestAccFaults_partialFailureOnUpdate(t *testing.T) {
	env := newTestEnv(t, 6)
	forbidden := env.batches[1:3]
	cfg := func(url string) string { return projectConfig(env, url, "") }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("https://hooks.example.com/v1")},
			{
				// Two batches turn forbidden; the update fails for them only.
				PreConfig: func() {
					for _, b := range forbidden {
						env.emu.Forbid(b)
					}
				},
				Config:      cfg("https://hooks.example.com/v2"),
				ExpectError: wrapped(fmt.Sprintf("2 batch(es) not set: [%s %s]", forbidden[0], forbidden[1])),
			},
			{
				// The resource stayed in state with the partial result: the
				// others hold v2 and the plan shows the work left. (A refresh
				// step: the Check of a PlanOnly step never runs.)
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					for _, b := range env.batches {
						want := "https://hooks.example.com/v2"
						if b == forbidden[0] || b == forbidden[1] {
							want = "https://hooks.example.com/v1"
						}
						if got := env.webhookURL(t, b); got != want {
							return fmt.Errorf("batch %s holds %q, want %q", b, got, want)
						}
					}
					return nil
				},
			},
			{
				// The cause removed, apply sets only what is missing.
				PreConfig: func() {
					for _, b := range forbidden {
						env.emu.Unforbid(b)
					}
					env.emu.ResetCalls()
				},
				Config:           cfg("https://hooks.example.com/v2"),
				ConfigPlanChecks: planChecks(plancheck.ResourceActionUpdate),
				Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/v2"),
					func(*terraform.State) error {
						if n := env.emu.Calls()["W2"]; n != 2 {
							return fmt.Errorf("apply set %d workflows, want the 2 missing", n)
						}
						return nil
					}),
			},
		},
	})
}

func TestAccFaults_partialFailureOnCreate(t *testing.T) {
	env := newTestEnv(t, 4)
	env.emu.Forbid(env.batches[3])
	cfg := projectConfig(env, "https://hooks.example.com/c", "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: wrapped("1 batch(es) not set: [" + env.batches[3] + "]"),
				Check:       env.serverHolds(t, env.batches[0], "https://hooks.example.com/c", ""),
			},
			{
				// Kept in state, tainted: the next apply replaces it and converges.
				PreConfig:        func() { env.emu.Unforbid(env.batches[3]) },
				Config:           cfg,
				ConfigPlanChecks: planChecks(plancheck.ResourceActionDestroyBeforeCreate),
				Check:            env.allHold(t, "https://hooks.example.com/c"),
			},
		},
	})
}

func TestAccFaults_tokenExpiresDuringApply(t *testing.T) {
	env := newTestEnv(t, 0)
	env.addBatches(400)
	env.emu.SetTokenTTL(time.Second)
	env.emu.SetFaults(emulator.Faults{Latency: 10 * time.Millisecond})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: env.emu.ResetCalls,
			Config:    env.providerWith("max_concurrency = 4") + projectResource(env, "https://hooks.example.com/t", ""),
			Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/t"),
				func(*terraform.State) error {
					if n := env.emu.Calls()["A1"]; n < 2 {
						return fmt.Errorf("logged in %d times over a run longer than the token's life", n)
					}
					return nil
				}),
		}},
	})
}

func TestAccFaults_wrongCredentials(t *testing.T) {
	env := newTestEnv(t, 50)
	cfg := strings.Replace(projectConfig(env, "https://hooks.example.com/", ""), testSecretKey, "wrong-secret-key", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:   env.emu.ResetCalls,
			Config:      cfg,
			ExpectError: wrapped("Check access_id and secret_key in the provider block, or the ISAHIT_LAB_API_ACCESS_ID and ISAHIT_LAB_API_SECRET_KEY environment variables."),
		}},
		CheckDestroy: func(*terraform.State) error {
			if n := env.emu.Calls()["A1"]; n != 1 {
				return fmt.Errorf("%d login attempts with refused credentials, want 1", n)
			}
			return nil
		},
	})
}

func TestAccFaults_forbiddenNeverRemoves(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	cfg := batchConfig(env, b, "https://hooks.example.com/f", "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { env.emu.Forbid(b) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: wrapped("403"),
			},
			{
				// Once allowed again, the resource is still there and in step.
				PreConfig:        func() { env.emu.Unforbid(b) },
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccFaults_notFoundButListedNeverRemoves(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	cfg := batchConfig(env, b, "https://hooks.example.com/n", "")
	notFound := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/batches/"+b) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"statusCode":404,"message":"Not Found"}`))
			return true
		}
		return false
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig:   func() { env.intercept.Store(&notFound) },
				Config:      cfg,
				PlanOnly:    true,
				ExpectError: wrapped("yet project " + env.project + " still lists it; not treating it as deleted"),
			},
			{
				PreConfig:        func() { env.intercept.Store(nil) },
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

// Under the API's rate limit, the adaptive pool slows down instead of
// failing: apply succeeds with no error and converges every batch.
func TestAccFaults_rateLimitedApply(t *testing.T) {
	env := newTestEnv(t, 0)
	env.addBatches(300)
	env.emu.SetFaults(emulator.Faults{RateLimit: 100})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:        env.emu.ResetCalls,
			Config:           env.providerWith("max_concurrency = 32") + projectResource(env, "https://hooks.example.com/limited", ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/limited"),
				func(*terraform.State) error {
					if n := env.emu.Calls()["429"]; n == 0 {
						return fmt.Errorf("the rate limit was never reached: the test proves nothing")
					}
					return nil
				}),
		}},
	})
}

// A user who knows the quota says it (requests_per_second): the provider
// paces from its first request and never meets a 429, where the same apply
// left to learn the pace does (TestAccFaults_rateLimitedApply).
func TestAccFaults_requestsPerSecondKeepsUnderTheLimit(t *testing.T) {
	env := newTestEnv(t, 0)
	env.addBatches(150)
	env.emu.SetFaults(emulator.Faults{RateLimit: 100})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig:        env.emu.ResetCalls,
			Config:           env.providerWith("max_concurrency = 32\n  requests_per_second = 90") + projectResource(env, "https://hooks.example.com/paced", ""),
			ConfigPlanChecks: planChecks(plancheck.ResourceActionCreate),
			Check: resource.ComposeTestCheckFunc(env.allHold(t, "https://hooks.example.com/paced"),
				func(*terraform.State) error {
					if n := env.emu.Calls()["429"]; n != 0 {
						return fmt.Errorf("%d answers of 429 under requests_per_second = 90 with a limit of 100/s, want none", n)
					}
					return nil
				}),
		}},
	})
}

// A Retry-After longer than max_retry_after ends the read at once with an
// error naming both, instead of a retry the API would refuse again.
func TestAccFaults_retryAfterBeyondMaxRetryAfter(t *testing.T) {
	env := newTestEnv(t, 2)
	// One request per 20 s: the login takes the only token, the list that
	// follows is told to wait 20 s.
	env.emu.SetFaults(emulator.Faults{RateLimit: 0.05})
	env.emu.ResetCalls()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: env.providerWith(`max_retry_after = "5s"`) + fmt.Sprintf(`
data "isahitlab_batches" "all" {
  project_id = %q
}`, env.project),
			ExpectError: wrapped("the API asks to wait 20s before a retry (Retry-After), more than max_retry_after (5s): not retried"),
		}},
	})
	if n := env.emu.Calls()["429"]; n != 1 {
		t.Fatalf("%d answers of 429, want 1: the call must end at the first", n)
	}
}

// A server that stores something else than it was sent (here: it rewrites
// the url) gets a clear error, not Terraform's "inconsistent result".
func TestAccFaults_serverRewritesURL(t *testing.T) {
	env := newTestEnv(t, 2)
	rewrite := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		body = bytes.Replace(body, []byte(`/hook"`), []byte(`/hook/"`), 1)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		env.emu.ServeHTTP(w, r)
		return true
	}
	env.intercept.Store(&rewrite)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      projectConfig(env, "https://hooks.example.com/hook", ""),
				ExpectError: wrapped("2 workflow(s) answered every call but hold another webhook than was sent"),
			},
			{
				Config:      batchConfig(env, env.batches[0], "https://hooks.example.com/hook", ""),
				ExpectError: wrapped(`1 workflow(s) answered every call but hold another webhook than was sent (url "https://hooks.example.com/hook/"`),
			},
		},
	})
}
