package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRefusals(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"projects":[{"name":"x","status":"bogus"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", ":0"},
		{"-addr", "example.com:80"},
		{"-seed-file", seed, "-batches", "2"},
		{"-seed-file", seed},
		{"-fail-rate", "1.5"},
		{"-page-cap", "0"},
		{"-batches", "-1"},
		{"stray"},
	} {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), append(args, "-addr", firstAddr(args)), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
	if !isLoopback("127.0.0.1:8080") || !isLoopback("[::1]:0") || !isLoopback("localhost:1") || isLoopback("10.0.0.1:80") {
		t.Fatal("isLoopback")
	}
}

// firstAddr keeps a test's -addr (flags parse last-wins) or a loopback one.
func firstAddr(args []string) string {
	for i, a := range args {
		if a == "-addr" {
			return args[i+1]
		}
	}
	return "127.0.0.1:0"
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeReadyFileAndStop(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready.json")
	seed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seed, []byte(`{"projects":[{"name":"Cats","batches":[{"name":"a"},{"name":"b","same_workflow_as":"a"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-ready-file", ready, "-seed-file", seed, "-secret-key", "sk", "-log-requests"}, &out, &errOut)
	}()
	var doc readyDoc
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil {
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("ready file not whole JSON: %v", err)
			}
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no ready file; stderr %s", errOut.String())
		}
	}
	if !strings.HasPrefix(doc.Endpoint, "http://127.0.0.1:") || !strings.HasSuffix(doc.Endpoint, "/") || doc.AccessID != "demo-access-id" {
		t.Fatalf("ready %+v", doc)
	}
	if len(doc.Projects) != 1 || doc.Projects[0].ID != "6650c1f2a9b4000000000001" || len(doc.Projects[0].Batches) != 2 ||
		doc.Projects[0].Batches[0].WorkflowID != doc.Projects[0].Batches[1].WorkflowID {
		t.Fatalf("ready projects %+v", doc.Projects)
	}
	resp, err := http.PostForm(doc.Endpoint+"api/user-manager/auth/login", url.Values{"access_id": {"demo-access-id"}, "secret_key": {"sk"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if strings.TrimSpace(out.String()) != doc.Endpoint {
		t.Fatalf("stdout %q, want the endpoint", out.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; stderr %s", code, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop")
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Fatalf("ready file left behind: %v", err)
	}
	if log := errOut.String(); !strings.Contains(log, "POST /api/user-manager/auth/login 201") || strings.Contains(log, "secret_key") {
		t.Fatalf("request log %q", log)
	}
}

func TestFaultAndAnswerFlags(t *testing.T) {
	c, err := parseFlags([]string{"-revoke-tokens-every", "3", "-setup-answer", "echo"}, &bytes.Buffer{})
	if err != nil || c.revokeEvery != 3 || c.setupAnswer != "echo" {
		t.Fatalf("parseFlags: %+v, %v", c, err)
	}
	if c, err := parseFlags(nil, &bytes.Buffer{}); err != nil || c.revokeEvery != 0 || c.setupAnswer != "stored" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for _, args := range [][]string{{"-revoke-tokens-every", "-1"}, {"-setup-answer", "bogus"}} {
		var errOut bytes.Buffer
		if code := run(t.Context(), append(args, "-addr", "127.0.0.1:0"), &bytes.Buffer{}, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestServeAppliesFaultAndAnswerFlags(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	var errOut syncBuffer
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-ready-file", ready, "-revoke-tokens-every", "2", "-setup-answer", "no-content"}, &bytes.Buffer{}, &errOut)
	}()
	var doc readyDoc
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && json.Unmarshal(b, &doc) == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no ready file; stderr %s", errOut.String())
		}
	}
	get := func(route string, v any) {
		t.Helper()
		resp, err := http.Get(doc.Endpoint + "_emulator/" + route)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var faults struct {
		RevokeTokensEvery int `json:"revokeTokensEvery"`
	}
	var settings struct {
		SetupAnswer string `json:"setupAnswer"`
	}
	get("faults", &faults)
	get("settings", &settings)
	if faults.RevokeTokensEvery != 2 || settings.SetupAnswer != "no-content" {
		t.Fatalf("faults %+v, settings %+v", faults, settings)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut.String())
	}
}
