package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

const (
	providerAddr = "registry.terraform.io/isahit/isahitlab"
	// providerVersion is the version the filesystem mirror offers; any will do, the
	// configuration asks for none.
	providerVersion = "0.0.1"
	// receiverToken is the header Isahit Lab sends as Authorization; the receiver checks it.
	receiverToken = "Bearer demo-receiver-token"
)

//go:embed config/main.tf
var mainTF []byte

type options struct {
	keep      bool   // keep the temporary directory
	color     bool   // let Terraform print colours
	terraform string // Terraform binary; "" means TF_ACC_TERRAFORM_PATH, then PATH
}

// result is what the demo observed, for its test.
type result struct {
	deliveries       int            // requests the receiver got
	deliveriesAuthOK int            // of which carried the configured Authorization header
	heldAfterApply   int            // batches holding the webhook after apply
	heldAfterDestroy int            // batches still holding a webhook after destroy
	outputs          map[string]any // `terraform output -json` values after the refresh
	tmpDir           string         // removed on return unless options.keep
}

// run is the whole demo. Each step prints a heading, then what it ran and saw; the first
// step that does not go as a working provider would make it fails the demo.
func run(ctx context.Context, w io.Writer, opts options) (res *result, err error) {
	out := &lockedWriter{w: w}
	res = &result{}

	tfBin, err := findTerraform(opts.terraform)
	if err != nil {
		return res, err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return res, err
	}
	tmp, err := os.MkdirTemp("", "isahitlab-demo-")
	if err != nil {
		return res, err
	}
	res.tmpDir = tmp
	defer func() {
		if opts.keep {
			fmt.Fprintf(out, "\nKept the working directory: %s\n", tmp)
			return
		}
		if rmErr := os.RemoveAll(tmp); rmErr != nil && err == nil {
			err = rmErr
		}
	}()

	step(out, "Building the provider")
	mirror := filepath.Join(tmp, "providers")
	binDir := filepath.Join(mirror, filepath.FromSlash(providerAddr), providerVersion, runtime.GOOS+"_"+runtime.GOARCH)
	bin := filepath.Join(binDir, "terraform-provider-isahitlab_v"+providerVersion+exeSuffix())
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "-ldflags", "-X main.version="+providerVersion, ".")
	build.Dir, build.Stdout, build.Stderr = root, out, out
	fmt.Fprintf(out, "$ go build -o %s .\n", bin)
	if err := build.Run(); err != nil {
		return res, fmt.Errorf("building the provider: %w", err)
	}

	step(out, "Starting the Isahit Lab emulator on loopback (in-process)")
	em := emulator.New(emulator.Options{})
	api := httptest.NewServer(em)
	defer api.Close()
	signs := em.AddProject("Street signs")
	signBatches := []string{
		em.AddBatch(signs, "Signs, Lyon"),
		em.AddBatch(signs, "Signs, Dakar"),
		em.AddBatch(signs, "Signs, Antananarivo"),
	}
	receipts := em.AddProject("Receipts")
	receiptsBatch := em.AddBatch(receipts, "Receipts, March")
	allBatches := append(append([]string(nil), signBatches...), receiptsBatch)
	fmt.Fprintf(out, "API at %s/\n", api.URL)
	fmt.Fprintf(out, "project %s \"Street signs\" with batches %s\n", signs, strings.Join(signBatches, ", "))
	fmt.Fprintf(out, "project %s \"Receipts\" with batch %s\n", receipts, receiptsBatch)

	step(out, "Starting a webhook receiver on loopback (answers 500 first, then 200)")
	rcv := &receiver{out: out, token: receiverToken}
	hooks := httptest.NewServer(rcv)
	defer hooks.Close()
	receiverURL := hooks.URL + "/hooks/isahit"
	fmt.Fprintf(out, "receiver at %s\n", receiverURL)

	step(out, "Writing a CLI config (provider from a local mirror, no registry) and main.tf")
	work := filepath.Join(tmp, "work")
	cliConfig := filepath.Join(tmp, "terraform.rc")
	vars := map[string]string{
		"project_id":          signs,
		"first_batch_id":      signBatches[0],
		"receipts_project_id": receipts,
		"receipts_batch_id":   receiptsBatch,
		"receiver_url":        receiverURL,
		"receiver_token":      receiverToken,
	}
	if err := writeFiles(work, cliConfig, mirror, vars); err != nil {
		return res, err
	}
	fmt.Fprintf(out, "%s\n%s\n", cliConfig, filepath.Join(work, "main.tf"))
	tf := &terraform{
		bin: tfBin, dir: work, out: out, color: opts.color,
		env: terraformEnv(os.Environ(), cliConfig, api.URL+"/"),
	}

	step(out, "terraform init")
	fmt.Fprintln(out, "(a warning about lock file checksums is expected: the provider comes from a local mirror)")
	if err := tf.run(ctx, "init", "-input=false"); err != nil {
		return res, err
	}

	step(out, "terraform apply")
	if err := tf.run(ctx, "apply", "-auto-approve", "-input=false"); err != nil {
		return res, err
	}
	fmt.Fprintln(out, "\nWhat the emulator now holds:")
	res.heldAfterApply = showWebhooks(out, em, allBatches)
	if res.heldAfterApply != len(allBatches) {
		return res, fmt.Errorf("after apply %d of %d batches hold a webhook", res.heldAfterApply, len(allBatches))
	}

	step(out, "terraform plan (a second plan must be empty)")
	code, err := tf.exitCode(ctx, "plan", "-detailed-exitcode", "-input=false")
	if err != nil {
		return res, err
	}
	if code != 0 {
		return res, fmt.Errorf("the plan right after apply is not empty (terraform plan -detailed-exitcode exited %d)", code)
	}

	step(out, "Isahit Lab delivers twice to the first batch's webhook")
	for i, job := range []string{"annotation", "review"} {
		task := fmt.Sprintf("6650c1f2a9b4ffff%08x", i+1)
		err := em.Deliver(ctx, signBatches[0], task, job)
		switch {
		case errors.Is(err, emulator.ErrDeliveryFailed):
			// Expected for the first one: Isahit Lab records it in lastError.
			fmt.Fprintf(out, "    %v (recorded in lastError)\n", err)
		case err != nil:
			return res, fmt.Errorf("delivery %d: %w", i+1, err)
		}
	}
	res.deliveries, res.deliveriesAuthOK = rcv.counts()
	if res.deliveries != 2 || res.deliveriesAuthOK != 2 {
		return res, fmt.Errorf("the receiver got %d deliveries, %d with the configured Authorization header; want 2 and 2",
			res.deliveries, res.deliveriesAuthOK)
	}

	step(out, "terraform apply -refresh-only (reads last_call and last_error back)")
	if err := tf.run(ctx, "apply", "-refresh-only", "-auto-approve", "-input=false"); err != nil {
		return res, err
	}

	step(out, "terraform output")
	if err := tf.run(ctx, "output"); err != nil {
		return res, err
	}
	if res.outputs, err = tf.outputs(ctx); err != nil {
		return res, err
	}
	if err := checkDeliveries(res.outputs); err != nil {
		return res, err
	}

	step(out, "terraform destroy (on_destroy = \"clear\" by default)")
	if err := tf.run(ctx, "destroy", "-auto-approve", "-input=false"); err != nil {
		return res, err
	}
	fmt.Fprintln(out, "\nWhat the emulator now holds:")
	res.heldAfterDestroy = showWebhooks(out, em, allBatches)
	if res.heldAfterDestroy != 0 {
		return res, fmt.Errorf("after destroy %d batches still hold a webhook", res.heldAfterDestroy)
	}

	if opts.keep {
		step(out, "Done: stopping the receiver and the emulator")
	} else {
		step(out, "Done: stopping the receiver and the emulator, removing the working directory")
	}
	return res, nil
}

func step(w io.Writer, title string) {
	fmt.Fprintf(w, "\n==> %s\n", title)
}

// findTerraform looks where terraform-plugin-testing looks, and never downloads.
func findTerraform(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		return "", errors.New("terraform not found: install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install) " +
			"and put it on PATH, or set TF_ACC_TERRAFORM_PATH")
	}
	return p, nil
}

// moduleRoot is the directory of the provider's go.mod, so the demo builds the same
// provider whether it runs from the repository root (make demo) or from its test.
func moduleRoot(ctx context.Context) (string, error) {
	b, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(b))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the demo from the provider's repository (make demo)")
	}
	return filepath.Dir(gomod), nil
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// writeFiles writes the configuration, its variables and a CLI config whose only provider
// source is the local mirror: `direct` excludes the provider, so Terraform never asks a registry.
func writeFiles(work, cliConfig, mirror string, vars map[string]string) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), mainTF, 0o644); err != nil {
		return err
	}
	tfvars, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "terraform.tfvars.json"), tfvars, 0o600); err != nil {
		return err
	}
	// Go's %q escapes are valid HCL string escapes (Windows paths included).
	rc := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
  direct {
    exclude = [%q]
  }
}
`, mirror, providerAddr, providerAddr)
	return os.WriteFile(cliConfig, []byte(rc), 0o644)
}

// showWebhooks prints each batch's webhook as the emulator holds it and counts those set.
func showWebhooks(w io.Writer, em *emulator.Emulator, batches []string) int {
	held := 0
	for _, id := range batches {
		b, ok := em.Batch(id)
		if !ok {
			fmt.Fprintf(w, "  batch %s: gone\n", id)
			continue
		}
		wh, ok := em.Webhook(b.WorkflowID)
		if !ok {
			fmt.Fprintf(w, "  batch %s %-22q no webhook\n", id, b.Name)
			continue
		}
		held++
		header := "no header"
		if wh.Header != nil {
			header = "Authorization header set"
		}
		fmt.Fprintf(w, "  batch %s %-22q %s (%s)\n", id, b.Name, wh.URL, header)
	}
	return held
}

// checkDeliveries checks that the refresh brought back what the receiver answered: the
// second delivery (200) as last_call and the first (500, with its JSON body) as last_error.
func checkDeliveries(outputs map[string]any) error {
	for _, name := range []string{"first_batch_webhook", "project_webhook"} {
		v := outputs[name]
		if got := asInt(dig(v, "last_call", "status_code")); got != 200 {
			return fmt.Errorf("output %s: last_call.status_code = %v, want 200", name, dig(v, "last_call", "status_code"))
		}
		if got := asInt(dig(v, "last_error", "status_code")); got != 500 {
			return fmt.Errorf("output %s: last_error.status_code = %v, want 500", name, dig(v, "last_error", "status_code"))
		}
		if body, _ := dig(v, "last_error", "body").(string); !strings.Contains(body, "receiver not ready") {
			return fmt.Errorf("output %s: last_error.body = %q, want the receiver's JSON body", name, body)
		}
	}
	return nil
}

// dig walks decoded JSON by object keys; a list on the way stands for its first element
// (a nested attribute may be a single object or a one-element list).
func dig(v any, keys ...string) any {
	for _, k := range keys {
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func asInt(v any) int {
	f, ok := v.(float64)
	if !ok {
		return 0
	}
	return int(f)
}

// lockedWriter serialises writes: the receiver prints from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
