package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// Acceptance tests run the real Terraform CLI (terraform-plugin-testing)
// against the provider served in-process, which talks to an emulator of the
// Isahit Lab API on loopback. `make test` sets TF_ACC.

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"isahitlab": providerserver.NewProtocol6WithError(New("test")()),
}

const (
	testAccessID  = "acc-access-id"
	testSecretKey = "acc-secret-key-0123456789"
)

// envSeq numbers the test environments (see newTestEnv).
var envSeq atomic.Int64

// testEnv is one emulator with one seeded project.
type testEnv struct {
	emu     *emulator.Emulator
	url     string
	project string
	batches []string
	// intercept, when set, may answer a request in the emulator's place
	// (returning true): faults the emulator has no switch for.
	intercept atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

// newTestEnv starts an emulator with a project of n batches, each with its
// own workflow.
func newTestEnv(t *testing.T, n int) *testEnv {
	t.Helper()
	emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey})
	env := &testEnv{emu: emu, project: emu.AddProject("acceptance")}
	// A path of its own makes each emulator's endpoint unique even when a
	// port is reused, so no test starts from a pace another test's emulator
	// taught the provider (the pace is kept per endpoint and access id).
	prefix := fmt.Sprintf("/env-%d", envSeq.Add(1))
	srv := httptest.NewServer(http.StripPrefix(prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := env.intercept.Load(); f != nil && (*f)(w, r) {
			return
		}
		emu.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	env.url = srv.URL + prefix + "/"
	for i := range n {
		env.batches = append(env.batches, emu.AddBatch(env.project, fmt.Sprintf("batch-%d", i+1)))
	}
	return env
}

// provider is the provider block pointing at this emulator.
func (e *testEnv) provider() string { return e.providerWith("") }

// providerWith is the provider block with extra arguments, less the named ones.
func (e *testEnv) providerWith(extra string, drop ...string) string {
	args := map[string]string{"endpoint": e.url, "access_id": testAccessID, "secret_key": testSecretKey}
	var b strings.Builder
	b.WriteString("\nprovider \"isahitlab\" {\n")
	for _, k := range []string{"endpoint", "access_id", "secret_key"} {
		if !slices.Contains(drop, k) {
			fmt.Fprintf(&b, "  %s = %q\n", k, args[k])
		}
	}
	b.WriteString("  " + extra + "\n}\n")
	return b.String()
}

func (e *testEnv) workflowOf(t *testing.T, batchID string) string {
	t.Helper()
	b, ok := e.emu.Batch(batchID)
	if !ok {
		t.Fatalf("emulator has no batch %s", batchID)
	}
	return b.WorkflowID
}

// webhookURL returns the url the emulator holds for a batch, "" when none.
func (e *testEnv) webhookURL(t *testing.T, batchID string) string {
	t.Helper()
	w, ok := e.emu.Webhook(e.workflowOf(t, batchID))
	if !ok {
		return ""
	}
	return w.URL
}

func (e *testEnv) webhookHeader(t *testing.T, batchID string) string {
	t.Helper()
	w, ok := e.emu.Webhook(e.workflowOf(t, batchID))
	if !ok || w.Header == nil {
		return ""
	}
	return *w.Header
}

func strPtr(s string) *string { return &s }
