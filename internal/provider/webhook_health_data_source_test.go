package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// healthReceiver is a webhook receiver on loopback answering a status that
// a test may change; 0 never answers (the delivery times out). Its answer
// echoes the Authorization header it got, as a debugging receiver might:
// the data source must show that body with the header redacted.
type healthReceiver struct {
	*httptest.Server
	status atomic.Int64
}

func newHealthReceiver(t *testing.T, status int) *healthReceiver {
	t.Helper()
	r := &healthReceiver{}
	r.status.Store(int64(status))
	done := make(chan struct{})
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body) // then the server notices the caller leaving
		status := int(r.status.Load())
		if status == 0 {
			select {
			case <-req.Context().Done():
			case <-done:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status >= 300 {
			_, _ = fmt.Fprintf(w, `{"error": %q, "authorization": %q}`, http.StatusText(status), req.Header.Get("Authorization"))
		}
	}))
	t.Cleanup(r.Close)
	t.Cleanup(func() { close(done) }) // first: Close waits for the handlers
	return r
}

// healthProject is a project with a workflow in every state, each batch
// named after what its receiver does:
//
//	healthy, healthy-too  one workflow, its receiver answered 200
//	recovered             answered 503, then 200: ok, an older error kept
//	server-error          answered 500
//	not-found             answered 404
//	timeout               never answered
//	never-called          a webhook, no delivery yet
//	no-webhook            none
//	draft                 a batch without a workflow
//
// The failures happen in the order server-error, not-found, timeout.
type healthProject struct {
	env     *testEnv
	batch   map[string]string // name -> id
	header  map[string]string // name -> the header value its workflow holds
	recv    map[string]*healthReceiver
	created []string // batch names, in creation (list) order
}

func newHealthProject(t *testing.T) *healthProject {
	t.Helper()
	env := newTestEnv(t, 0)
	p := &healthProject{env: env, batch: map[string]string{}, header: map[string]string{}, recv: map[string]*healthReceiver{}}
	for _, name := range []string{"healthy", "healthy-too", "recovered", "server-error", "not-found", "timeout", "never-called", "no-webhook", "draft"} {
		switch name {
		case "healthy-too":
			p.batch[name] = env.emu.AddBatchWithWorkflow(env.project, name, p.wf(t, "healthy"))
		case "draft":
			p.batch[name] = env.emu.AddBatchWithoutWorkflow(env.project, name)
		default:
			p.batch[name] = env.emu.AddBatch(env.project, name)
		}
		p.created = append(p.created, name)
	}
	unique := time.Now().UnixNano() // secrets unique per test: stateFilesLack looks in every test's state
	for name, status := range map[string]int{"healthy": 200, "recovered": 503, "server-error": 500, "not-found": 404, "timeout": 0, "never-called": 200} {
		p.recv[name] = newHealthReceiver(t, status)
		p.header[name] = fmt.Sprintf("Bearer %s-secret-%d", name, unique)
		h := p.header[name]
		env.emu.SetWebhook(p.wf(t, name), p.recv[name].URL+"/hook", &h)
	}
	p.deliver(t, "recovered")
	p.recv["recovered"].status.Store(200)
	for _, name := range []string{"healthy", "recovered", "server-error", "not-found", "timeout"} {
		p.deliver(t, name)
	}

	// The emulator made exactly these deliveries.
	var got []string
	for _, d := range env.emu.Deliveries() {
		got = append(got, fmt.Sprintf("%s %s %d", d.BatchID, d.URL, d.StatusCode))
	}
	var want []string
	for _, c := range []struct {
		name   string
		status int
	}{{"recovered", 503}, {"healthy", 200}, {"recovered", 200}, {"server-error", 500}, {"not-found", 404}, {"timeout", 0}} {
		want = append(want, fmt.Sprintf("%s %s %d", p.batch[c.name], p.recv[c.name].URL+"/hook", c.status))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the emulator recorded the deliveries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return p
}

func (p *healthProject) wf(t *testing.T, name string) string {
	return p.env.workflowOf(t, p.batch[name])
}

// deliver makes Isahit Lab call the batch's receiver, a few milliseconds
// after the previous call so that their dates differ; a receiver that does
// not answer is given up after half a second.
func (p *healthProject) deliver(t *testing.T, name string) {
	t.Helper()
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := p.env.emu.Deliver(ctx, p.batch[name], "task-"+name, "annotation"); err != nil && !errors.Is(err, emulator.ErrDeliveryFailed) {
		t.Fatalf("delivering to %s: %v", name, err)
	}
}

const emulatorDate = "2006-01-02T15:04:05.000Z"

// entry is what the data source must show for the workflow of batch name:
// what the emulator holds, the header redacted from the body. batches are
// the batches it must name (in id order), by name when named; count is how
// many covered batches use the workflow.
func (p *healthProject) entry(t *testing.T, name, state string, count int, named bool, batches ...string) knownvalue.Check {
	t.Helper()
	wf := p.wf(t, name)
	held, ok := p.env.emu.Webhook(wf)
	var url, lastCall, lastError knownvalue.Check = knownvalue.Null(), knownvalue.Null(), knownvalue.Null()
	if ok {
		url = knownvalue.StringExact(held.URL)
	}
	if ok && held.LastCall != nil {
		lastCall = knownvalue.ObjectExact(map[string]knownvalue.Check{
			"status_code": knownvalue.Int64Exact(int64(held.LastCall.StatusCode)),
			"message":     knownvalue.StringExact(held.LastCall.Message),
			"date":        knownvalue.StringExact(held.LastCall.Date.Format(emulatorDate)),
		})
	}
	if ok && held.LastError != nil {
		var date knownvalue.Check = knownvalue.Null()
		if state == "failing" {
			date = knownvalue.StringExact(held.LastCall.Date.Format(emulatorDate))
		}
		var body knownvalue.Check = knownvalue.Null()
		if m, isMap := held.LastError.Body.(map[string]any); isMap {
			// The server holds the header in the body; the data source must not show it.
			if m["authorization"] != p.header[name] {
				t.Fatalf("%s: the receiver's body on the server is %v, want it to echo the header", name, m)
			}
			body = knownvalue.StringExact(fmt.Sprintf(`{"error":%q,"authorization":"***"}`, m["error"]))
		}
		lastError = knownvalue.ObjectExact(map[string]knownvalue.Check{
			"status_code": knownvalue.Int64Exact(int64(held.LastError.StatusCode)),
			"message":     knownvalue.StringExact(held.LastError.Message),
			"date":        date,
			"body":        body,
		})
	}
	refs := []knownvalue.Check{}
	for _, b := range batches {
		var name knownvalue.Check = knownvalue.StringExact(b)
		if !named {
			name = knownvalue.Null()
		}
		refs = append(refs, knownvalue.ObjectExact(map[string]knownvalue.Check{"id": knownvalue.StringExact(p.batch[b]), "name": name}))
	}
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"workflow_id": knownvalue.StringExact(wf),
		"state":       knownvalue.StringExact(state),
		"url":         url,
		"last_call":   lastCall,
		"last_error":  lastError,
		"batch_count": knownvalue.Int64Exact(int64(count)),
		"batches":     knownvalue.ListExact(refs),
	})
}

func stateCountsExact(ok, failing, never, none, unreadable int) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"total":        knownvalue.Int64Exact(int64(ok + failing + never + none + unreadable)),
		"ok":           knownvalue.Int64Exact(int64(ok)),
		"failing":      knownvalue.Int64Exact(int64(failing)),
		"never_called": knownvalue.Int64Exact(int64(never)),
		"no_webhook":   knownvalue.Int64Exact(int64(none)),
		"unreadable":   knownvalue.Int64Exact(int64(unreadable)),
	})
}

// healthCheck checks an attribute of a health data source, built when the
// step runs (after its PreConfig), from what the server holds then.
func healthCheck(name string, attr string, want func() knownvalue.Check) statecheck.StateCheck {
	return lazyCheck{addr: "data.isahitlab_webhook_health." + name, path: tfjsonpath.New(attr), want: want}
}

type lazyCheck struct {
	addr string
	path tfjsonpath.Path
	want func() knownvalue.Check
}

func (c lazyCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statecheck.ExpectKnownValue(c.addr, c.path, c.want()).CheckState(ctx, req, resp)
}

// A project with healthy, failing, never-called and webhook-less workflows
// reads back as the server holds it: counts by workflow and by batch, the
// failing receivers newest first with their batches, every workflow on
// request, bodies without the header; after a receiver recovers, it is ok.
func TestAccWebhookHealthDataSource_project(t *testing.T) {
	p := newHealthProject(t)
	env := p.env
	cfg := env.provider() + fmt.Sprintf(`
data "isahitlab_webhook_health" "all" {
  project_id        = %q
  include_workflows = true
}

data "isahitlab_webhook_health" "capped" {
  project_id  = %q
  max_failing = 1
}
`, env.project, env.project)

	var headers []string
	for _, h := range p.header {
		headers = append(headers, h, strings.TrimPrefix(h, "Bearer "))
	}
	every := func(serverError string) func() knownvalue.Check {
		return func() knownvalue.Check {
			return knownvalue.ListExact([]knownvalue.Check{
				p.entry(t, "healthy", "ok", 2, true, "healthy", "healthy-too"),
				p.entry(t, "recovered", "ok", 1, true, "recovered"),
				p.entry(t, "server-error", serverError, 1, true, "server-error"),
				p.entry(t, "not-found", "failing", 1, true, "not-found"),
				p.entry(t, "timeout", "failing", 1, true, "timeout"),
				p.entry(t, "never-called", "never_called", 1, true, "never-called"),
				p.entry(t, "no-webhook", "no_webhook", 1, true, "no-webhook"),
			})
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					healthCheck("all", "counts", func() knownvalue.Check { return stateCountsExact(2, 3, 1, 1, 0) }),
					healthCheck("all", "batch_counts", func() knownvalue.Check { return stateCountsExact(3, 3, 1, 1, 0) }),
					healthCheck("all", "failing", func() knownvalue.Check {
						return knownvalue.ListExact([]knownvalue.Check{
							p.entry(t, "timeout", "failing", 1, true, "timeout"),
							p.entry(t, "not-found", "failing", 1, true, "not-found"),
							p.entry(t, "server-error", "failing", 1, true, "server-error"),
						})
					}),
					healthCheck("all", "workflows", every("failing")),
					healthCheck("capped", "counts", func() knownvalue.Check { return stateCountsExact(2, 3, 1, 1, 0) }),
					healthCheck("capped", "failing", func() knownvalue.Check {
						return knownvalue.ListExact([]knownvalue.Check{p.entry(t, "timeout", "failing", 1, true, "timeout")})
					}),
					healthCheck("capped", "workflows", func() knownvalue.Check { return knownvalue.Null() }),
				},
				Check: stateFilesLack(headers...),
			},
			{
				// The failing receiver is fixed and called again: ok, its error kept but undated.
				PreConfig: func() {
					p.recv["server-error"].status.Store(200)
					p.deliver(t, "server-error")
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					healthCheck("all", "counts", func() knownvalue.Check { return stateCountsExact(3, 2, 1, 1, 0) }),
					healthCheck("all", "failing", func() knownvalue.Check {
						return knownvalue.ListExact([]knownvalue.Check{
							p.entry(t, "timeout", "failing", 1, true, "timeout"),
							p.entry(t, "not-found", "failing", 1, true, "not-found"),
						})
					}),
					healthCheck("all", "workflows", every("ok")),
				},
				Check: stateFilesLack(headers...),
			},
		},
	})
}

// Narrower questions: one workflow (no batches can be named), and a set of
// batches (each read on its own, with its name), a batch without a
// workflow in no count; max_failing = 0 lists none but counts all, a
// workflow the credentials may not read among them (unreadable).
func TestAccWebhookHealthDataSource_scopes(t *testing.T) {
	p := newHealthProject(t)
	env := p.env
	forbidden := env.emu.AddBatch(env.project, "forbidden")
	env.emu.SetWebhook(env.workflowOf(t, forbidden), "https://hooks.example.com/forbidden", nil)
	env.emu.Forbid(forbidden)
	cfg := env.provider() + fmt.Sprintf(`
data "isahitlab_webhook_health" "workflow" {
  project_id        = %q
  workflow_id       = %q
  include_workflows = true
}

data "isahitlab_webhook_health" "batches" {
  project_id        = %q
  batch_ids         = [%q, %q, %q, %q]
  include_workflows = true
}

data "isahitlab_webhook_health" "none_listed" {
  project_id  = %q
  max_failing = 0
}
`, env.project, p.wf(t, "not-found"),
		env.project, p.batch["healthy-too"], p.batch["server-error"], p.batch["timeout"], p.batch["draft"],
		env.project)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				healthCheck("workflow", "counts", func() knownvalue.Check { return stateCountsExact(0, 1, 0, 0, 0) }),
				healthCheck("workflow", "batch_counts", func() knownvalue.Check { return stateCountsExact(0, 0, 0, 0, 0) }),
				healthCheck("workflow", "failing", func() knownvalue.Check {
					return knownvalue.ListExact([]knownvalue.Check{p.entry(t, "not-found", "failing", 0, false)})
				}),
				healthCheck("batches", "counts", func() knownvalue.Check { return stateCountsExact(1, 2, 0, 0, 0) }),
				healthCheck("batches", "batch_counts", func() knownvalue.Check { return stateCountsExact(1, 2, 0, 0, 0) }),
				healthCheck("batches", "workflows", func() knownvalue.Check {
					// Covered in the order the batches come (a set: sorted), named.
					byID := map[string]knownvalue.Check{
						p.batch["healthy-too"]:  p.entry(t, "healthy", "ok", 1, true, "healthy-too"),
						p.batch["server-error"]: p.entry(t, "server-error", "failing", 1, true, "server-error"),
						p.batch["timeout"]:      p.entry(t, "timeout", "failing", 1, true, "timeout"),
					}
					ids := []string{p.batch["healthy-too"], p.batch["server-error"], p.batch["timeout"]}
					slices.Sort(ids)
					var want []knownvalue.Check
					for _, id := range ids {
						want = append(want, byID[id])
					}
					return knownvalue.ListExact(want)
				}),
				healthCheck("none_listed", "counts", func() knownvalue.Check { return stateCountsExact(2, 3, 1, 1, 1) }),
				healthCheck("none_listed", "batch_counts", func() knownvalue.Check { return stateCountsExact(3, 3, 1, 1, 1) }),
				healthCheck("none_listed", "failing", func() knownvalue.Check { return knownvalue.ListSizeExact(0) }),
			},
		}},
	})
}

// Bad arguments are refused at plan time where they can be, and what the
// API refuses names the argument and the value.
func TestAccWebhookHealthDataSource_errors(t *testing.T) {
	env := newTestEnv(t, 1)
	other := env.emu.AddProject("other")
	foreign := env.emu.AddBatch(other, "foreign")
	const missing = "6650c1f2a9b4ffffffffffff"
	cfg := func(body string) string {
		return env.provider() + "\ndata \"isahitlab_webhook_health\" \"x\" {\n" + body + "\n}\n"
	}
	project := fmt.Sprintf("project_id = %q\n", env.project)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(`project_id = "not-an-id"`), PlanOnly: true, ExpectError: wrapped(`project_id = "not-an-id"`)},
			{Config: cfg(project + `max_failing = 101`), PlanOnly: true, ExpectError: wrapped(`max_failing value must be between 0 and 100, got: 101`)},
			{Config: cfg(project + `batch_ids = []`), PlanOnly: true, ExpectError: wrapped(`batch_ids set must contain at least 1 elements and at most 1000 elements, got: 0`)},
			{Config: cfg(project + `batch_ids = ["nope"]`), PlanOnly: true, ExpectError: wrapped(`"nope"`)},
			{
				Config:      cfg(project + fmt.Sprintf("workflow_id = %q\nbatch_ids = [%q]", env.workflowOf(t, env.batches[0]), env.batches[0])),
				PlanOnly:    true,
				ExpectError: wrapped(`These attributes cannot be configured together: [workflow_id,batch_ids]`),
			},
			{Config: cfg(fmt.Sprintf("project_id = %q", missing)), ExpectError: wrapped(fmt.Sprintf(`project_id = %q: reading project %s`, missing, missing))},
			{Config: cfg(project + fmt.Sprintf("workflow_id = %q", missing)), ExpectError: wrapped(fmt.Sprintf(`workflow_id = %q: workflow %s no longer exists`, missing, missing))},
			{
				Config:      cfg(project + fmt.Sprintf("batch_ids = [%q, %q, %q]", env.batches[0], foreign, missing)),
				ExpectError: wrapped(fmt.Sprintf(`batch_ids holds %q: batch %s belongs to project %s, not to project %s`, foreign, foreign, other, env.project)),
			},
			{
				Config:      cfg(project + fmt.Sprintf("batch_ids = [%q, %q]", foreign, missing)),
				ExpectError: wrapped(fmt.Sprintf(`batch_ids holds %q: batch %s no longer exists`, missing, missing)),
			},
		},
	})
}

// The check block of the documented example, on the real CLI: the plan
// succeeds (exit 0) and warns, naming the failing batches and their status
// codes, newest first, and the share of failing receivers; no header value
// shows, not even one a receiver echoed in its body.
func TestCLI_webhookHealthCheckBlockWarns(t *testing.T) {
	ws := cliWorkspace(t)
	p := newHealthProject(t)
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "data-sources", "isahitlab_webhook_health", "check.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteConfig(p.env.provider() + string(example)); err != nil {
		t.Fatal(err)
	}
	out, code := planExitCode(t, ws, "-var", "project_id="+p.env.project)
	// 2, not 1: the plan succeeds. (A data source in a check block is read
	// again during apply, which -detailed-exitcode counts as a change.)
	if code != 2 {
		t.Fatalf("terraform plan -detailed-exitcode exited %d; a failing receiver must only warn:\n%s", code, out)
	}
	t.Logf("plan output:\n%s", out)
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"Warning: Check block assertion failed",
		`3 webhook receiver(s) failing, newest first:`,
		`- no answer (context deadline exceeded) for batch(es) "timeout"`,
		`- HTTP 404 Not Found for batch(es) "not-found"`,
		`- HTTP 500 Internal Server Error for batch(es) "server-error"`,
		`3 of 6 webhook receivers fail, over 10%. First: "timeout": no answer; "not-found": HTTP 404; "server-error": HTTP 500.`,
	} {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the plan does not say %q", want)
		}
	}
	if n := strings.Count(out, "Warning: Check block assertion failed"); n != 2 {
		t.Errorf("%d failed assertions, want 2 (any failing, and over 10%%)", n)
	}
	for name, h := range p.header {
		if strings.Contains(out, strings.TrimPrefix(h, "Bearer ")) {
			t.Errorf("the plan shows the header of %s", name)
		}
	}

	// Once every receiver answers again, the check passes: no warning.
	for _, name := range []string{"server-error", "not-found", "timeout"} {
		p.recv[name].status.Store(200)
		p.deliver(t, name)
	}
	out, code = planExitCode(t, ws, "-var", "project_id="+p.env.project)
	if code != 2 || strings.Contains(out, "Check block assertion") {
		t.Errorf("after the receivers recovered, the plan exited %d:\n%s", code, out)
	}
}

// planExitCode runs terraform plan -detailed-exitcode and returns its
// output and exit code.
func planExitCode(t *testing.T, ws *tfrun.Workspace, args ...string) (string, int) {
	t.Helper()
	cmd := ws.Command(context.Background(), append([]string{"plan", "-no-color", "-detailed-exitcode"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), 0
}
