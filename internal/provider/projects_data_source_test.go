package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// testProject is a project added to the emulator, as the data source lists it.
type testProject struct{ id, name, status, typ string }

func (e *testEnv) addProject(name, status, typ string) testProject {
	id := e.emu.AddProject(name)
	e.emu.SetProjectStatus(id, status)
	e.emu.SetProjectType(id, typ)
	return testProject{id: id, name: name, status: status, typ: typ}
}

// seeded is the project newTestEnv creates.
func (e *testEnv) seeded() testProject {
	return testProject{id: e.project, name: "acceptance", status: "pending", typ: "form"}
}

// projectsExact checks a `projects` attribute: exactly these, in this order.
func projectsExact(ps ...testProject) knownvalue.Check {
	checks := make([]knownvalue.Check, len(ps))
	for i, p := range ps {
		checks[i] = knownvalue.ObjectExact(map[string]knownvalue.Check{
			"id":     knownvalue.StringExact(p.id),
			"name":   knownvalue.StringExact(p.name),
			"status": knownvalue.StringExact(p.status),
			"type":   knownvalue.StringExact(p.typ),
		})
	}
	return knownvalue.ListExact(checks)
}

func TestAccProjectsDataSource_filters(t *testing.T) {
	env := newTestEnv(t, 0)
	acc := env.seeded()
	cats := env.addProject("Cats rectangles", "configuring", "iat-rectangle")
	dogs := env.addProject("Dogs polygons", "complete", "iat-polygon")
	seg := env.addProject("cats segmentation", "archived", "iat-segmentation")
	birds := env.addProject("Birds", "pending", "iat-polyline")

	cfg := env.provider() + fmt.Sprintf(`
data "isahitlab_projects" "all" {}

data "isahitlab_projects" "active" {
  statuses = ["pending", "configuring"]
}

data "isahitlab_projects" "typed" {
  types = ["iat-rectangle", "iat-segmentation"]
}

data "isahitlab_projects" "by_ids" {
  ids = [%q, %q]
}

data "isahitlab_projects" "search" {
  search = "CATS"
}

data "isahitlab_projects" "combined" {
  statuses = ["archived", "complete"]
  types    = ["iat-segmentation", "form"]
  search   = "cats"
}

data "isahitlab_projects" "none" {
  statuses = ["deleted"]
}

output "for_each_keys" {
  value = keys({ for p in data.isahitlab_projects.active.projects : p.id => p })
}
`, birds.id, dogs.id)
	ds := func(name string) string { return "data.isahitlab_projects." + name }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds("all"), tfjsonpath.New("projects"), projectsExact(acc, cats, dogs, seg, birds)),
				statecheck.ExpectKnownValue(ds("active"), tfjsonpath.New("projects"), projectsExact(acc, cats, birds)),
				statecheck.ExpectKnownValue(ds("typed"), tfjsonpath.New("projects"), projectsExact(cats, seg)),
				// The API's order, not the order of ids.
				statecheck.ExpectKnownValue(ds("by_ids"), tfjsonpath.New("projects"), projectsExact(dogs, birds)),
				statecheck.ExpectKnownValue(ds("search"), tfjsonpath.New("projects"), projectsExact(cats, seg)),
				statecheck.ExpectKnownValue(ds("combined"), tfjsonpath.New("projects"), projectsExact(seg)),
				statecheck.ExpectKnownValue(ds("none"), tfjsonpath.New("projects"), knownvalue.ListExact([]knownvalue.Check{})),
				statecheck.ExpectKnownOutputValue("for_each_keys", knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact(acc.id), knownvalue.StringExact(cats.id), knownvalue.StringExact(birds.id),
				})),
			},
		}},
	})
}

// More projects than the server puts on a page: every page is walked, with
// and without a filter, whatever limit the provider asked for.
func TestAccProjectsDataSource_allPages(t *testing.T) {
	env := newTestEnv(t, 0)
	const pageCap = 4
	all := []testProject{env.seeded()}
	var complete []testProject
	for i := range 21 { // 22 projects: 6 pages of at most 4
		status := "pending"
		if i%3 == 0 {
			status = "complete"
		}
		p := env.addProject(fmt.Sprintf("project-%02d", i+1), status, "iat-polygon")
		all = append(all, p)
		if status == "complete" {
			complete = append(complete, p)
		}
	}
	env.emu.SetPageCap(pageCap)

	cfg := env.provider() + `
data "isahitlab_projects" "all" {}

data "isahitlab_projects" "complete" {
  statuses = ["complete"]
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.isahitlab_projects.all", tfjsonpath.New("projects"), projectsExact(all...)),
				statecheck.ExpectKnownValue("data.isahitlab_projects.complete", tfjsonpath.New("projects"), projectsExact(complete...)),
			},
			Check: func(*terraform.State) error {
				// At least one read of each data source: 6 pages, then 2.
				pages := (len(all)+pageCap-1)/pageCap + (len(complete)+pageCap-1)/pageCap
				if n := env.emu.Calls()["P1"]; n < pages {
					return fmt.Errorf("%d P1 calls for %d projects at %d a page: pages were skipped", n, len(all), pageCap)
				}
				return nil
			},
		}},
	})
}

// A server that ignores a filter must not widen the result: an
// organisation-wide webhook would otherwise reach excluded projects.
func TestAccProjectsDataSource_serverIgnoresFilters(t *testing.T) {
	env := newTestEnv(t, 0)
	acc := env.seeded()
	env.addProject("done", "complete", "form")
	rect := env.addProject("boxes", "pending", "iat-rectangle")
	var dropped atomic.Int64
	f := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/api/project-manager/projects") {
			return false
		}
		q := r.URL.Query()
		if q.Has("statuses") || q.Has("types") {
			dropped.Add(1)
		}
		q.Del("statuses")
		q.Del("types")
		r.URL.RawQuery = q.Encode()
		env.emu.ServeHTTP(w, r)
		return true
	}
	env.intercept.Store(&f)

	cfg := env.provider() + `
data "isahitlab_projects" "pending_forms" {
  statuses = ["pending"]
  types    = ["form"]
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.isahitlab_projects.pending_forms", tfjsonpath.New("projects"), projectsExact(acc)),
			},
			Check: func(*terraform.State) error {
				if dropped.Load() == 0 {
					return fmt.Errorf("the filters never reached the server (project %s would not have been listed)", rect.id)
				}
				return nil
			},
		}},
	})
}

// The organisation-wide example, as users copy it: one project-scope
// isahitlab_webhook per project the data source lists, following projects
// as they come and go. The Terraform CLI runs as a process
// (terraform-plugin-testing cannot hold the string keys of for_each).
func TestAccProjectsDataSource_orgWideExample(t *testing.T) {
	ws := cliWorkspace(t)
	root, err := tfrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "examples", "resources", "isahitlab_webhook", "resource_org_wide.tf"))
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, 2) // a pending project with two batches
	configuring := env.addProject("configuring", "configuring", "iat-polygon")
	complete := env.addProject("complete", "complete", "form")
	bConfiguring := env.emu.AddBatch(configuring.id, "c-1")
	bComplete := env.emu.AddBatch(complete.id, "d-1")
	if err := ws.WriteConfig(env.provider() + string(example)); err != nil {
		t.Fatal(err)
	}
	const url = "https://hooks.example.com/isahit" // the example's
	run := func(args ...string) {
		t.Helper()
		if _, err := ws.Run(context.Background(), append(args, "-no-color")...); err != nil {
			t.Fatal(err)
		}
	}
	holds := func(what string, want map[string]string) {
		t.Helper()
		for b, u := range want {
			if got := env.webhookURL(t, b); got != u {
				t.Errorf("%s: batch %s holds url %q, want %q", what, b, got, u)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	run("apply", "-auto-approve")
	holds("first apply", map[string]string{env.batches[0]: url, env.batches[1]: url, bConfiguring: url, bComplete: ""})
	run("plan", "-detailed-exitcode") // exit code 2 (changes) fails

	// A project becomes active, another leaves the list.
	env.emu.SetProjectStatus(complete.id, "pending")
	env.emu.SetProjectStatus(configuring.id, "archived")
	run("apply", "-auto-approve")
	holds("after status changes", map[string]string{env.batches[0]: url, bComplete: url, bConfiguring: ""})

	// A new project without batches yet gets its (project-scope) resource too.
	fresh := env.addProject("fresh", "pending", "form")
	if _, err := ws.Run(context.Background(), "apply", "-auto-approve", "-no-color"); err != nil {
		t.Fatalf("a project-scope webhook on project %s, which has no batch yet: %v", fresh.id, err)
	}
	run("plan", "-detailed-exitcode")

	run("destroy", "-auto-approve")
	holds("after destroy", map[string]string{env.batches[0]: "", env.batches[1]: "", bComplete: "", bConfiguring: ""})
}

// An API error names the filters; a forbidden id is a 403, never an empty list.
func TestAccProjectsDataSource_apiError(t *testing.T) {
	env := newTestEnv(t, 0)
	secret := env.addProject("secret", "pending", "form")
	env.emu.Forbid(secret.id)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Without ids, a project the credentials may not see is simply not listed.
				Config: env.provider() + `data "isahitlab_projects" "all" {}`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.isahitlab_projects.all", tfjsonpath.New("projects"), projectsExact(env.seeded())),
				},
			},
			{
				Config:      env.provider() + fmt.Sprintf(`data "isahitlab_projects" "x" { ids = [%q] }`, secret.id),
				ExpectError: regexp.MustCompile(`(?s)Cannot list the Isahit Lab projects.*` + secret.id + `.*403`),
			},
		},
	})
}

// Bad filters are refused at plan time, naming the attribute and the value,
// before any API call.
func TestAccProjectsDataSource_planTimeErrors(t *testing.T) {
	const good = "6650c1f2a9b4c3d2e1f00001"
	cases := []struct{ name, body, want string }{
		{"id not hex", fmt.Sprintf(`ids = [%q, "not-an-id"]`, good),
			`ids[1] = "not-an-id": must be a 24-character lowercase hexadecimal Isahit Lab id`},
		{"id upper case", `ids = ["6650C1F2A9B4C3D2E1F00001"]`,
			`ids[0] = "6650C1F2A9B4C3D2E1F00001": must be a 24-character lowercase hexadecimal`},
		{"ids empty", `ids = []`, `ids list must contain at least 1 elements, got: 0`},
		{"status unknown", `statuses = ["pending", "active"]`,
			`statuses[1] = "active": is not a project status; use one of "configuring", "pending", "complete", "toBeDeleted", "deleted", "archived"`},
		{"status case", `statuses = ["tobedeleted"]`,
			`statuses[0] = "tobedeleted": is not a project status; values are case-sensitive: did you mean "toBeDeleted"?`},
		{"statuses empty", `statuses = []`, `statuses list must contain at least 1 elements, got: 0`},
		{"type unknown", `types = ["rectangle"]`,
			`types[0] = "rectangle": is not a project type; use one of "form", "iat-rectangle", "iat-polygon", "iat-segmentation", "iat-graph", "iat-polyline"`},
		{"type case", `types = ["IAT-Graph"]`, `types[0] = "IAT-Graph": is not a project type; values are case-sensitive: did you mean "iat-graph"?`},
		{"search newline", `search = "cats\n"`, `search = "cats\n": contains a line feed`},
		{"search tab", `search = "a\tb"`, `search = "a\tb": contains a tab`},
		{"search empty", `search = ""`, `search = "": must not be empty`},
	}
	var plans []planErrorCase
	for _, tc := range cases {
		plans = append(plans, planErrorCase{name: tc.name, config: "data \"isahitlab_projects\" \"NAME\" {\n  " + tc.body + "\n}\n", want: tc.want})
	}
	runPlanErrors(t, plans, true)
}

// Filter values known only at apply are checked then, before any API call:
// an empty list is never read as "every project".
func TestAccProjectsDataSource_applyTimeValues(t *testing.T) {
	cases := []struct{ name, input, attr, want string }{
		{"statuses empty", `[]`, "statuses", `statuses list must contain at least 1 elements, got: 0|statuses = \[\]: an empty filter is refused`},
		{"status wrong case", `["pending", "Complete"]`, "statuses", `statuses\[1\] = "Complete": is not a project status; values are case-sensitive: did you mean "complete"\?`},
		{"ids empty", `[]`, "ids", `ids list must contain at least 1 elements, got: 0|ids = \[\]: an empty filter is refused`},
		{"type null", `["form", null]`, "types", `types\[1\] is null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 0)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: env.provider() + fmt.Sprintf(`
resource "terraform_data" "late" {
  input = %s
}

data "isahitlab_projects" "x" {
  %s = terraform_data.late.output
}
`, tc.input, tc.attr),
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
				CheckDestroy: func(*terraform.State) error {
					if n := env.emu.Calls()["P1"]; n != 0 {
						return fmt.Errorf("bad input reached the API: %d P1 calls", n)
					}
					return nil
				},
			})
		})
	}
}
