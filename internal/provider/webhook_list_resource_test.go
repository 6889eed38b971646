package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// List resources and `terraform query` need Terraform 1.14. OpenTofu has no
// `query` command (1.12.6 has not; its version numbers are its own, so a
// version check alone cannot tell it apart): skipOnOpenTofu skips it, known
// by the provider host the Makefile sets for it, or by the binary's name.
var queryVersions = []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0), skipOnOpenTofu{}}

type skipOnOpenTofu struct{}

func (skipOnOpenTofu) CheckTerraformVersion(_ context.Context, _ tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if isOpenTofu() {
		resp.Skip = "OpenTofu has no terraform query (list resources)"
	}
}

func isOpenTofu() bool {
	return os.Getenv("TF_ACC_PROVIDER_HOST") == "registry.opentofu.org" ||
		strings.Contains(filepath.Base(os.Getenv("TF_ACC_TERRAFORM_PATH")), "tofu")
}

// queryProject seeds a project of webhooks, as the SDK leaves them:
//
//	wfA  "Street signs 1".."Street signs 5" share it; no header
//	wfB  "Potholes"; a header
//	wfC  "Empty"; no webhook
//	     "No workflow"; no workflow at all
type queryProject struct {
	env           *testEnv
	wfA, wfB, wfC string
	header        string
}

func newQueryProject(t *testing.T) *queryProject {
	t.Helper()
	env := newTestEnv(t, 0)
	q := &queryProject{env: env, header: "Bearer query-never-shown-8c1e"}
	first := env.emu.AddBatch(env.project, "Street signs 1")
	q.wfA = env.workflowOf(t, first)
	for i := 2; i <= 5; i++ {
		env.emu.AddBatchWithWorkflow(env.project, fmt.Sprintf("Street signs %d", i), q.wfA)
	}
	q.wfB = env.workflowOf(t, env.emu.AddBatch(env.project, "Potholes"))
	q.wfC = env.workflowOf(t, env.emu.AddBatch(env.project, "Empty"))
	env.emu.AddBatchWithoutWorkflow(env.project, "No workflow")
	env.emu.SetWebhook(q.wfA, "https://hooks.example.com/isahit?token=query-token-4f2a", nil)
	env.emu.SetWebhook(q.wfB, "https://other.example.net/potholes", strPtr(q.header))
	return q
}

func (q *queryProject) listBlock(includeResource bool) string {
	return q.env.provider() + fmt.Sprintf(`
list "isahitlab_webhook" "x" {
  provider         = isahitlab
  include_resource = %t

  config {
    project_id = %q
  }
}
`, includeResource, q.env.project)
}

func workflowIdentity(project, workflow string) map[string]knownvalue.Check {
	return map[string]knownvalue.Check{
		"project_id":  knownvalue.StringExact(project),
		"batch_id":    knownvalue.Null(),
		"workflow_id": knownvalue.StringExact(workflow),
	}
}

// One result per workflow holding a webhook, with the workflow-scope
// identity, a readable display name (no query string, no header), and the
// resource as an import would leave it; nothing written to the API.
func TestAccWebhookList_query(t *testing.T) {
	q := newQueryProject(t)
	env := q.env
	byWF := func(w string) queryfilter.QueryFilter {
		return queryfilter.ByResourceIdentity(workflowIdentity(env.project, w))
	}
	value := func(attr string, check knownvalue.Check) querycheck.KnownValueCheck {
		return querycheck.KnownValueCheck{Path: tfjsonpath.New(attr), KnownValue: check}
	}
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   queryVersions,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: env.emu.ResetCalls,
				Query:     true,
				Config:    q.listBlock(false),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("isahitlab_webhook.x", 2),
					querycheck.ExpectIdentity("isahitlab_webhook.x", workflowIdentity(env.project, q.wfA)),
					querycheck.ExpectIdentity("isahitlab_webhook.x", workflowIdentity(env.project, q.wfB)),
					querycheck.ExpectResourceDisplayName("isahitlab_webhook.x", byWF(q.wfA),
						knownvalue.StringExact(`hooks.example.com/isahit — batches "Street signs 1", "Street signs 2" and 3 more`)),
					querycheck.ExpectResourceDisplayName("isahitlab_webhook.x", byWF(q.wfB),
						knownvalue.StringExact(`other.example.net/potholes — batch "Potholes"`)),
					readOnly{env},
				},
			},
			{
				PreConfig: env.emu.ResetCalls,
				Query:     true,
				Config:    q.listBlock(true),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("isahitlab_webhook.x", 2),
					querycheck.ExpectResourceKnownValues("isahitlab_webhook.x", byWF(q.wfA), []querycheck.KnownValueCheck{
						value("id", knownvalue.StringExact(env.project+"/workflow/"+q.wfA)),
						value("scope", knownvalue.StringExact(scopeWorkflow)),
						value("project_id", knownvalue.StringExact(env.project)),
						value("workflow_id", knownvalue.StringExact(q.wfA)),
						value("batch_id", knownvalue.Null()),
						value("url", knownvalue.StringExact("https://hooks.example.com/isahit?token=query-token-4f2a")),
						value("header", knownvalue.Null()),
						value("header_mode", knownvalue.StringExact(headerNone)),
						value("on_destroy", knownvalue.StringExact("clear")),
						value("out_of_step", knownvalue.Int64Exact(0)),
						value("batch_count", knownvalue.Null()),
						value("updated_at", knownvalue.NotNull()),
						value("timeouts", knownvalue.Null()),
					}),
					querycheck.ExpectResourceKnownValues("isahitlab_webhook.x", byWF(q.wfB), []querycheck.KnownValueCheck{
						value("url", knownvalue.StringExact("https://other.example.net/potholes")),
						value("header", knownvalue.Null()),
						value("header_mode", knownvalue.StringExact(headerAdopted)),
					}),
					readOnly{env},
				},
			},
		},
	})
}

// readOnly checks that the query read the workflows and wrote nothing, and
// that no header value reached its output.
type readOnly struct{ env *testEnv }

func (c readOnly) CheckQuery(_ context.Context, req querycheck.CheckQueryRequest, resp *querycheck.CheckQueryResponse) {
	calls := c.env.emu.Calls()
	if calls["W2"]+calls["W3"] != 0 || calls["W1"] == 0 {
		resp.Error = fmt.Errorf("the query's API calls: %v; want workflow reads and no setup-webhook", calls)
		return
	}
	out, err := json.Marshal(req)
	if err != nil {
		resp.Error = err
		return
	}
	if strings.Contains(string(out), "query-never-shown") {
		resp.Error = fmt.Errorf("the query output holds a header value")
	}
}

// A list configuration naming a project that does not exist is an error
// naming project_id and the value; one without project_id is refused.
func TestAccWebhookList_badConfig(t *testing.T) {
	env := newTestEnv(t, 1)
	const missing = "6650c1f2a9b4c3d2e1f0ffff"
	resource.ParallelTest(t, resource.TestCase{
		TerraformVersionChecks:   queryVersions,
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Query: true,
				Config: env.provider() + fmt.Sprintf(`
list "isahitlab_webhook" "x" {
  provider = isahitlab
  config {
    project_id = %q
  }
}
`, missing),
				ExpectError: regexp.MustCompile(`project_id\s+=\s+"` + missing + `"`),
			},
			{
				Query: true,
				Config: env.provider() + `
list "isahitlab_webhook" "x" {
  provider = isahitlab
  config {}
}
`,
				ExpectError: regexp.MustCompile(`project_id`),
			},
		},
	})
}

// Display names, without a CLI.
func TestListedName(t *testing.T) {
	hook := func(url string) *client.Webhook { return &client.Webhook{URL: url} }
	refs := func(names ...string) []webhooks.BatchRef {
		var out []webhooks.BatchRef
		for i, n := range names {
			out = append(out, webhooks.BatchRef{ID: fmt.Sprintf("id%d", i), Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		url     string
		batches []webhooks.BatchRef
		want    string
	}{
		{"https://h.example/a/b?token=secret", refs("One"), `h.example/a/b — batch "One"`},
		{"https://h.example", refs("One", "Two"), `h.example — batches "One" and "Two"`},
		{"http://h.example:8080/x", refs("A", "B", "C"), `h.example:8080/x — batches "A", "B" and 1 more`},
		{"https://h.example/x", refs("", `say "hi"`), `h.example/x — batches "id0" and "say \"hi\""`},
		{"https://h.example/x", refs(strings.Repeat("n", 60)), `h.example/x — batch "` + strings.Repeat("n", 39) + `…"`},
		{"https://h.example/x", nil, `h.example/x — workflow wf`},
	} {
		got := listedName(webhooks.Listed{WorkflowID: "wf", Webhook: hook(tc.url), Batches: tc.batches})
		if got != tc.want {
			t.Errorf("listedName(%s, %v) = %s, want %s", tc.url, tc.batches, got, tc.want)
		}
	}
}

// `terraform query -generate-config-out` writes configuration that, applied
// unchanged, imports every listed webhook without a single write to the API
// (the header of the one that has one kept as it is), then plans no change;
// no header value reaches the output or the generated file. terraform-
// plugin-testing 1.16 cannot generate configuration in a query step, so the
// CLI runs as a process (tfrun).
func TestCLI_queryGeneratedConfig(t *testing.T) {
	requireCLI(t, "1.14.0")
	ws := cliWorkspace(t)
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	env := &testEnv{emu: emu, url: srv.URL + "/", project: emu.AddProject("generated")}
	q := &queryProject{env: env, header: "Bearer generated-never-shown-17aa"}
	first := emu.AddBatch(env.project, "Street signs 1")
	q.wfA = env.workflowOf(t, first)
	emu.AddBatchWithWorkflow(env.project, "Street signs 2", q.wfA)
	q.wfB = env.workflowOf(t, emu.AddBatch(env.project, "Potholes"))
	emu.AddBatch(env.project, "Empty")
	emu.SetWebhook(q.wfA, "https://hooks.example.com/isahit", nil)
	emu.SetWebhook(q.wfB, "https://other.example.net/potholes", strPtr(q.header))
	before := map[string]emulator.WebhookInfo{}
	for _, w := range []string{q.wfA, q.wfB} {
		before[w], _ = emu.Webhook(w)
	}

	if err := ws.WriteConfig(env.provider()); err != nil {
		t.Fatal(err)
	}
	query := fmt.Sprintf(`
list "isahitlab_webhook" "all" {
  provider = isahitlab
  config {
    project_id = %q
  }
}
`, env.project)
	if err := os.WriteFile(filepath.Join(ws.Dir, "webhooks.tfquery.hcl"), []byte(query), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var output strings.Builder
	run := func(args ...string) tfrun.Result {
		t.Helper()
		res, err := ws.Run(ctx, args...)
		if err != nil {
			t.Fatal(redactFor(err.Error(), q.header))
		}
		output.WriteString(res.Stdout + res.Stderr)
		return res
	}
	run("query", "-no-color", "-generate-config-out=generated.tf")
	generated, err := os.ReadFile(filepath.Join(ws.Dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated.tf:\n%s", generated)
	for _, want := range []string{q.wfA, q.wfB, `header_mode\s+=\s+"adopted"`, `header_mode\s+=\s+"none"`} {
		if !regexp.MustCompile(want).Match(generated) {
			t.Errorf("generated.tf lacks %s", want)
		}
	}
	if n := strings.Count(string(generated), "import {"); n != 2 {
		t.Errorf("generated.tf has %d import blocks, want 2", n)
	}

	apply := run("apply", "-auto-approve", "-no-color")
	if !strings.Contains(apply.Stdout, "2 imported, 0 added, 0 changed, 0 destroyed") {
		t.Errorf("apply did not import exactly the two webhooks:\n%s", apply.Stdout)
	}
	plan, err := ws.Run(ctx, "plan", "-detailed-exitcode", "-no-color")
	if err != nil {
		t.Errorf("the plan after applying the generated configuration is not empty: %s", redactFor(err.Error(), q.header))
	}
	output.WriteString(plan.Stdout + plan.Stderr)

	if c := emu.Calls(); c["W2"]+c["W3"] != 0 {
		t.Errorf("query, import and plan wrote to the API: %v", c)
	}
	for w, was := range before {
		now, ok := emu.Webhook(w)
		if !ok || now.URL != was.URL || deref(now.Header) != deref(was.Header) {
			t.Errorf("workflow %s changed: %+v, was %+v", w, now, was)
		}
	}
	state, _ := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
	for name, text := range map[string]string{"the CLI output": output.String(), "generated.tf": string(generated), "the state": string(state)} {
		if strings.Contains(text, q.header) {
			t.Errorf("%s holds the header value", name)
		}
	}
}

// requireCLI skips unless the CLI the acceptance tests use is Terraform at
// least version least (before the provider is built for nothing).
func requireCLI(t *testing.T, least string) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	cli, err := tfrun.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cli, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version -json: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("reading %q: %v", out, err)
	}
	if isOpenTofu() || strings.Contains(filepath.Base(cli), "tofu") {
		t.Skipf("OpenTofu %s has no terraform query", v.Version)
	}
	if version.Must(version.NewVersion(v.Version)).LessThan(version.Must(version.NewVersion(least))) {
		t.Skipf("Terraform %s: terraform query needs %s or later", v.Version, least)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
