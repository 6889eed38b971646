package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// The tests run the engine against the real emulator, served in-process,
// behind a middleware (server below) that adds what the emulator cannot
// play: a server that rewrites the url (or drops the header) it stores,
// 404s for a batch the project still lists or for the project itself, 500s
// on setup-webhook, and hooks run on requests. What setup-webhook answers
// (stored / echo / empty / no-content / before) and batches without a
// workflow are the emulator's own (SetSetupAnswer, AddBatchWithoutWorkflow).

const (
	pathProjects = "/api/project-manager/projects"
	pathBatches  = "/api/task-manager/batches"
	pathWorkflow = "/api/workflow-manager/workflows/"
	pathSetup    = pathWorkflow + "setup-webhook"
)

// server is the middleware in front of the emulator.
type server struct {
	emu *emulator.Emulator

	mu          sync.Mutex
	answer      emulator.SetupAnswer  // the emulator's setup answer mode, as set by env.setAnswer
	rewriteURL  string                // when set, a successful set stores this url instead of the one sent
	dropHeader  bool                  // when set, a successful set stores no header
	batch404    map[string]bool       // batches B1 answers 404 for, while B2 still lists them
	project404  bool                  // P1 answers 404
	workflow404 map[string]bool       // workflows W1 answers 404 for
	patch500    map[string]bool       // workflow ids whose setup-webhook answers 500
	afterList   func()                // run once after a B2 answer was produced
	onRequest   func(r *http.Request) // run first on every request
	setup400    int                   // setup-webhook calls answered 400
	setupByWF   map[string]int        // setup-webhook calls per workflow (W2 and W3 alike)
	setupBodies []string              // setup-webhook request bodies, in order
}

func newServer(emu *emulator.Emulator) *server {
	return &server{emu: emu, answer: emulator.SetupAnswerStored, batch404: map[string]bool{},
		workflow404: map[string]bool{}, patch500: map[string]bool{}, setupByWF: map[string]int{}}
}

func (s *server) set(f func(s *server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	switch {
	case r.URL.Path == pathSetup && r.Method == http.MethodPatch:
		s.serveSetup(w, r)
	case r.URL.Path == pathProjects && r.Method == http.MethodGet:
		s.mu.Lock()
		gone := s.project404
		s.mu.Unlock()
		if gone {
			writeAPIError(w, http.StatusNotFound, "project not found")
			return
		}
		s.emu.ServeHTTP(w, r)
	case r.URL.Path == pathBatches && r.Method == http.MethodGet:
		s.serveList(w, r)
	case strings.HasPrefix(r.URL.Path, pathBatches+"/") && r.Method == http.MethodGet:
		s.mu.Lock()
		missing := s.batch404[strings.TrimPrefix(r.URL.Path, pathBatches+"/")]
		s.mu.Unlock()
		if missing {
			writeAPIError(w, http.StatusNotFound, "batch not found")
			return
		}
		s.emu.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, pathWorkflow) && r.Method == http.MethodGet:
		s.mu.Lock()
		missing := s.workflow404[strings.TrimPrefix(r.URL.Path, pathWorkflow)]
		s.mu.Unlock()
		if missing {
			writeAPIError(w, http.StatusNotFound, "workflow not found")
			return
		}
		s.emu.ServeHTTP(w, r)
	default:
		s.emu.ServeHTTP(w, r)
	}
}

func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg})
}

func copyAnswer(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func (s *server) serveList(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.emu.ServeHTTP(rec, r)
	s.mu.Lock()
	after := s.afterList
	s.afterList = nil
	s.mu.Unlock()
	if after != nil {
		after()
	}
	copyAnswer(w, rec, rec.Body.Bytes())
}

// workflowOf resolves the workflow a setup-webhook request writes.
func (s *server) workflowOf(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("workflowId"); id != "" {
		return id
	}
	b, _ := s.emu.Batch(q.Get("batchId"))
	return b.WorkflowID
}

// webhookJSON is a webhook object as W1 would show it.
func webhookJSON(h emulator.WebhookInfo, ok bool) []byte {
	if !ok {
		return []byte("null")
	}
	m := map[string]any{"url": h.URL, "header": h.Header, "updatedAt": h.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}
	if c := h.LastCall; c != nil {
		m["lastCall"] = map[string]any{"statusCode": c.StatusCode, "message": c.Message, "date": c.Date.UTC().Format("2006-01-02T15:04:05.000Z")}
	}
	if e := h.LastError; e != nil {
		m["lastError"] = map[string]any{"statusCode": e.StatusCode, "message": e.Message, "body": e.Body}
	}
	out, _ := json.Marshal(m)
	return out
}

func (s *server) serveSetup(w http.ResponseWriter, r *http.Request) {
	reqBody, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	wf := s.workflowOf(r)

	s.mu.Lock()
	s.setupBodies = append(s.setupBodies, string(reqBody))
	s.setupByWF[wf]++
	mode, rewrite, dropHeader, fail := s.answer, s.rewriteURL, s.dropHeader, s.patch500[wf]
	s.mu.Unlock()
	if fail {
		writeAPIError(w, http.StatusInternalServerError, "boom")
		return
	}

	rec := httptest.NewRecorder()
	s.emu.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusBadRequest {
		s.mu.Lock()
		s.setup400++
		s.mu.Unlock()
	}
	var sent struct {
		URL    *string `json:"url"`
		Header *string `json:"header"`
	}
	_ = json.Unmarshal(reqBody, &sent)
	if rec.Code/100 == 2 && sent.URL != nil && (rewrite != "" || dropHeader) {
		// The server stores something else than was sent; an answer of the
		// stored webhook shows it, the other answers do not.
		url, header := *sent.URL, sent.Header
		if rewrite != "" {
			url = rewrite
		}
		if dropHeader {
			header = nil
		}
		s.emu.SetWebhook(wf, url, header)
		if mode == emulator.SetupAnswerStored {
			body = webhookJSON(s.emu.Webhook(wf))
		}
	}
	copyAnswer(w, rec, body)
}

// env is a project of batches in the emulator, a client, and the middleware.
type env struct {
	emu     *emulator.Emulator
	srv     *server
	c       *client.Client
	project string
	batches []string
}

// newEnv: a project of n batches with their own workflows, plus shared
// batches that reuse the first batch's workflow.
func newEnv(t *testing.T, n, shared int) *env {
	t.Helper()
	emu := emulator.New(emulator.Options{AccessID: "a", SecretKey: "secret-key"})
	s := newServer(emu)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &env{emu: emu, srv: s, c: newClient(t, hs.URL), project: emu.AddProject("p")}
	for i := range n {
		e.batches = append(e.batches, emu.AddBatch(e.project, fmt.Sprintf("b%d", i)))
	}
	for i := range shared {
		e.batches = append(e.batches, emu.AddBatchWithWorkflow(e.project, fmt.Sprintf("s%d", i), e.wf(e.batches[0])))
	}
	return e
}

func newClient(t *testing.T, endpoint string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: endpoint, AccessID: "a", SecretKey: "secret-key", MaxRetries: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wf is a batch's workflow in the emulator.
func (e *env) wf(batch string) string {
	b, _ := e.emu.Batch(batch)
	return b.WorkflowID
}

// hook is the webhook a batch's workflow holds (ok false: none).
func (e *env) hook(batch string) (emulator.WebhookInfo, bool) {
	return e.emu.Webhook(e.wf(batch))
}

func (e *env) url(batch string) string {
	h, _ := e.hook(batch)
	return h.URL
}

// addBatchWithoutWorkflow adds a batch whose documents carry no workflow and
// which setup-webhook by batchId refuses with 400.
func (e *env) addBatchWithoutWorkflow(name string) string {
	return e.emu.AddBatchWithoutWorkflow(e.project, name)
}

// setAnswer switches what setup-webhook answers.
func (e *env) setAnswer(t *testing.T, mode emulator.SetupAnswer) {
	t.Helper()
	if err := e.emu.SetSetupAnswer(mode); err != nil {
		t.Fatal(err)
	}
	e.srv.set(func(s *server) { s.answer = mode })
}

// writes is the number of setup-webhook calls the emulator received.
func (e *env) writes() int {
	c := e.emu.Calls()
	return c["W2"] + c["W3"]
}

var opts = Options{Concurrency: 4}

func ptr(s string) *string { return &s }

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	return fmt.Sprint(sorted(a)) == fmt.Sprint(sorted(b))
}

// set runs Set on the env's project and fails the test on an error.
func (e *env) set(t *testing.T, want Want) SetResult {
	t.Helper()
	res, err := Set(context.Background(), e.c, Target{ProjectID: e.project}, want, nil, opts)
	if err != nil || res.Err() != nil {
		t.Fatalf("Set: %v / %v", err, res.Err())
	}
	return res
}
