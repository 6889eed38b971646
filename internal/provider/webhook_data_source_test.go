package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// receiver is a local webhook receiver that answers 500 with a JSON body
// and remembers the Authorization header of each delivery.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error": "receiver down", "retry": true}`)
	}))
	t.Cleanup(r.Close)
	return r
}

func TestAccWebhook_lastCallAndLastError(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	recv := newReceiver(t)
	res := batchConfig(env, b, recv.URL+"/hook", `header = "Bearer receiver-token"`)
	ds := res + fmt.Sprintf(`
data "isahitlab_webhook" "by_batch" {
  project_id = %q
  batch_id   = %q
}

data "isahitlab_webhook" "by_workflow" {
  project_id  = %q
  workflow_id = isahitlab_webhook.test.workflow_id
}
`, env.project, b, env.project)

	lastError := knownvalue.ObjectExact(map[string]knownvalue.Check{
		"status_code": knownvalue.Int64Exact(500),
		"message":     knownvalue.StringExact("Internal Server Error"),
		"body":        knownvalue.StringExact(`{"error":"receiver down","retry":true}`),
	})
	lastCall := knownvalue.ObjectPartial(map[string]knownvalue.Check{
		"status_code": knownvalue.Int64Exact(500),
		"date":        knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: res,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_call"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_error"), knownvalue.Null()),
				},
			},
			{
				// A task finishes its job: Isahit Lab calls the receiver, which fails.
				PreConfig: func() {
					// The emulator reports the receiver's failure; it is recorded as lastError.
					if err := env.emu.Deliver(context.Background(), b, "task-1", "annotation"); err == nil {
						t.Fatal("delivery to a receiver answering 500 reported no failure")
					}
					recv.mu.Lock()
					defer recv.mu.Unlock()
					if len(recv.auths) != 1 || recv.auths[0] != "Bearer receiver-token" {
						t.Fatalf("receiver got Authorization headers %q", recv.auths)
					}
				},
				Config: ds,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_error"), lastError),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("last_call"), lastCall),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_batch", tfjsonpath.New("last_error"), lastError),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_batch", tfjsonpath.New("last_call"), lastCall),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_batch", tfjsonpath.New("url"), knownvalue.StringExact(recv.URL+"/hook")),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_batch", tfjsonpath.New("workflow_id"), knownvalue.StringExact(env.workflowOf(t, b))),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_batch", tfjsonpath.New("has_header"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.isahitlab_webhook.by_workflow", tfjsonpath.New("last_error"), lastError),
				},
			},
		},
	})
}

// The data source says whether the webhook has a header, never what it is:
// the state holds no header value (nor its credentials) when the server
// holds one, set as header_wo would set it.
func TestAccWebhookDataSource_hasHeader(t *testing.T) {
	env := newTestEnv(t, 1)
	b := env.batches[0]
	wf := env.workflowOf(t, b)
	header := fmt.Sprintf("Bearer ds-has-header-%d", time.Now().UnixNano()) // unique: stateFilesLack looks in every test's state
	credential := strings.TrimPrefix(header, "Bearer ")
	env.emu.SetWebhook(wf, "https://hooks.example.com/with-header", &header)
	cfg := env.provider() + fmt.Sprintf(`
data "isahitlab_webhook" "by_batch" {
  project_id = %q
  batch_id   = %q
}

data "isahitlab_webhook" "by_workflow" {
  project_id  = %q
  workflow_id = %q
}
`, env.project, b, env.project, wf)
	expect := func(url string, hasHeader bool) []statecheck.StateCheck {
		var u knownvalue.Check = knownvalue.Null()
		if url != "" {
			u = knownvalue.StringExact(url)
		}
		var checks []statecheck.StateCheck
		for _, name := range []string{"by_batch", "by_workflow"} {
			a := "data.isahitlab_webhook." + name
			checks = append(checks,
				statecheck.ExpectKnownValue(a, tfjsonpath.New("has_header"), knownvalue.Bool(hasHeader)),
				statecheck.ExpectKnownValue(a, tfjsonpath.New("url"), u),
				statecheck.ExpectKnownValue(a, tfjsonpath.New("workflow_id"), knownvalue.StringExact(wf)))
		}
		return append(checks, stateLacks(header), stateLacks(credential))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            cfg,
				ConfigStateChecks: expect("https://hooks.example.com/with-header", true),
				Check:             stateFilesLack(header, credential),
			},
			{
				// The header removed on the server (the url kept).
				PreConfig:         func() { env.emu.SetWebhook(wf, "https://hooks.example.com/no-header", nil) },
				Config:            cfg,
				ConfigStateChecks: expect("https://hooks.example.com/no-header", false),
				Check:             stateFilesLack(header, credential),
			},
			{
				// No webhook at all: no header either.
				PreConfig:         func() { env.emu.ClearWebhook(wf) },
				Config:            cfg,
				ConfigStateChecks: expect("", false),
				Check:             stateFilesLack(header, credential),
			},
		},
	})
}

func TestAccWebhookDataSource_errors(t *testing.T) {
	env := newTestEnv(t, 1)
	other := newTestEnvProject(env, "other")
	cfg := func(body string) string {
		return env.provider() + "\ndata \"isahitlab_webhook\" \"x\" {\n" + body + "\n}\n"
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nbatch_id = %q", other, env.batches[0])),
				ExpectError: wrapped("batch " + env.batches[0] + " belongs to project " + env.project + ", not to project " + other),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nbatch_id = %q", env.project, "6650c1f2a9b4ffffffffffff")),
				ExpectError: wrapped("batch 6650c1f2a9b4ffffffffffff no longer exists"),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q\nworkflow_id = %q", env.project, "6650c1f2a9b4ffffffffffff")),
				ExpectError: wrapped("workflow 6650c1f2a9b4ffffffffffff no longer exists"),
			},
			{
				Config:      cfg(fmt.Sprintf("project_id = %q", env.project)),
				ExpectError: wrapped("Exactly one of these attributes must be configured: [batch_id,workflow_id]"),
			},
		},
	})
}

// wrapped matches text as Terraform prints it, wrapped at any space.
func wrapped(text string) *regexp.Regexp {
	return regexp.MustCompile(strings.Join(strings.Fields(regexp.QuoteMeta(text)), `\s+`))
}

// newTestEnvProject adds a second, empty project to env's emulator.
func newTestEnvProject(env *testEnv, name string) string { return env.emu.AddProject(name) }

func TestAccBatchesDataSource(t *testing.T) {
	env := newTestEnv(t, 3)
	env.emu.SetBatchStatus(env.batches[1], "complete")
	// Ask for list documents without workflow: the data source fills it in.
	env.emu.SetListOmitsWorkflow(true)
	cfg := env.provider() + fmt.Sprintf(`
data "isahitlab_batches" "all" {
  project_id = %q
}

data "isahitlab_batches" "complete" {
  project_id = %q
  statuses   = ["complete"]
}

data "isahitlab_batches" "search" {
  project_id = %q
  search     = "BATCH-3"
}
`, env.project, env.project, env.project)
	batch := func(i int) knownvalue.Check {
		b := env.batches[i]
		return knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"id":          knownvalue.StringExact(b),
			"name":        knownvalue.StringExact(fmt.Sprintf("batch-%d", i+1)),
			"workflow_id": knownvalue.StringExact(env.workflowOf(t, b)),
		})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.isahitlab_batches.all", tfjsonpath.New("batches"),
					knownvalue.ListExact([]knownvalue.Check{batch(0), batch(1), batch(2)})),
				statecheck.ExpectKnownValue("data.isahitlab_batches.complete", tfjsonpath.New("batches"),
					knownvalue.ListExact([]knownvalue.Check{batch(1)})),
				statecheck.ExpectKnownValue("data.isahitlab_batches.search", tfjsonpath.New("batches"),
					knownvalue.ListExact([]knownvalue.Check{batch(2)})),
			},
		}},
	})
}
