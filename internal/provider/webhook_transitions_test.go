package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The transition matrix. Users live in transitions: a scope changed, a
// header mode switched, an apply that failed halfway and is retried. Each
// row is a pair of configurations A and B of one resource, and its test
// walks
//
//	A, B, A                      the clean transitions, both ways
//	B failing, refresh, B        an apply whose set calls on B's targets fail
//	A failing, refresh, A        (a 403 or a 500), then the retry
//
// checking at each step the planned action, what the server holds, the empty
// plan after refresh (the harness's own check), and that no write-only
// value is in any state file, after the failed step and its refresh too.

// shape is one configuration of the resource.
type shape struct {
	target string // project, batch (b1), batch2 (b2), workflow (wf2), workflow2 (wf3)
	url    string
	header string // none, header, wo (with header_wo_version), wo-nov (without)
}

func (s shape) scope() string {
	return strings.TrimSuffix(s.target, "2")
}

// matrixEnv is a project of three batches, each on its own workflow.
type matrixEnv struct {
	*testEnv
	t      *testing.T
	secret string // prefix of this test's write-only values
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	return &matrixEnv{testEnv: newTestEnv(t, 3), t: t, secret: "wo-secret-" + strings.ReplaceAll(t.Name(), "/", "-")}
}

// headerValue is what shape s sends as the Authorization header.
func (e *matrixEnv) headerValue(s shape) string {
	switch s.header {
	case "header":
		return "attr-" + s.url
	case "wo", "wo-nov":
		return e.secret + "-" + s.header
	}
	return ""
}

// woSecrets are every write-only value the test uses.
func (e *matrixEnv) woSecrets() []string {
	return []string{e.secret + "-wo", e.secret + "-wo-nov"}
}

// workflows lists the workflows shape s covers.
func (e *matrixEnv) workflows(s shape) []string {
	b := e.batches
	switch s.target {
	case "batch":
		return []string{e.workflowOf(e.t, b[0])}
	case "batch2", "workflow":
		return []string{e.workflowOf(e.t, b[1])}
	case "workflow2":
		return []string{e.workflowOf(e.t, b[2])}
	}
	return []string{e.workflowOf(e.t, b[0]), e.workflowOf(e.t, b[1]), e.workflowOf(e.t, b[2])}
}

func (e *matrixEnv) config(s shape) string {
	var lines []string
	switch s.target {
	case "batch":
		lines = append(lines, fmt.Sprintf("batch_id = %q", e.batches[0]))
	case "batch2":
		lines = append(lines, fmt.Sprintf("batch_id = %q", e.batches[1]))
	case "workflow", "workflow2":
		lines = append(lines, fmt.Sprintf("workflow_id = %q", e.workflows(s)[0]))
	}
	switch s.header {
	case "header":
		lines = append(lines, fmt.Sprintf("header = %q", e.headerValue(s)))
	case "wo":
		lines = append(lines, fmt.Sprintf("header_wo = %q", e.headerValue(s)), `header_wo_version = "1"`)
	case "wo-nov":
		lines = append(lines, fmt.Sprintf("header_wo = %q", e.headerValue(s)))
	}
	return e.providerWith("max_retries = 1") + fmt.Sprintf(`
resource "isahitlab_webhook" "test" {
  project_id = %q
  url        = %q
  %s
}
`, e.project, s.url, strings.Join(lines, "\n  "))
}

// holds checks that exactly the workflows of s hold its webhook.
func (e *matrixEnv) holds(s shape) resource.TestCheckFunc {
	return func(*terraform.State) error {
		covered := e.workflows(s)
		for _, b := range e.batches {
			wantURL, wantHeader := "", ""
			if slices.Contains(covered, e.workflowOf(e.t, b)) {
				wantURL, wantHeader = s.url, e.headerValue(s)
			}
			if got := e.webhookURL(e.t, b); got != wantURL {
				return fmt.Errorf("batch %s: server url %q, want %q", b, got, wantURL)
			}
			if got := e.webhookHeader(e.t, b); got != wantHeader {
				return fmt.Errorf("batch %s: the server holds another header than %s's", b, s.header)
			}
		}
		return nil
	}
}

// failSets makes every set (not clear) of the workflows of s fail with
// status, as a server refusing or failing part of the work would.
func (e *matrixEnv) failSets(s shape, status int) func() {
	ids := e.workflows(s)
	if s.target == "project" {
		ids = ids[1:2] // midway: one workflow of three
	}
	switch s.target {
	case "batch":
		ids = append(ids, e.batches[0])
	case "batch2":
		ids = append(ids, e.batches[1])
	}
	return func() {
		f := func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPatch {
				return false
			}
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var b struct{ URL *string }
			target := r.URL.Query().Get("workflowId") + r.URL.Query().Get("batchId")
			if json.Unmarshal(body, &b) != nil || b.URL == nil || !slices.Contains(ids, target) {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, `{"statusCode":%d,"message":"injected by the test"}`, status)
			return true
		}
		e.intercept.Store(&f)
	}
}

func (e *matrixEnv) healed() { e.intercept.Store(nil) }

// action is the plan of a clean transition from a to b.
func action(a, b shape) plancheck.ResourceActionType {
	if a.target != b.target {
		return plancheck.ResourceActionDestroyBeforeCreate
	}
	return plancheck.ResourceActionUpdate
}

// retryAction is the plan after a transition that failed: an update stays
// planned (the state keeps the prior webhook); a replacement whose create
// failed on one batch or workflow left nothing there, so the refresh drops
// the resource and a create is planned; one whose create failed midway on a
// project left a tainted resource, replaced.
func retryAction(a, b shape) plancheck.ResourceActionType {
	switch {
	case a.target == b.target:
		return plancheck.ResourceActionUpdate
	case b.target != "project":
		return plancheck.ResourceActionCreate
	}
	return plancheck.ResourceActionDestroyBeforeCreate
}

var applyFailed = regexp.MustCompile(`Cannot set the webhook|Webhook not set on every batch`)

// step applies s, expecting act, and checks the server and the state.
func (e *matrixEnv) step(s shape, act plancheck.ResourceActionType) resource.TestStep {
	var header knownvalue.Check = knownvalue.Null()
	if s.header == "header" {
		header = knownvalue.StringExact(e.headerValue(s))
	}
	return resource.TestStep{
		PreConfig: e.healed,
		Config:    e.config(s),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, act)},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			str("scope", s.scope()),
			str("header_mode", map[string]string{"none": "none", "header": "header", "wo": "header_wo", "wo-nov": "header_wo"}[s.header]),
			str("url", s.url),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("header"), header),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("header_wo"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("out_of_step"), knownvalue.Int64Exact(0)),
		},
		Check: resource.ComposeAggregateTestCheckFunc(e.holds(s), stateFilesLack(e.woSecrets()...)),
	}
}

// failing applies s while its sets fail, then refreshes and checks that
// no write-only value reached the state.
func (e *matrixEnv) failing(s shape, status int) []resource.TestStep {
	return []resource.TestStep{
		{PreConfig: e.failSets(s, status), Config: e.config(s), ExpectError: applyFailed},
		{
			PreConfig:          e.healed,
			RefreshState:       true,
			ExpectNonEmptyPlan: true,
			Check:              stateFilesLack(e.woSecrets()...),
		},
	}
}

func runTransition(t *testing.T, a, b shape, status int) {
	e := newMatrixEnv(t)
	steps := []resource.TestStep{
		e.step(a, plancheck.ResourceActionCreate),
		e.step(b, action(a, b)),
		e.step(a, action(b, a)),
	}
	steps = append(steps, e.failing(b, status)...)
	steps = append(steps, e.step(b, retryAction(a, b)))
	steps = append(steps, e.failing(a, status)...)
	steps = append(steps, e.step(a, retryAction(b, a)))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps:                    steps,
		CheckDestroy:             e.holds(shape{target: "project"}), // with no url: nothing anywhere
	})
}

func TestAccWebhook_transitions(t *testing.T) {
	const u1, u2 = "https://hooks.example.com/one", "https://hooks.example.com/two"
	rows := []struct {
		name   string
		a, b   shape
		status int
	}{
		// Scope changes, in every direction, and the same scope with another id: replacements.
		{"project-batch", shape{"project", u1, "none"}, shape{"batch", u1, "none"}, http.StatusForbidden},
		{"project-workflow", shape{"project", u1, "header"}, shape{"workflow", u1, "header"}, http.StatusInternalServerError},
		{"batch-workflow", shape{"batch", u1, "wo"}, shape{"workflow", u1, "wo"}, http.StatusForbidden},
		{"batch-batch2", shape{"batch", u1, "none"}, shape{"batch2", u1, "none"}, http.StatusInternalServerError},
		{"workflow-workflow2", shape{"workflow", u1, "none"}, shape{"workflow2", u1, "none"}, http.StatusForbidden},
		{"project-batch-wo", shape{"project", u1, "wo"}, shape{"batch2", u2, "header"}, http.StatusInternalServerError},
		// A url change in each scope: updates.
		{"project-url", shape{"project", u1, "none"}, shape{"project", u2, "none"}, http.StatusForbidden},
		{"batch-url", shape{"batch", u1, "header"}, shape{"batch", u2, "header"}, http.StatusInternalServerError},
		{"workflow-url", shape{"workflow", u1, "wo"}, shape{"workflow", u2, "wo"}, http.StatusForbidden},
		// Header modes: none, header, header_wo with and without header_wo_version.
		{"none-header", shape{"batch", u1, "none"}, shape{"batch", u1, "header"}, http.StatusForbidden},
		{"none-wo", shape{"batch", u1, "none"}, shape{"batch", u1, "wo"}, http.StatusInternalServerError},
		{"none-wo-nov", shape{"batch", u1, "none"}, shape{"batch", u1, "wo-nov"}, http.StatusForbidden},
		{"header-wo", shape{"batch", u1, "header"}, shape{"batch", u1, "wo"}, http.StatusInternalServerError},
		{"header-wo-nov", shape{"batch", u1, "header"}, shape{"batch", u1, "wo-nov"}, http.StatusForbidden},
		{"wo-wo-nov", shape{"workflow", u1, "wo"}, shape{"workflow", u1, "wo-nov"}, http.StatusInternalServerError},
		{"project-header-wo", shape{"project", u1, "header"}, shape{"project", u1, "wo"}, http.StatusForbidden},
		{"project-none-wo-nov", shape{"project", u1, "none"}, shape{"project", u1, "wo-nov"}, http.StatusInternalServerError},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) { runTransition(t, row.a, row.b, row.status) })
	}
}
