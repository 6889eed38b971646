package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// api drives an emulator over real HTTP, as the client will.
type api struct {
	t     *testing.T
	e     *emulator.Emulator
	srv   *httptest.Server
	hc    *http.Client
	token string
}

func newAPI(t *testing.T, opts emulator.Options) *api {
	t.Helper()
	e := emulator.New(opts)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &api{t: t, e: e, srv: srv, hc: srv.Client()}
}

// base is the endpoint with its trailing slash; contract paths are relative to it.
func (a *api) base() string { return a.srv.URL + "/" }

func (a *api) loginForm(id, key string) (int, []byte) {
	a.t.Helper()
	form := url.Values{"access_id": {id}, "secret_key": {key}}
	resp, err := a.hc.Post(a.base()+"api/user-manager/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// login logs in with the default credentials and keeps the token for do.
func (a *api) login() {
	a.t.Helper()
	status, b := a.loginForm(emulator.DefaultAccessID, emulator.DefaultSecretKey)
	if status != http.StatusCreated {
		a.t.Fatalf("login: status %d, body %s", status, b)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	mustJSON(a.t, b, &tok)
	a.token = tok.AccessToken
}

// do sends an authenticated request; a non-nil body is sent as JSON (a string as is).
func (a *api) do(method, path string, body any) (int, http.Header, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				a.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, a.base()+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// get is do(GET) that expects 200 and decodes the body into v (when non-nil).
func (a *api) get(path string, v any) []byte {
	a.t.Helper()
	status, _, b := a.do(http.MethodGet, path, nil)
	if status != http.StatusOK {
		a.t.Fatalf("GET %s: status %d, want 200; body %s", path, status, b)
	}
	if v != nil {
		mustJSON(a.t, b, v)
	}
	return b
}

func (a *api) setup(query string, body any, want int) []byte {
	a.t.Helper()
	status, _, b := a.do(http.MethodPatch, "api/workflow-manager/workflows/setup-webhook?"+query, body)
	if status != want {
		a.t.Fatalf("setup-webhook ?%s: status %d, want %d; body %s", query, status, want, b)
	}
	return b
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// page is the pagination envelope as the contract describes it.
type page struct {
	Docs          []map[string]any `json:"docs"`
	TotalDocs     int              `json:"totalDocs"`
	Limit         int              `json:"limit"`
	TotalPages    int              `json:"totalPages"`
	Page          int              `json:"page"`
	PagingCounter int              `json:"pagingCounter"`
	HasPrevPage   bool             `json:"hasPrevPage"`
	HasNextPage   bool             `json:"hasNextPage"`
	PrevPage      *int             `json:"prevPage"`
	NextPage      *int             `json:"nextPage"`
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["_id"].(string)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func errMessage(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	mustJSON(t, b, &e)
	if e.StatusCode == 0 || e.Message == "" {
		t.Fatalf("error body %s lacks statusCode/message", b)
	}
	return e.Message
}
