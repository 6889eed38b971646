package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// testAccEchoProviderFactories add the echo provider, which copies what its
// provider block is given (an ephemeral value) into the state of an `echo`
// resource, where a test can look at it.
var testAccEchoProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"isahitlab": testAccProtoV6ProviderFactories["isahitlab"],
	"echo":      echoprovider.NewProviderServer(),
}

// echoWebhook reads a webhook through the ephemeral resource (by batch_id or
// workflow_id, as given in args) and echoes it into echo.<name>: url and
// workflow_id as read, the header as its SHA-256 only, so that the test's
// own state never holds the header it checks is kept out of the state. An
// echo resource keeps what it first got, so each step names a new one.
func echoWebhook(name, args string) string {
	return fmt.Sprintf(`
ephemeral "isahitlab_webhook" %[1]q {
%[2]s
}

provider "echo" {
  data = {
    url           = ephemeral.isahitlab_webhook.%[1]s.url
    workflow_id   = ephemeral.isahitlab_webhook.%[1]s.workflow_id
    header_sha256 = ephemeral.isahitlab_webhook.%[1]s.header == null ? null : sha256(ephemeral.isahitlab_webhook.%[1]s.header)
  }
}

resource "echo" %[1]q {}
`, name, args)
}

func echoed(url, workflowID, header string) knownvalue.Check {
	var u, h knownvalue.Check = knownvalue.Null(), knownvalue.Null()
	if url != "" {
		u = knownvalue.StringExact(url)
	}
	if header != "" {
		sum := sha256.Sum256([]byte(header))
		h = knownvalue.StringExact(hex.EncodeToString(sum[:]))
	}
	return knownvalue.ObjectExact(map[string]knownvalue.Check{"url": u, "workflow_id": knownvalue.StringExact(workflowID), "header_sha256": h})
}

// The ephemeral resource gives the header the server holds (exactly, as
// its hash shows), by batch and by workflow, and a null header once there is
// none; the state holds it nowhere (neither whole nor its credentials),
// while the data source beside it says only that it is set.
func TestAccWebhookEphemeral_header(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	wf := env.workflowOf(t, b)
	header := fmt.Sprintf("Bearer eph-header-%d", time.Now().UnixNano()) // unique: stateFilesLack looks in every test's state
	credential := strings.TrimPrefix(header, "Bearer ")
	const url = "https://hooks.example.com/ephemeral"
	// Set as a header_wo user's apply sets it: the server holds the header, the state does not.
	env.emu.SetWebhook(wf, url, &header)

	byBatch := fmt.Sprintf("  project_id = %q\n  batch_id   = %q", env.project, b)
	byWorkflow := fmt.Sprintf("  project_id  = %q\n  workflow_id = %q", env.project, wf)
	dataSource := fmt.Sprintf(`
data "isahitlab_webhook" "read" {
  project_id = %q
  batch_id   = %q
}
`, env.project, b)
	lacks := []statecheck.StateCheck{stateLacks(header), stateLacks(credential)}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: env.provider() + echoWebhook("by_batch", byBatch) + dataSource,
				ConfigStateChecks: append([]statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.by_batch", tfjsonpath.New("data"), echoed(url, wf, header)),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.read", tfjsonpath.New("has_header"), knownvalue.Bool(true)),
				}, lacks...),
				Check: stateFilesLack(header, credential),
			},
			{
				Config: env.provider() + echoWebhook("by_workflow", byWorkflow) + dataSource,
				ConfigStateChecks: append([]statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.by_workflow", tfjsonpath.New("data"), echoed(url, wf, header)),
				}, lacks...),
				Check: stateFilesLack(header, credential),
			},
			{
				// The header removed on the server: the url stays, the header is null.
				PreConfig: func() { env.emu.SetWebhook(wf, url, nil) },
				Config:    env.provider() + echoWebhook("no_header", byBatch) + dataSource,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.no_header", tfjsonpath.New("data"), echoed(url, wf, "")),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.read", tfjsonpath.New("has_header"), knownvalue.Bool(false)),
				},
			},
			{
				// No webhook: url and header null, the workflow still named.
				PreConfig: func() { env.emu.ClearWebhook(wf) },
				Config:    env.provider() + echoWebhook("none", byBatch),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.none", tfjsonpath.New("data"), echoed("", wf, "")),
				},
			},
		},
	})
}

// The ephemeral resource takes the data source's arguments, checks and
// errors.
func TestAccWebhookEphemeral_errors(t *testing.T) {
	env := newTestEnv(t, 1)
	other := newTestEnvProject(env, "other")
	const missing = "6650c1f2a9b4ffffffffffff"
	cfg := func(args string) string { return env.provider() + echoWebhook("x", args) }
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: testAccEchoProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg(fmt.Sprintf("project_id = %q", env.project)),
				ExpectError: wrapped("Exactly one of these attributes must be configured: [batch_id,workflow_id]"),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nbatch_id = %q\nworkflow_id = %q", env.project, env.batches[0], env.workflowOf(t, env.batches[0]))),
				ExpectError: wrapped("Exactly one of these attributes must be configured: [batch_id,workflow_id]"),
			},
			{
				Config:      cfg(`project_id = "not-an-id"` + fmt.Sprintf("\nbatch_id = %q", env.batches[0])),
				ExpectError: wrapped(`project_id = "not-an-id"`),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nbatch_id = %q", other, env.batches[0])),
				ExpectError: wrapped("batch " + env.batches[0] + " belongs to project " + env.project + ", not to project " + other),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nbatch_id = %q", env.project, missing)),
				ExpectError: wrapped("batch " + missing + " no longer exists"),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nworkflow_id = %q", env.project, missing)),
				ExpectError: wrapped("workflow " + missing + " no longer exists"),
			},
		},
	})
}
