package client

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestLogsPerRequestAndOnRetry(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	emu.SetFaults(emulator.Faults{FailRate: 1})
	c.sleep = (&sleepRecorder{}).sleep
	_, _ = c.GetBatch(ctx, b)

	entries, err := tflogtest.MultilineJSONDecode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var debug, warn int
	for _, e := range entries {
		switch e["@level"] {
		case "debug":
			if e["@message"] != "Isahit Lab API request" {
				continue
			}
			debug++
			for _, k := range []string{"method", "path", "status", "attempt", "duration_ms"} {
				if _, ok := e[k]; !ok {
					t.Fatalf("debug line without %q: %v", k, e)
				}
			}
		case "warn":
			warn++
			for _, k := range []string{"method", "path", "attempt", "wait_ms", "reason"} {
				if _, ok := e[k]; !ok {
					t.Fatalf("warn line without %q: %v", k, e)
				}
			}
		}
	}
	// Login + B1, then 4 failing B1 attempts with 3 retries between.
	if debug != 6 || warn != 3 {
		t.Fatalf("debug lines %d, warn lines %d; want 6 and 3\n%s", debug, warn, buf.String())
	}
}

func TestNoSecretInLogsAtTrace(t *testing.T) {
	t.Parallel()
	const header = "Bearer hdrsecret0123456789"
	const outOfBand = "Basic oob-secret-abcdef"
	emu, srv := newEmulator(t, emulator.Options{})
	p := emu.AddProject("p")
	b := emu.AddBatch(p, "b")
	info, _ := emu.Batch(b)
	b2 := emu.AddBatch(p, "b2")
	info2, _ := emu.Batch(b2)
	emu.SetWebhook(info2.WorkflowID, "https://r.example", ptr(outOfBand))

	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	c := newTestClient(t, srv.URL, nil)
	c.sleep = (&sleepRecorder{}).sleep

	if _, err := c.SetupWebhook(ctx, Target{BatchID: b}, WebhookSetting{URL: "https://r.example", Header: ptr(header)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWorkflow(ctx, info.WorkflowID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWorkflow(ctx, info2.WorkflowID); err != nil {
		t.Fatal(err)
	}
	// Secrets in a logged field (the path): a search for them, and a retry
	// whose reason quotes the failing path.
	for _, s := range []string{"hdrsecret0123456789", "oob-secret-abcdef"} {
		_ = c.ListBatches(ctx, BatchFilter{ProjectID: p, Search: s}, func(Batch) error { return nil })
	}
	emu.SetFaults(emulator.Faults{FailRate: 1})
	_ = c.ListBatches(ctx, BatchFilter{ProjectID: p, Search: testSecretKey}, func(Batch) error { return nil })
	emu.SetFaults(emulator.Faults{})
	emu.ExpireTokens() // a 401 and a second login
	if _, err := c.GetBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	// A caller logging through MaskContext is masked too.
	tflog.Info(c.MaskContext(ctx), "caller says "+header, map[string]any{"value": outOfBand + " " + testSecretKey})

	c.auth.mu.Lock()
	token := c.auth.cur.String()
	c.auth.mu.Unlock()
	out := buf.String()
	if !strings.Contains(out, "Isahit Lab API request") || !strings.Contains(out, "search=***") {
		t.Fatalf("expected masked request lines, got:\n%s", out)
	}
	for _, s := range []string{testSecretKey, token, header, "hdrsecret0123456789", outOfBand, "oob-secret-abcdef"} {
		if strings.Contains(out, s) {
			t.Fatalf("log output contains %q:\n%s", s, out)
		}
	}
}
