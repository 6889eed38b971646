package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// The seen record keeps every workflow with its two flags and its batch
// count, packs the API's ids into 12 bytes, and falls back to strings for
// any other id; it round-trips through JSON, as private state does.
func TestSeenRecordRoundTrips(t *testing.T) {
	for name, ids := range map[string][]string{
		"object ids": {"6650c1f2a9b4000000000003", "6650c1f2a9b4000000000001", "6650c1f2a9b4000000000002"},
		"other ids":  {"wf-b", "wf-a", "6650c1f2a9b4000000000001"},
	} {
		t.Run(name, func(t *testing.T) {
			inStep := func(w string) bool { return w == ids[0] }
			held := func(w string) bool { return w == ids[0] }
			other := func(w string) bool { return w == ids[1] }
			batches := map[string]int{ids[0]: 1, ids[1]: 300, ids[2]: 0}
			var s seenRecord
			b, err := json.Marshal(newSeen(ids, inStep, held, other, batches))
			if err != nil || json.Unmarshal(b, &s) != nil {
				t.Fatal(err)
			}
			if (s.Hex != nil) != (name == "object ids") {
				t.Errorf("packed %v, ids %v", s.Hex != nil, s.IDs)
			}
			sorted := slices.Sorted(slices.Values(ids))
			if got := s.ids(); !slices.Equal(got, sorted) {
				t.Fatalf("ids %v, want %v", got, sorted)
			}
			counts := s.batchCounts()
			for i, w := range sorted {
				if counts[i] != batches[w] || s.inStep()(w) != inStep(w) {
					t.Errorf("%s: count %d in step %v", w, counts[i], s.inStep()(w))
				}
			}
			if s.inStep()("not-seen") {
				t.Error("a workflow not seen is in step")
			}
			withWebhook := func(w string) bool { return held(w) || other(w) }
			if got, want := fmt.Sprint(s.withWebhook()), fmt.Sprint(slices.DeleteFunc(slices.Clone(sorted), func(w string) bool { return !withWebhook(w) })); got != want {
				t.Errorf("with a webhook %s, want %s", got, want)
			}
		})
	}
}

// A refresh's record names the CLI command that made it: on Linux, the
// parent CLI process with its start time. Every case where the command
// cannot be told with certainty names none, so that nothing is trusted.
func TestRunIDOnlyWhereCertain(t *testing.T) {
	const self, cli, wrapper = 100, 50, 70
	table := func(procs map[int]process) func(int) (process, bool) {
		return func(pid int) (process, bool) { p, ok := procs[pid]; return p, ok }
	}
	provider := process{ppid: cli, name: "terraform-provi", start: "900", args: []string{"./terraform-provider-isahitlab"}}
	terraform := func(args ...string) process {
		return process{ppid: 1, name: "terraform", start: "800", args: append([]string{"/usr/bin/terraform"}, args...)}
	}
	noEnv := func(string) string { return "" }
	for _, c := range []struct {
		name   string
		procs  map[int]process
		getenv func(string) string
		want   string
	}{
		{"terraform apply", map[int]process{self: provider, cli: terraform("apply", "-auto-approve")}, noEnv, "50-800"},
		{"global option first", map[int]process{self: provider, cli: terraform("-chdir=infra", "destroy")}, noEnv, "50-800"},
		{"versioned tofu plan", map[int]process{self: provider, cli: {ppid: 1, name: "tofu-v1.12.6", start: "7", args: []string{"tofu-v1.12.6", "plan"}}}, noEnv, "50-7"},
		{"through a wrapper by our name", map[int]process{
			self:    {ppid: wrapper, name: provider.name, start: "901"},
			wrapper: {ppid: cli, name: provider.name, start: "900"},
			cli:     terraform("apply"),
		}, noEnv, "50-800"},
		{"no /proc", map[int]process{}, noEnv, ""},
		{"parent unreadable", map[int]process{self: provider}, noEnv, ""},
		{"no start time", map[int]process{self: provider, cli: {ppid: 1, name: "terraform", args: []string{"terraform", "apply"}}}, noEnv, ""},
		{"terraform test", map[int]process{self: provider, cli: terraform("test")}, noEnv, ""},
		{"terraform console", map[int]process{self: provider, cli: terraform("console")}, noEnv, ""},
		{"no command line", map[int]process{self: provider, cli: {ppid: 1, name: "terraform", start: "800"}}, noEnv, ""},
		{"in-process test harness", map[int]process{self: provider, cli: {ppid: 1, name: "go", start: "5", args: []string{"go", "test", "./..."}}}, noEnv, ""},
		{"reattach", map[int]process{self: provider, cli: terraform("apply")},
			func(k string) string {
				if k == "TF_REATTACH_PROVIDERS" {
					return `{"registry.terraform.io/isahit/isahitlab":{}}`
				}
				return ""
			}, ""},
		{"parent is init", map[int]process{self: {ppid: 1, name: "p", start: "9"}, 1: terraform("apply")}, noEnv, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := runID(self, c.getenv, table(c.procs)); got != c.want {
				t.Errorf("runID = %q, want %q", got, c.want)
			}
		})
	}
}

// The system's own process table: this test binary's parent is go test
// (or a shell), not a Terraform command, so the run is unknown here, as it
// is for acceptance tests that serve the provider in-process.
func TestRunIDOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p, ok := procfsProcess(os.Getpid())
	if !ok || p.name == "" || p.start == "" || p.ppid != os.Getppid() || len(p.args) == 0 || p.args[0] != os.Args[0] {
		t.Fatalf("procfsProcess of self: %+v", p)
	}
	if isCLI(mustProcess(t, os.Getppid()).args) {
		t.Skip("run by a Terraform CLI")
	}
	if id := runID(os.Getpid(), os.Getenv, procfsProcess); id != "" {
		t.Fatalf("runID %q under a parent that is not a Terraform command", id)
	}
}

func mustProcess(t *testing.T, pid int) process {
	t.Helper()
	p, ok := procfsProcess(pid)
	if !ok {
		t.Fatalf("no process %d", pid)
	}
	return p
}

// The record's transitions: what a refresh and an update leave in it.
func TestPrivateRecordTransitions(t *testing.T) {
	const w1, w2 = "6650c1f2a9b4000000000001", "6650c1f2a9b4000000000002"
	plan := &webhookModel{URL: types.StringValue("https://new.example/h"), HeaderMode: types.StringValue(headerNone)}
	failed := outcome{sent: true, inStep: []string{w1}}
	failed.diags.AddError("boom", "")

	var rec privateRecord
	rec.own("https://old.example/h")
	rec.Why, rec.Seen = "- 1 batch", &seenRecord{}
	rec.afterUpdate(failed, plan.URL.ValueString(), true, plan)
	if !rec.owns("https://new.example/h") || !rec.owns("https://old.example/h") {
		t.Errorf("a url sent by a failed update is not owned: %v", rec.OwnedURLs)
	}
	if rec.Pending == nil || rec.Pending.Want != fingerprint(plan) || rec.Pending.InStep.contains()(w2) || !rec.Pending.InStep.contains()(w1) {
		t.Fatalf("pending after a failed change: %+v", rec.Pending)
	}
	if rec.Seen != nil || rec.Why != "" {
		t.Errorf("an update keeps the refresh's findings: seen %v why %q", rec.Seen, rec.Why)
	}

	// A refresh finds w1 reverted: nothing of the change is still held.
	rec.afterRefresh(outcome{why: "- 1 batch", inspected: &webhooks.InspectResult{
		Coverage: webhooks.Coverage{Workflows: []string{w1, w2}},
		URLs:     map[string]string{w1: "https://someone.example/x", w2: ""},
	}})
	if rec.Pending != nil || rec.Why != "- 1 batch" || rec.Seen == nil {
		t.Fatalf("after the refresh: pending %+v, why %q, seen %v", rec.Pending, rec.Why, rec.Seen)
	}
	if got := rec.Seen.withWebhook(); len(got) != 1 || got[0] != w1 {
		t.Errorf("the refresh's record of workflows with a webhook: %v", got)
	}

	// A refresh that could not read every workflow records no walk.
	rec.afterRefresh(outcome{inspected: &webhooks.InspectResult{
		Coverage: webhooks.Coverage{Workflows: []string{w1}},
		Failed:   map[string]error{w1: errors.New("403")},
	}})
	if rec.Seen != nil {
		t.Error("a refresh with a failed read recorded its walk")
	}

	// A successful converging update drops what is pending.
	rec.Pending = &pendingChange{Want: "x"}
	rec.afterUpdate(outcome{}, plan.URL.ValueString(), false, plan)
	if rec.Pending != nil {
		t.Error("a successful update left a change pending")
	}
}
