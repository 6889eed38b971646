package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

const (
	testAccessID  = "test-access-id"
	testSecretKey = "s3cret-KEY-never-print-me"
	testUA        = "terraform-provider-isahitlab/0.0.0-test"
)

// newEmulator starts the emulator with the test credentials.
func newEmulator(t *testing.T, opts emulator.Options) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	if opts.AccessID == "" {
		opts.AccessID = testAccessID
	}
	if opts.SecretKey == "" {
		opts.SecretKey = testSecretKey
	}
	emu := emulator.New(opts)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv
}

// newTestClient returns a client for endpoint with fast retries; mod may
// change the config.
func newTestClient(t *testing.T, endpoint string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Endpoint:       endpoint,
		AccessID:       testAccessID,
		SecretKey:      testSecretKey,
		UserAgent:      testUA,
		RequestTimeout: 5 * time.Second,
		MaxRetries:     3,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// sleepRecorder replaces the client's sleep: it records waits and returns at
// once (or when ctx ends).
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// failFirst answers the first n requests to paths containing match with
// status (and Retry-After when retryAfter != ""), then hands over to next.
// It reads the body first and records it, so replays can be compared.
type failFirst struct {
	next       http.Handler
	match      string
	n          int32
	status     int
	retryAfter string

	seen   atomic.Int32
	mu     sync.Mutex
	bodies []string
}

func (f *failFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.Path, f.match) {
		f.next.ServeHTTP(w, r)
		return
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	if f.seen.Add(1) <= f.n {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"statusCode":` + strconv.Itoa(f.status) + `,"message":"injected"}`))
		return
	}
	f.next.ServeHTTP(w, r)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
