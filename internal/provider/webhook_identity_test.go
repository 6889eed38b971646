package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Resource identity needs Terraform 1.12 (OpenTofu 1.12 too).
var identityVersions = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)}

// identity is the check of a whole identity; "" means null.
func identity(project, batch, workflow string) map[string]knownvalue.Check {
	v := func(s string) knownvalue.Check {
		if s == "" {
			return knownvalue.Null()
		}
		return knownvalue.StringExact(s)
	}
	return map[string]knownvalue.Check{"project_id": v(project), "batch_id": v(batch), "workflow_id": v(workflow)}
}

// Import by identity, in each scope: the identity set on create is the one
// an import block names, and the import of a matching configuration (no
// header) plans no change.
func TestAccWebhookIdentity_importEachScope(t *testing.T) {
	for _, scope := range []string{scopeProject, scopeBatch, scopeWorkflow} {
		t.Run(scope, func(t *testing.T) {
			env := newTestEnv(t, 2)
			b1 := env.batches[0]
			w1 := env.workflowOf(t, b1)
			const url = "https://hooks.example.com/identity"
			config, want := projectConfig(env, url, ""), identity(env.project, "", "")
			switch scope {
			case scopeBatch:
				config, want = batchConfig(env, b1, url, ""), identity(env.project, b1, "")
			case scopeWorkflow:
				config, want = workflowConfig(env, w1, url, ""), identity(env.project, "", w1)
			}
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks:   identityVersions,
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config:            config,
						ConfigPlanChecks:  planChecks(plancheck.ResourceActionCreate),
						ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(addr, want), str("scope", scope)},
					},
					{
						// The url changes in place: the identity does not.
						Config:            replaceURL(config, url, url+"/v2"),
						ConfigPlanChecks:  planChecks(plancheck.ResourceActionUpdate),
						ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(addr, want)},
					},
					{
						ResourceName:    addr,
						ImportState:     true,
						ImportStateKind: resource.ImportBlockWithResourceIdentity,
						ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop),
							plancheck.ExpectKnownValue(addr, tfjsonpath.New("scope"), knownvalue.StringExact(scope)),
							plancheck.ExpectKnownValue(addr, tfjsonpath.New("header_mode"), knownvalue.StringExact(headerNone)),
							plancheck.ExpectKnownValue(addr, tfjsonpath.New("url"), knownvalue.StringExact(url+"/v2")),
						}},
					},
				},
			})
		})
	}
}

func replaceURL(config, from, to string) string {
	return regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%q", from))).ReplaceAllLiteralString(config, fmt.Sprintf("%q", to))
}

// A webhook set outside Terraform, with a header: an import block by
// identity and header_mode = "adopted" import it with no change planned, and
// never send, clear or read the header into state; a url change keeps the
// header on the server and the identity as it is.
func TestAccWebhookIdentity_importAdoptedHeader(t *testing.T) {
	env := newTestEnv(t, 2)
	b1 := env.batches[0]
	w1 := env.workflowOf(t, b1)
	const header = "Bearer adopted-5d1f"
	env.emu.SetWebhook(w1, "https://hooks.example.com/sdk", strPtr(header))
	importBlock := fmt.Sprintf(`
import {
  to       = isahitlab_webhook.test
  identity = {
    project_id  = %q
    workflow_id = %q
  }
}
`, env.project, w1)
	want := identity(env.project, "", w1)
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   identityVersions,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: env.emu.ResetCalls,
				Config:    workflowConfig(env, w1, "https://hooks.example.com/sdk", `header_mode = "adopted"`) + importBlock,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(addr, want),
					str("header_mode", headerAdopted),
					str("id", env.project+"/workflow/"+w1),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("header"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					env.serverHolds(t, b1, "https://hooks.example.com/sdk", header),
					noWrites(env),
					stateFilesLack(header),
				),
			},
			{
				Config:            workflowConfig(env, w1, "https://hooks.example.com/terraform", `header_mode = "adopted"`),
				ConfigPlanChecks:  planChecks(plancheck.ResourceActionUpdate),
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(addr, want)},
				Check:             env.serverHolds(t, b1, "https://hooks.example.com/terraform", header),
			},
		},
	})
}

// noWrites checks that no setup-webhook call reached the emulator since its
// counters were last reset.
func noWrites(env *testEnv) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if c := env.emu.Calls(); c["W2"]+c["W3"] != 0 {
			return fmt.Errorf("the API received setup-webhook calls: %v", c)
		}
		return nil
	}
}

// The identity of a batch-scope webhook names the batch, never its
// workflow: the batch's workflow is computed, and may change.
func TestAccWebhookIdentity_batchScopeHasNoWorkflow(t *testing.T) {
	env := newTestEnv(t, 1)
	b1 := env.batches[0]
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   identityVersions,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: batchConfig(env, b1, "https://hooks.example.com/b", `header = "Bearer b"`),
			ConfigStateChecks: []statecheck.StateCheck{
				str("workflow_id", env.workflowOf(t, b1)),                      // in state...
				statecheck.ExpectIdentity(addr, identity(env.project, b1, "")), // ...not in the identity
			},
		}},
	})
}

// A state written by the provider before identities (no identity in
// state) gets its identity at the next refresh, and plans nothing.
//
// The previous provider is played by this one without its identity schema
// (legacyProviderFactories): the CLI then stores no identity, exactly as
// with the provider before this change, whatever the CLI's version. (Running
// the first step with Terraform 1.11 instead would need two CLIs in one test.)
func TestAccWebhookIdentity_stateWithoutIdentity(t *testing.T) {
	for _, scope := range []string{scopeProject, scopeBatch, scopeWorkflow} {
		t.Run(scope, func(t *testing.T) {
			env := newTestEnv(t, 2)
			b1 := env.batches[0]
			w1 := env.workflowOf(t, b1)
			const url = "https://hooks.example.com/legacy"
			config, want := projectConfig(env, url, ""), identity(env.project, "", "")
			switch scope {
			case scopeBatch:
				config, want = batchConfig(env, b1, url, `header = "Bearer legacy"`), identity(env.project, b1, "")
			case scopeWorkflow:
				config, want = workflowConfig(env, w1, url, ""), identity(env.project, "", w1)
			}
			resource.ParallelTest(t, resource.TestCase{
				TerraformVersionChecks: identityVersions,
				Steps: []resource.TestStep{
					{
						ProtoV6ProviderFactories: legacyProviderFactories,
						Config:                   config,
						ConfigStateChecks:        []statecheck.StateCheck{expectNoIdentity(addr)},
					},
					{
						ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
						Config:                   config,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply:             []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
							PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(addr, want)},
					},
				},
			})
		})
	}
}

// A state without identity whose webhook was cleared outside Terraform: the
// first refresh removes it from state (with a warning), which the framework
// accepts only with an identity, and the plan creates it again.
func TestAccWebhookIdentity_goneBeforeIdentity(t *testing.T) {
	env := newTestEnv(t, 1)
	b1 := env.batches[0]
	config := batchConfig(env, b1, "https://hooks.example.com/gone", "")
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks: identityVersions,
		Steps: []resource.TestStep{
			{
				ProtoV6ProviderFactories: legacyProviderFactories,
				Config:                   config,
				ConfigStateChecks:        []statecheck.StateCheck{expectNoIdentity(addr)},
			},
			{
				PreConfig:                func() { env.emu.ClearWebhook(env.workflowOf(t, b1)) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Config:                   config,
				ConfigPlanChecks:         planChecks(plancheck.ResourceActionCreate),
				ConfigStateChecks:        []statecheck.StateCheck{statecheck.ExpectIdentity(addr, identity(env.project, b1, ""))},
				Check:                    env.serverHolds(t, b1, "https://hooks.example.com/gone", ""),
			},
		},
	})
}

// legacyProviderFactories serve the provider as it was before identities:
// the same resource without IdentitySchema, and no list resource.
var legacyProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"isahitlab": providerserver.NewProtocol6WithError(legacyProvider{New("test")()}),
}

type legacyProvider struct{ provider.Provider }

func (legacyProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{func() fwresource.Resource { return legacyWebhook{&webhookResource{}} }}
}

// legacyWebhook has every interface of the resource but identity.
type legacyWebhook struct{ webhookWithoutIdentity }

type webhookWithoutIdentity interface {
	fwresource.ResourceWithConfigure
	fwresource.ResourceWithModifyPlan
	fwresource.ResourceWithImportState
	fwresource.ResourceWithConfigValidators
	fwresource.ResourceWithUpgradeState
}

// expectNoIdentity checks that a resource's state holds no identity.
func expectNoIdentity(address string) statecheck.StateCheck { return noIdentityCheck{address} }

type noIdentityCheck struct{ address string }

func (c noIdentityCheck) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if req.State == nil || req.State.Values == nil || req.State.Values.RootModule == nil {
		resp.Error = fmt.Errorf("no state")
		return
	}
	for _, r := range req.State.Values.RootModule.Resources {
		if r.Address == c.address {
			if len(r.IdentityValues) > 0 {
				resp.Error = fmt.Errorf("%s has an identity: %v", c.address, r.IdentityValues)
			}
			return
		}
	}
	resp.Error = fmt.Errorf("%s not in state", c.address)
}

// Bad identities are refused before any API call, naming the attribute
// and the value; an identity naming a batch that does not exist fails the
// import, naming it.
func TestAccWebhookIdentity_badIdentity(t *testing.T) {
	env := newTestEnv(t, 1)
	b1 := env.batches[0]
	w1 := env.workflowOf(t, b1)
	const missing = "6650c1f2a9b4c3d2e1f0ffff"
	importWith := func(attrs string) string {
		return batchConfig(env, b1, "https://hooks.example.com/x", "") + fmt.Sprintf(`
import {
  to       = isahitlab_webhook.test
  identity = {
%s
  }
}
`, attrs)
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   identityVersions,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      importWith(fmt.Sprintf("project_id = %q\nbatch_id = %q\nworkflow_id = %q", env.project, b1, w1)),
				ExpectError: regexp.MustCompile(`sets\s+both\s+batch_id\s+=\s+"` + b1 + `"\s+and\s+workflow_id\s+=\s+"` + w1 + `"`),
			},
			{
				Config:      importWith(fmt.Sprintf("project_id = %q\nbatch_id = \"batch-1\"", env.project)),
				ExpectError: regexp.MustCompile(`batch_id\s+=\s+"batch-1"\s+must\s+be\s+a\s+24-character`),
			},
			{
				Config:      importWith(fmt.Sprintf("project_id = %q\nbatch_id = %q", env.project, missing)),
				ExpectError: regexp.MustCompile(`(?s)Cannot import the webhook.*` + missing),
			},
		},
	})
}
