package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestDemo runs `make demo` as a test, so the README's first command keeps working: the real
// Terraform CLI, the provider built from this tree, the in-process emulator and receiver.
func TestDemo(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 (make test does) to run the demo with the real Terraform CLI")
	}
	var out bytes.Buffer
	res, err := run(t.Context(), &out, options{})
	if err != nil {
		t.Fatalf("demo failed: %v\n--- output ---\n%s", err, out.String())
	}
	if res.deliveries != 2 || res.deliveriesAuthOK != 2 {
		t.Errorf("receiver got %d deliveries, %d with the right Authorization; want 2 and 2", res.deliveries, res.deliveriesAuthOK)
	}
	if res.heldAfterApply != 4 || res.heldAfterDestroy != 0 {
		t.Errorf("batches holding a webhook: %d after apply, %d after destroy; want 4 and 0", res.heldAfterApply, res.heldAfterDestroy)
	}
	if body, _ := dig(res.outputs["first_batch_webhook"], "last_error", "body").(string); !strings.Contains(body, "receiver not ready") {
		t.Errorf("last_error.body after refresh = %q, want the receiver's JSON body", body)
	}
	// What a user sees must include the refreshed delivery results.
	for _, want := range []string{"==> terraform output", `"status_code" = 500`, `"status_code" = 200`, "Destroy complete!"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if _, err := os.Stat(res.tmpDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("working directory %s left behind (stat: %v)", res.tmpDir, err)
	}
}

// TestCheckDeliveries guards the demo's own check: outputs without the receiver's answers must fail it.
func TestCheckDeliveries(t *testing.T) {
	good := map[string]any{
		"status_code": float64(200),
	}
	bad := map[string]any{"status_code": float64(500), "body": `{"error":"receiver not ready"}`}
	ok := map[string]any{"last_call": good, "last_error": bad}
	if err := checkDeliveries(map[string]any{"first_batch_webhook": ok, "project_webhook": ok}); err != nil {
		t.Fatalf("expected outputs refused: %v", err)
	}
	noError := map[string]any{"last_call": good}
	if err := checkDeliveries(map[string]any{"first_batch_webhook": ok, "project_webhook": noError}); err == nil {
		t.Fatal("outputs without last_error accepted")
	}
	// A one-element list stands for the nested object.
	listed := map[string]any{"last_call": []any{good}, "last_error": []any{bad}}
	if err := checkDeliveries(map[string]any{"first_batch_webhook": listed, "project_webhook": listed}); err != nil {
		t.Fatalf("list-shaped outputs refused: %v", err)
	}
}
