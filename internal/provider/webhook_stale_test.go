package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// A plan and its apply can be hours apart: a saved plan applied later, or
// an approval prompt left open. These tests change the server between the
// two, with the real CLI and the provider binary, and check that the apply
// acts on what the server holds then, never on the plan's older read.

const (
	staleURL   = "https://hooks.example.com/ours"
	foreignURL = "https://someone-else.example/hook"
)

type staleEnv struct {
	ws      *tfrun.Workspace
	emu     *emulator.Emulator
	api     string // the emulator's endpoint
	project string
	batches []string
}

// newStaleEnv is a project of 3 batches, each with its own workflow.
func newStaleEnv(t *testing.T) *staleEnv {
	t.Helper()
	e := &staleEnv{ws: cliWorkspace(t), emu: emulator.New(emulator.Options{AccessID: "id", SecretKey: "key"})}
	e.project = e.emu.AddProject("p")
	for i := range 3 {
		e.batches = append(e.batches, e.emu.AddBatch(e.project, fmt.Sprintf("b%d", i)))
	}
	srv := httptest.NewServer(e.emu)
	t.Cleanup(srv.Close)
	e.api = srv.URL
	e.config(t, staleURL)
	return e
}

func (e *staleEnv) config(t *testing.T, url string) {
	t.Helper()
	if err := e.ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = "id"
  secret_key = "key"
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = %q
}
`, e.api, e.project, url)); err != nil {
		t.Fatal(err)
	}
}

func (e *staleEnv) run(t *testing.T, args ...string) tfrun.Result {
	t.Helper()
	res, err := e.ws.Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// url is what the workflow of a batch holds ("" for none).
func (e *staleEnv) url(t *testing.T, batch string) string {
	t.Helper()
	h, ok := e.emu.Webhook(mustBatch(t, e.emu, batch).WorkflowID)
	if !ok {
		return ""
	}
	return h.URL
}

// attrs are the resource's attributes in state.
func (e *staleEnv) attrs(t *testing.T) map[string]any {
	t.Helper()
	var st struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(e.run(t, "show", "-json").Stdout), &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Values.RootModule.Resources {
		if r.Address == "isahitlab_webhook.all" {
			return r.Values
		}
	}
	t.Fatal("isahitlab_webhook.all is not in state")
	return nil
}

// converged fails unless a plan after refresh shows no change.
func (e *staleEnv) converged(t *testing.T) {
	t.Helper()
	if out, code := planExitCode(t, e.ws); code != 0 {
		t.Fatalf("plan after the apply is not empty (exit %d):\n%s", code, out)
	}
}

// Destroy reads each workflow before clearing it: a url someone else set
// between the plan and its apply is left in place, with a warning.
func TestCLI_destroyReadsBeforeClearing(t *testing.T) {
	t.Run("saved plan applied later", func(t *testing.T) {
		e := newStaleEnv(t)
		e.run(t, "apply", "-auto-approve", "-no-color")
		e.run(t, "plan", "-destroy", "-out=destroy.tfplan", "-no-color")
		e.emu.SetWebhook(mustBatch(t, e.emu, e.batches[1]).WorkflowID, foreignURL, nil)
		res := e.run(t, "apply", "-no-color", "destroy.tfplan")
		e.checkDestroyed(t, res.Stdout+res.Stderr)
	})
	t.Run("approval prompt left open", func(t *testing.T) {
		e := newStaleEnv(t)
		e.run(t, "apply", "-auto-approve", "-no-color")
		var calls map[string]int
		out := e.answerPrompt(t, func() {
			e.emu.SetWebhook(mustBatch(t, e.emu, e.batches[1]).WorkflowID, foreignURL, nil)
			e.emu.ResetCalls()
		}, "destroy", "-no-color")
		calls = e.emu.Calls()
		e.checkDestroyed(t, out)
		// Same command as its refresh: no second walk, but a read of each
		// workflow that refresh found holding a webhook before its clear.
		if calls["B2"] != 0 || calls["P1"] != 0 || calls["W1"] != 3 || calls["W2"] != 2 {
			t.Errorf("apply calls %v: want a read of each of the 3 workflows, 2 clears and no walk", calls)
		}
	})
}

func (e *staleEnv) checkDestroyed(t *testing.T, out string) {
	t.Helper()
	if got := e.url(t, e.batches[1]); got != foreignURL {
		t.Errorf("the url someone else set after the plan was not left in place: %q", got)
	}
	for _, b := range []string{e.batches[0], e.batches[2]} {
		if got := e.url(t, b); got != "" {
			t.Errorf("batch %s still holds %q after destroy", b, got)
		}
	}
	if !strings.Contains(out, "Webhooks left in place") {
		t.Errorf("no warning names the webhook left in place:\n%s", out)
	}
}

// answerPrompt runs the CLI with input, waits for its approval prompt,
// calls meanwhile, then answers yes; it returns the whole output.
func (e *staleEnv) answerPrompt(t *testing.T, meanwhile func(), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := e.ws.Command(ctx, args...)
	cmd.Env = append(cmd.Env, "TF_INPUT=1", "TF_IN_AUTOMATION=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	prompted := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(pr)
		seen := false
		for {
			line, err := r.ReadString(':') // the prompt ends "Enter a value:" with no newline
			out.WriteString(line)
			if !seen && strings.Contains(out.String(), "Enter a value:") {
				seen = true
				close(prompted)
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-prompted:
	case <-done:
		t.Fatalf("%v exited before its prompt:\n%s", args, out.String())
	}
	meanwhile()
	if _, err := io.WriteString(stdin, "yes\n"); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	_ = pw.Close()
	<-done
	if werr != nil {
		t.Fatalf("%v: %v\n%s", args, werr, out.String())
	}
	return out.String()
}

// An update trusts only a refresh of its own command: with -refresh=false
// (or a saved plan applied later) it walks the project, so a batch moved to
// another project since is never written and a batch added since is set,
// and the state it writes is what it did.
func TestCLI_updateWalksWithoutItsOwnRefresh(t *testing.T) {
	e := newStaleEnv(t)
	e.run(t, "apply", "-auto-approve", "-no-color")
	e.run(t, "apply", "-refresh-only", "-auto-approve", "-no-color") // a record in state, weeks old
	other := e.emu.AddProject("other")
	moved := e.batches[2]
	e.emu.MoveBatch(moved, other)
	added := e.emu.AddBatch(e.project, "added since")

	const changed = "https://hooks.example.com/ours-v2"
	e.config(t, changed)
	e.run(t, "apply", "-refresh=false", "-auto-approve", "-no-color")
	if got := e.url(t, moved); got != staleURL {
		t.Errorf("the batch moved to another project holds %q: the update wrote outside its project", got)
	}
	for _, b := range []string{e.batches[0], e.batches[1], added} {
		if got := e.url(t, b); got != changed {
			t.Errorf("batch %s holds %q, want %q", b, got, changed)
		}
	}
	if a := e.attrs(t); a["batch_count"] != float64(3) || a["out_of_step"] != float64(0) {
		t.Errorf("state says batch_count %v, out_of_step %v; the project has 3 batches, all set", a["batch_count"], a["out_of_step"])
	}
	e.converged(t)

	// A converging update from an old refresh: someone cleared a batch, a
	// refresh saw it; later another batch moves away and the update runs
	// without a refresh. It sets the cleared one and counts what is there.
	e.emu.ClearWebhook(mustBatch(t, e.emu, e.batches[0]).WorkflowID)
	e.run(t, "apply", "-refresh-only", "-auto-approve", "-no-color")
	if a := e.attrs(t); a["out_of_step"] != float64(1) {
		t.Fatalf("the refresh did not see the cleared batch: out_of_step %v", a["out_of_step"])
	}
	e.emu.MoveBatch(e.batches[1], other)
	e.emu.ResetCalls()
	e.run(t, "apply", "-refresh=false", "-auto-approve", "-no-color")
	if c := e.emu.Calls(); c["B2"] == 0 || c["W2"] != 1 {
		t.Errorf("calls %v: want a walk of the project and one set (the cleared batch)", c)
	}
	if got := e.url(t, e.batches[0]); got != changed {
		t.Errorf("the cleared batch holds %q after the update", got)
	}
	if a := e.attrs(t); a["batch_count"] != float64(2) || a["out_of_step"] != float64(0) {
		t.Errorf("state says batch_count %v, out_of_step %v; the project has 2 batches now, both set", a["batch_count"], a["out_of_step"])
	}
	e.converged(t)
}

// The retry of a change that failed midway, in a command with its own
// refresh, sets only the workflows the change did not reach (the refresh
// confirms which still hold it), except in header_wo mode, where no
// refresh can tell which value the reached ones hold: it sets them all. No
// state file holds the write-only value.
func TestCLI_retryInItsOwnCommandSetsWhatIsLeft(t *testing.T) {
	for _, c := range []struct {
		mode      string
		header    func(v string) string
		retrySets int
	}{
		{"header", func(v string) string { return fmt.Sprintf("header = %q", v) }, 1},
		{"header_wo", func(v string) string { return fmt.Sprintf("header_wo = %q\n  header_wo_version = \"1\"", v) }, 3},
	} {
		t.Run(c.mode, func(t *testing.T) {
			e := newStaleEnv(t)
			const secret = "Bearer retry-secret-7f3a"
			write := func(url string) {
				t.Helper()
				if err := e.ws.WriteConfig(fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %q
  access_id  = "id"
  secret_key = "key"
}

resource "isahitlab_webhook" "all" {
  project_id = %q
  url        = %q
  %s
}
`, e.api, e.project, url, c.header(secret))); err != nil {
					t.Fatal(err)
				}
			}
			write(staleURL)
			e.run(t, "apply", "-auto-approve", "-no-color")

			const changed = "https://hooks.example.com/ours-v2"
			write(changed)
			failing := mustBatch(t, e.emu, e.batches[1]).WorkflowID
			e.emu.FailSets(failing, 403)
			if _, err := e.ws.Run(context.Background(), "apply", "-auto-approve", "-no-color"); err == nil {
				t.Fatal("the apply succeeded though a workflow refused its set")
			}
			if e.url(t, e.batches[0]) != changed || e.url(t, e.batches[1]) != staleURL {
				t.Fatalf("after the failed apply: %q and %q", e.url(t, e.batches[0]), e.url(t, e.batches[1]))
			}

			e.emu.FailSets(failing, 0)
			e.emu.ResetCalls()
			e.run(t, "apply", "-auto-approve", "-no-color")
			if got := e.emu.Calls()["W2"]; got != c.retrySets {
				t.Errorf("the retry sent %d sets, want %d", got, c.retrySets)
			}
			for _, b := range e.batches {
				if got := e.url(t, b); got != changed {
					t.Errorf("batch %s holds %q after the retry", b, got)
				}
			}
			e.converged(t)
			if c.mode == "header_wo" {
				for _, name := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
					if b, err := os.ReadFile(filepath.Join(e.ws.Dir, name)); err == nil && stateHolds(string(b), secret) {
						t.Errorf("%s holds the write-only header", name)
					}
				}
			}
		})
	}
}
