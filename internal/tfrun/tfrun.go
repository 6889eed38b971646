// Package tfrun builds the provider binary and runs the Terraform (or
// OpenTofu) CLI against it in a scratch directory, with a generated CLI
// configuration whose dev_overrides point at the build: no registry, no
// network. Tests that need a real CLI process (signals, full logs) and the
// benchmark use it; terraform-plugin-testing covers the rest in-process.
package tfrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ProviderSource is the provider's registry address as configurations name it.
const ProviderSource = "isahit/isahitlab"

// CLIPath finds the Terraform CLI as terraform-plugin-testing does:
// TF_ACC_TERRAFORM_PATH, else terraform on PATH.
func CLIPath() (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		return "", errors.New("terraform not found: install Terraform 1.11 or later, or set TF_ACC_TERRAFORM_PATH")
	}
	return p, nil
}

// RepoRoot walks up from the working directory to the module root.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// BuildProvider compiles the provider into dir and returns the binary's path.
func BuildProvider(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "terraform-provider-isahitlab")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	return bin, nil
}

// Workspace is a directory with a configuration and the CLI settings to run
// Terraform on it against a local provider build.
type Workspace struct {
	Dir string
	CLI string
	// Env is added to the CLI's environment (after the process's own).
	Env []string
}

// NewWorkspace prepares dir so that the CLI takes the provider from
// providerDir (a directory holding terraform-provider-isahitlab).
func NewWorkspace(dir, cli, providerDir string) (*Workspace, error) {
	rc := filepath.Join(dir, ".terraformrc")
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
    "registry.opentofu.org/%s" = %q
  }
  direct {}
}
`, "registry.terraform.io/"+ProviderSource, providerDir, ProviderSource, providerDir)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return &Workspace{Dir: dir, CLI: cli, Env: []string{
		"TF_CLI_CONFIG_FILE=" + rc,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
	}}, nil
}

// requiredProviders maps the isahitlab name to our source; without it the
// CLI would look for hashicorp/isahitlab.
const requiredProviders = `terraform {
  required_providers {
    isahitlab = { source = "` + ProviderSource + `" }
  }
}
`

// WriteConfig writes main.tf: hcl after a required_providers block.
func (w *Workspace) WriteConfig(hcl string) error {
	return os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(requiredProviders+hcl), 0o600)
}

// Command is the CLI with args, ready to start in the workspace.
func (w *Workspace) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.CLI, args...)
	cmd.Dir = w.Dir
	cmd.Env = append(os.Environ(), w.Env...)
	return cmd
}

// Result is one CLI run's output.
type Result struct {
	Stdout, Stderr string
}

// Run runs the CLI to completion; the error carries its output.
func (w *Workspace) Run(ctx context.Context, args ...string) (Result, error) {
	cmd := w.Command(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := Result{Stdout: out.String(), Stderr: errOut.String()}
	if err != nil {
		return res, fmt.Errorf("%s %s: %v\n%s\n%s", filepath.Base(w.CLI), strings.Join(args, " "), err, res.Stdout, res.Stderr)
	}
	return res, nil
}
