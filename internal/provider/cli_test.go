package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// Tests here run the Terraform CLI as a separate process against a built
// provider binary: what only a real process shows (signals, every log line).

var (
	buildOnce   sync.Once
	providerDir string
	buildErr    error
)

// cliWorkspace builds the provider once per test binary and returns a fresh
// workspace using it.
func cliWorkspace(t *testing.T) *tfrun.Workspace {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	cli, err := tfrun.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	buildOnce.Do(func() {
		// Shared by every test of this binary, so not t.TempDir; TestMain removes it.
		providerDir, buildErr = os.MkdirTemp("", "isahitlab-provider-") //nolint:usetesting
		if buildErr == nil {
			_, buildErr = tfrun.BuildProvider(context.Background(), providerDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ws, err := tfrun.NewWorkspace(t.TempDir(), cli, providerDir)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// tokenRecorder wraps the emulator and remembers every bearer token used.
type tokenRecorder struct {
	http.Handler
	mu     sync.Mutex
	tokens map[string]bool
}

func (r *tokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.mu.Lock()
		r.tokens[tok] = true
		r.mu.Unlock()
	}
	r.Handler.ServeHTTP(w, req)
}

// With TF_LOG=TRACE, neither the CLI's output nor the logs (Terraform's and
// the provider's) hold the secret key, an access token or a header value.
func TestCLI_secretsNeverLogged(t *testing.T) {
	ws := cliWorkspace(t)
	const (
		secretKey = "sk-never-log-7f3a9c"
		header    = "Bearer hdr-never-log-41c2"
		headerWO  = "Bearer wo-never-log-9b8e"
	)
	emu := emulator.New(emulator.Options{AccessID: "id-1", SecretKey: secretKey})
	emu.SetFaults(emulator.Faults{RevokeTokensEvery: 3}) // several tokens to look for
	project := emu.AddProject("p")
	b1, b2 := emu.AddBatch(project, "a"), emu.AddBatch(project, "b")
	rec := &tokenRecorder{Handler: emu, tokens: map[string]bool{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	config := fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = "id-1"
  secret_key = %q
}

resource "isahitlab_webhook" "plain" {
  project_id = %q
  batch_id   = %q
  url        = "https://hooks.example.com/plain"
  header     = %q
}

resource "isahitlab_webhook" "write_only" {
  project_id        = %q
  batch_id          = %q
  url               = "https://hooks.example.com/wo"
  header_wo         = %q
  header_wo_version = "1"
}

data "isahitlab_webhook" "read" {
  project_id = %q
  batch_id   = isahitlab_webhook.plain.batch_id
}

output "read_url" { value = data.isahitlab_webhook.read.url }

# Reading back a write-only header: the data source says only that it is
# set, the ephemeral resource has it for the run (and its logs mask it).
data "isahitlab_webhook" "read_wo" {
  project_id = %q
  batch_id   = isahitlab_webhook.write_only.batch_id
}

output "wo_has_header" { value = data.isahitlab_webhook.read_wo.has_header }

ephemeral "isahitlab_webhook" "read_wo" {
  project_id = %q
  batch_id   = isahitlab_webhook.write_only.batch_id
}
`, srv.URL, secretKey, project, b1, header, project, b2, headerWO, project, project, project)
	if err := ws.WriteConfig(config); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(ws.Dir, "trace.log")
	ws.Env = append(ws.Env, "TF_LOG=TRACE", "TF_LOG_PATH="+logPath)

	var outputs strings.Builder
	for _, args := range [][]string{{"apply", "-auto-approve", "-no-color"}, {"plan", "-no-color"}, {"show", "-no-color"}} {
		res, err := ws.Run(context.Background(), args...)
		if err != nil {
			t.Fatal(redactFor(err.Error(), secretKey, header, headerWO))
		}
		outputs.WriteString(res.Stdout + res.Stderr)
	}
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) < 10000 || !strings.Contains(string(logs), "isahitlab") {
		t.Fatalf("the trace log is suspiciously small (%d bytes): the test would prove nothing", len(logs))
	}
	// The header reached the server, so it was really sent.
	if w, _ := emu.Webhook(mustBatch(t, emu, b2).WorkflowID); w.Header == nil || *w.Header != headerWO {
		t.Fatal("the write-only header did not reach the server")
	}

	secrets := map[string]string{"secret key": secretKey, "header": header, "header_wo": headerWO}
	rec.mu.Lock()
	if len(rec.tokens) == 0 {
		t.Fatal("no access token was used")
	}
	if len(rec.tokens) < 3 {
		t.Fatalf("%d access tokens used; the revocations should have made more", len(rec.tokens))
	}
	i := 0
	for tok := range rec.tokens {
		i++
		secrets[fmt.Sprintf("access token %d", i)] = tok // every one, not only the last
	}
	rec.mu.Unlock()
	for name, value := range secrets {
		if strings.Contains(outputs.String(), value) {
			t.Errorf("the CLI output holds the %s", name)
		}
		if strings.Contains(string(logs), value) {
			t.Errorf("the TRACE log holds the %s", name)
		}
		state, _ := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
		if name != "header" && stateHolds(string(state), value) {
			t.Errorf("the state file holds the %s", name)
		}
	}
}

func mustBatch(t *testing.T, emu *emulator.Emulator, id string) emulator.BatchInfo {
	t.Helper()
	b, ok := emu.Batch(id)
	if !ok {
		t.Fatalf("no batch %s", id)
	}
	return b
}

// redactFor keeps a failing test from printing the secrets it guards.
func redactFor(s string, secrets ...string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	return s
}

// An interrupt during a large fan-out stops the provider's calls within a
// few seconds, and the state written afterwards claims no batch the server
// does not hold.
func TestCLI_interruptStopsFanOut(t *testing.T) {
	ws := cliWorkspace(t)
	emu := emulator.New(emulator.Options{AccessID: "id", SecretKey: "key", Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	project := emu.AddProject("big")
	const n = 3000
	for i := range n {
		emu.AddBatch(project, fmt.Sprintf("b%d", i))
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	if err := ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint        = %q
  access_id       = "id"
  secret_key      = "key"
  max_concurrency = 4
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = "https://hooks.example.com/all"
}
`, srv.URL, project)); err != nil {
		t.Fatal(err)
	}

	cmd := ws.Command(context.Background(), "apply", "-auto-approve", "-no-color")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once the fan-out is well under way.
	deadline := time.Now().Add(60 * time.Second)
	for emu.Calls()["W2"] < 200 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the fan-out never started:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Log("terraform exited 0 after the interrupt")
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("terraform still running 20 s after the interrupt")
	}
	stopped := emu.TotalCalls()
	time.Sleep(time.Second)
	if after := emu.TotalCalls(); after != stopped {
		t.Errorf("API calls went on after terraform exited: %d then %d", stopped, after)
	}
	if took := time.Since(interrupted); took > 10*time.Second {
		t.Errorf("terraform took %v to stop after the interrupt", took)
	}
	if w2 := emu.Calls()["W2"]; w2 >= n {
		t.Fatalf("the interrupt came too late to test anything (%d of %d set)", w2, n)
	}

	// The state written afterwards: every batch it counts as in step holds
	// the webhook on the server.
	res, err := ws.Run(context.Background(), "show", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var shown struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Values map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &shown); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, id := range emu.ProjectBatches(project) {
		if w, ok := emu.Webhook(mustBatch(t, emu, id).WorkflowID); ok && w.URL == "https://hooks.example.com/all" {
			held++
		}
	}
	if r := shown.Values.RootModule.Resources; len(r) == 1 {
		count, ok := r[0].Values["out_of_step"].(float64)
		if !ok {
			t.Fatalf("out_of_step not in state: %v", r[0].Values)
		}
		outOfStep := int(count)
		if inStep := n - outOfStep; inStep > held {
			t.Errorf("state counts %d batches in step, the server holds the webhook on %d", inStep, held)
		}
		if outOfStep == 0 {
			t.Errorf("state claims every batch is in step after an interrupted apply")
		}
	} else if held > 0 {
		t.Errorf("state lost the resource while %d batches hold its webhook:\n%s", held, out.String())
	}
	t.Logf("interrupted after %d of %d batches; terraform exited in %v; state/server agree", emu.Calls()["W2"], n, time.Since(interrupted).Round(time.Millisecond))
}

// The plan of a converging project-scope update says which batches will
// change and why, the first few by id and name and a count per reason, in
// a few lines however many batches there are.
func TestCLI_planSaysWhichBatchesAndWhy(t *testing.T) {
	ws := cliWorkspace(t)
	emu := emulator.New(emulator.Options{AccessID: "id", SecretKey: "key"})
	project := emu.AddProject("p")
	var batches []string
	for i := range 1000 {
		batches = append(batches, emu.AddBatch(project, fmt.Sprintf("batch %d", i)))
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	if err := ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = "id"
  secret_key = "key"
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = "https://hooks.example.com/all"
  header     = "Bearer mine"
}
`, srv.URL, project)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ws.Run(ctx, "apply", "-auto-approve", "-no-color"); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		emu.AddBatch(project, fmt.Sprintf("late %d", i))
	}
	emu.SetWebhook(mustBatch(t, emu, batches[7]).WorkflowID, "https://elsewhere.example.com/", strPtr("Bearer mine"))
	emu.SetWebhook(mustBatch(t, emu, batches[9]).WorkflowID, "https://hooks.example.com/all", strPtr("Bearer theirs"))

	res, err := ws.Run(ctx, "plan", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	out := res.Stdout + res.Stderr
	for _, want := range []string{
		"Webhooks out of step",
		"302 of the batches",
		`300 without the webhook (new, or cleared outside Terraform): `,
		`("late 0")`,
		"and 297 more",
		"1 with another url: " + batches[7] + ` ("batch 7")`,
		"1 with another header: " + batches[9] + ` ("batch 9")`,
		"out_of_step = 302 -> 0",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("the plan does not say %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n > 80 {
		t.Errorf("the plan takes %d lines for 302 batches out of step; it should take a few:\n%s", n, out)
	}
	if strings.Contains(out, "Bearer") {
		t.Error("the plan shows a header value")
	}
}

// Work, not time: the API calls of each phase of a project-scope webhook
// are the fewest the contract allows, and the state holds no per-batch
// value, so both grow linearly with the project. (make bench measures the
// time; this pins the work inside make test.)
func TestCLI_workPerPhaseIsLinear(t *testing.T) {
	ws := cliWorkspace(t)
	emu := emulator.New(emulator.Options{AccessID: "id", SecretKey: "key"})
	project := emu.AddProject("p")
	const n, page = 1000, 100
	for i := range n {
		emu.AddBatch(project, fmt.Sprintf("b%d", i))
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	if err := ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = "id"
  secret_key = "key"
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = "https://hooks.example.com/all"
}
`, srv.URL, project)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	phase := func(name string, want map[string]int, args ...string) {
		t.Helper()
		emu.ResetCalls()
		if _, err := ws.Run(ctx, args...); err != nil {
			t.Fatal(err)
		}
		got := emu.Calls()
		for code, w := range want {
			if got[code] != w {
				t.Errorf("%s: %d %s calls, want %d (all calls: %v)", name, got[code], code, w, got)
			}
		}
	}
	pages := func(batches int) int { return (batches + page - 1) / page }
	// Create: one list, one set per workflow, no read-back (the answer proves it).
	phase("create", map[string]int{"P1": 1, "B2": pages(n), "W2": n, "W1": 0, "B1": 0}, "apply", "-auto-approve", "-no-color")
	// A plan with no change: one list and one read per workflow.
	phase("refresh", map[string]int{"P1": 1, "B2": pages(n), "W1": n, "W2": 0}, "plan", "-no-color")
	// 10% new batches: the plan's refresh reads all; apply sets exactly the
	// new ones it found, with no second walk.
	for i := range n / 10 {
		emu.AddBatch(project, fmt.Sprintf("late %d", i))
	}
	total := n + n/10
	phase("update", map[string]int{"P1": 1, "B2": pages(total), "W1": total, "W2": n / 10}, "apply", "-auto-approve", "-no-color")
	// Destroy: the refresh, then a read and a clear of each workflow it
	// found holding our url: no second walk, but a read just before each
	// clear, as the prompt may have been left open.
	phase("destroy", map[string]int{"P1": 1, "B2": pages(total), "W1": 2 * total, "W2": total}, "destroy", "-auto-approve", "-no-color")

	// The state holds no per-batch value, and a few bytes per workflow in
	// private state: after an apply, and after a refresh saved in it.
	if _, err := ws.Run(ctx, "apply", "-auto-approve", "-no-color"); err != nil {
		t.Fatal(err)
	}
	stateSize := func(when string) {
		t.Helper()
		pulled, err := ws.Run(ctx, "state", "pull")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(pulled.Stdout, "6650c1f2a9b4") > 3 {
			t.Errorf("%s: the state names batches or workflows; it should hold counts:\n%s", when, pulled.Stdout)
		}
		size := len(pulled.Stdout)
		if size > 8000+40*total {
			t.Errorf("%s: state of %d bytes for %d batches: over 40 bytes per batch", when, size, total)
		}
		t.Logf("%s: state of %d bytes for %d batches", when, size, total)
	}
	stateSize("after create")
	if _, err := ws.Run(ctx, "apply", "-refresh-only", "-auto-approve", "-no-color"); err != nil {
		t.Fatal(err)
	}
	stateSize("after a refresh")
	// What a refresh saved in an earlier command is not this run's: a
	// destroy without refresh reads each workflow before clearing it, so a
	// url someone else set since survives.
	phase("destroy -refresh=false", map[string]int{"P1": 1, "B2": pages(total), "W1": total, "W2": total},
		"destroy", "-auto-approve", "-refresh=false", "-no-color")
}
