package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

// A state written by the provider before schema version 1 (batch_ids, no
// scope or header_mode, the old private keys) is carried forward: the plan
// is empty, the new attributes are filled in, and destroy still clears the
// url the old private state recorded.
func TestCLI_stateVersion0Upgrades(t *testing.T) {
	ws := cliWorkspace(t)
	emu := emulator.New(emulator.Options{AccessID: "id", SecretKey: "key"})
	project := emu.AddProject("p")
	batches := map[string]any{}
	for i := range 3 {
		b := emu.AddBatch(project, fmt.Sprintf("b%d", i))
		wf := mustBatch(t, emu, b).WorkflowID
		emu.SetWebhook(wf, "https://hooks.example.com/v0", nil)
		batches[b] = wf
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
  url        = "https://hooks.example.com/v0"
}
`, srv.URL, project)); err != nil {
		t.Fatal(err)
	}

	// The private state of version 0: JSON values, base64 in a JSON map.
	private, _ := json.Marshal(map[string][]byte{
		"applied_url":       []byte(`"https://hooks.example.com/v0"`),
		"header_write_only": []byte("0"),
		"out_of_step":       []byte("[]"),
	})
	host := "registry.terraform.io"
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		host = h
	}
	state := map[string]any{
		"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "7d0ad3c8-0000-4000-8000-000000000000",
		"outputs": map[string]any{},
		"resources": []any{map[string]any{
			"mode": "managed", "type": "isahitlab_webhook", "name": "all",
			"provider": fmt.Sprintf(`provider["%s/%s"]`, host, tfrun.ProviderSource),
			"instances": []any{map[string]any{
				"schema_version": 0,
				"attributes": map[string]any{
					"id": project, "project_id": project, "batch_id": nil, "workflow_id": nil,
					"url": "https://hooks.example.com/v0", "header": nil, "header_wo": nil, "header_wo_version": nil,
					"on_destroy": "clear", "updated_at": nil, "last_call": nil, "last_error": nil,
					"batch_ids": batches, "batches_out_of_step": 0, "timeouts": nil,
				},
				"sensitive_attributes": []any{},
				"private":              base64.StdEncoding.EncodeToString(private),
			}},
		}},
		"check_results": nil,
	}
	raw, _ := json.Marshal(state)
	if err := os.WriteFile(filepath.Join(ws.Dir, "terraform.tfstate"), raw, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	if res, err := ws.Run(ctx, "plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("the plan after the upgrade is not empty: %v\n%s", err, res.Stdout)
	}
	if _, err := ws.Run(ctx, "apply", "-refresh-only", "-auto-approve", "-no-color"); err != nil {
		t.Fatal(err)
	}
	pulled, err := ws.Run(ctx, "state", "pull")
	if err != nil {
		t.Fatal(err)
	}
	compact := strings.ReplaceAll(pulled.Stdout, `": `, `":`) // OpenTofu writes compact JSON
	for _, want := range []string{`"schema_version":1`, `"scope":"project"`, `"header_mode":"none"`, `"batch_count":3`, `"out_of_step":0`} {
		if !strings.Contains(compact, want) {
			t.Errorf("upgraded state lacks %s:\n%s", want, pulled.Stdout)
		}
	}
	if strings.Contains(pulled.Stdout, "batch_ids") || strings.Contains(pulled.Stdout, "batches_out_of_step") {
		t.Errorf("upgraded state keeps a version 0 attribute")
	}
	if _, err := ws.Run(ctx, "destroy", "-auto-approve", "-no-color"); err != nil {
		t.Fatal(err)
	}
	for b, wf := range batches {
		if w, ok := emu.Webhook(fmt.Sprint(wf)); ok {
			t.Errorf("batch %s still holds %q after destroy", b, w.URL)
		}
	}
}
