package emulator_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestRevokeTokensEvery(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{RevokeTokensEvery: 3}})
	p := a.e.AddProject("p")
	path := "api/project-manager/projects?pagination=true&ids=" + p

	// Unauthorized requests do not count towards K.
	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
	a.login()
	for i := range 3 { // the third completes the count and is still served
		if status, _, b := a.do(http.MethodGet, path, nil); status != http.StatusOK {
			t.Fatalf("request %d with a live token: %d %s", i+1, status, b)
		}
	}
	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("after 3 authorized requests: %d, want 401 (revoked)", status)
	}
	if c := a.e.Calls(); c["revocations"] != 1 || c["401"] != 2 {
		t.Fatalf("calls %v", c)
	}

	// Every live token goes, and K counts requests of all tokens together.
	a.login()
	first := a.token
	a.login()
	second := a.token
	for _, tok := range []string{first, second, first} {
		a.token = tok
		if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusOK {
			t.Fatalf("token in use: %d", status)
		}
	}
	for _, tok := range []string{first, second} {
		a.token = tok
		if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
			t.Fatalf("a token survived the revocation: %d", status)
		}
	}
	// A freshly issued token may die before its first use.
	a.login()
	fresh := a.token
	a.login()
	for range 3 {
		a.get(path, nil)
	}
	a.token = fresh
	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("unused fresh token after a revocation: %d", status)
	}

	// SetFaults restarts the count; 0 turns the fault off.
	a.login()
	a.get(path, nil)
	a.get(path, nil)
	a.e.SetFaults(emulator.Faults{RevokeTokensEvery: 3})
	a.get(path, nil)
	a.get(path, nil) // 2 since SetFaults: still alive
	a.e.SetFaults(emulator.Faults{RevokeTokensEvery: -1})
	if f := a.e.CurrentFaults(); f.RevokeTokensEvery != 0 {
		t.Fatalf("negative not clamped: %+v", f)
	}
	for range 10 {
		a.get(path, nil)
	}
}

// Under concurrency, each generation of tokens serves exactly K requests.
func TestRevokeTokensEveryConcurrent(t *testing.T) {
	t.Parallel()
	const k, workers, each = 4, 8, 25
	a := newAPI(t, emulator.Options{Faults: emulator.Faults{RevokeTokensEvery: k}})
	p := a.e.AddProject("p")
	path := "api/project-manager/projects?pagination=true&ids=" + p
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			w := &api{t: t, e: a.e, srv: a.srv, hc: a.hc}
			w.login()
			for done := 0; done < each; {
				status, _, _ := w.do(http.MethodGet, path, nil)
				switch status {
				case http.StatusOK:
					done++
					ok.Add(1)
				case http.StatusUnauthorized:
					w.login()
				default:
					t.Errorf("status %d", status)
					return
				}
			}
		})
	}
	wg.Wait()
	c := a.e.Calls()
	if ok.Load() != workers*each || c["revocations"] != workers*each/k {
		t.Fatalf("%d served, calls %v: want %d revocations", ok.Load(), c, workers*each/k)
	}
}

func TestRevokeTokensEveryAdminRoute(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	status, b := adminDo(t, a, http.MethodPut, "faults", `{"revokeTokensEvery":5}`)
	if status != http.StatusOK || a.e.CurrentFaults().RevokeTokensEvery != 5 {
		t.Fatalf("set: %d %s", status, b)
	}
	var got struct {
		RevokeTokensEvery int `json:"revokeTokensEvery"`
	}
	_, b = adminDo(t, a, http.MethodGet, "faults", "")
	mustJSON(t, b, &got)
	if got.RevokeTokensEvery != 5 {
		t.Fatalf("GET faults %s", b)
	}
	if status, _ := adminDo(t, a, http.MethodPut, "faults", `{"revokeTokensEvery":-2}`); status != http.StatusBadRequest {
		t.Fatalf("negative: %d", status)
	}
	if a.e.CurrentFaults().RevokeTokensEvery != 5 {
		t.Fatal("a refused setting changed the faults")
	}
}
