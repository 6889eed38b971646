package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// terraform runs the Terraform CLI in the demo's working directory.
type terraform struct {
	bin   string
	dir   string
	env   []string
	out   io.Writer
	color bool
}

func (t *terraform) command(ctx context.Context, args ...string) *exec.Cmd {
	if !t.color {
		args = append(args, "-no-color")
	}
	c := exec.CommandContext(ctx, t.bin, args...)
	c.Dir, c.Env = t.dir, t.env
	// On Ctrl-C the terminal has already interrupted Terraform (same process group), and a
	// second interrupt would make it quit without stopping its provider. Interrupt it only if
	// it is still running a while later (the demo alone was signalled), kill it as a last resort.
	c.Cancel = func() error {
		p := c.Process
		time.AfterFunc(5*time.Second, func() { _ = p.Signal(os.Interrupt) })
		return nil
	}
	c.WaitDelay = 30 * time.Second
	return c
}

// run streams a command's output and fails on a non-zero exit.
func (t *terraform) run(ctx context.Context, args ...string) error {
	code, err := t.exitCode(ctx, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("terraform %s exited %d", strings.Join(args, " "), code)
	}
	return err
}

// exitCode streams a command's output and returns its exit code (plan -detailed-exitcode
// uses 2 for "changes"); err is for failing to run it at all or an interruption.
func (t *terraform) exitCode(ctx context.Context, args ...string) (int, error) {
	fmt.Fprintf(t.out, "$ terraform %s\n", strings.Join(args, " "))
	c := t.command(ctx, args...)
	c.Stdout, c.Stderr = t.out, t.out
	err := c.Run()
	if ctx.Err() != nil {
		return -1, fmt.Errorf("terraform %s: interrupted", args[0])
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("terraform %s: %w", args[0], err)
	}
	return 0, nil
}

// outputs returns the root module's output values.
func (t *terraform) outputs(ctx context.Context) (map[string]any, error) {
	c := t.command(ctx, "output", "-json")
	c.Stderr = t.out
	b, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("terraform output -json: %w", err)
	}
	var raw map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("terraform output -json: %w", err)
	}
	vals := make(map[string]any, len(raw))
	for k, v := range raw {
		vals[k] = v.Value
	}
	return vals, nil
}

// terraformEnv is the caller's environment minus what would change how Terraform finds the
// provider, its state or its inputs, plus the demo's CLI config and API settings.
func terraformEnv(base []string, cliConfig, endpoint string) []string {
	drop := []string{
		"TF_CLI_CONFIG_FILE=", "TF_CLI_ARGS", "TF_DATA_DIR=", "TF_WORKSPACE=", "TF_PLUGIN_CACHE_DIR=",
		"TF_REATTACH_PROVIDERS=", "TF_VAR_", "ISAHIT_LAB_API_",
	}
	env := make([]string, 0, len(base)+8)
next:
	for _, kv := range base {
		for _, p := range drop {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1", // no version check against checkpoint-api.hashicorp.com
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"ISAHIT_LAB_API_ENDPOINT="+endpoint,
		"ISAHIT_LAB_API_ACCESS_ID="+emulator.DefaultAccessID,
		"ISAHIT_LAB_API_SECRET_KEY="+emulator.DefaultSecretKey,
	)
}
