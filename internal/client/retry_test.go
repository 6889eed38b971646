package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	lo, hi := 100*time.Millisecond, time.Second
	for n, wantCeil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second, 5000: time.Second} {
		if got := backoff(n, lo, hi, 0); got != lo {
			t.Errorf("backoff(%d, u=0) = %v, want the minimum %v", n, got, lo)
		}
		if got := backoff(n, lo, hi, 0.999999); got < wantCeil-time.Millisecond || got > wantCeil {
			t.Errorf("backoff(%d, u=1) = %v, want about %v", n, got, wantCeil)
		}
		if got := backoff(n, lo, hi, 0.5); got <= lo && wantCeil > lo {
			t.Errorf("backoff(%d, u=0.5) = %v: no jitter", n, got)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"1":                                time.Second,
		" 120 ":                            2 * time.Minute,
		"0":                                0,
		"1.5":                              1500 * time.Millisecond,
		"Thu, 02 Jan 2025 03:04:15 GMT":    10 * time.Second,
		"Thu, 02 Jan 2025 03:04:00 GMT":    0, // in the past
		"Thursday, 02-Jan-25 03:04:15 GMT": 10 * time.Second,
	} {
		got, ok := parseRetryAfter(v, now)
		if !ok || got != want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "soon", "-3", "NaN"} {
		if _, ok := parseRetryAfter(v, now); ok {
			t.Errorf("parseRetryAfter(%q) accepted", v)
		}
	}
	if got, _ := parseRetryAfter("1e300", now); got != 24*time.Hour {
		t.Errorf("huge value not clamped: %v", got)
	}
}

func TestRateLimitedForeverIsErrRateLimited(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "login") {
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"access_token":"tok-abcdefgh","expires_in":3600}`))
			return
		}
		n.Add(1)
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(429)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 2 })
	c.sleep = (&sleepRecorder{}).sleep
	_, err := c.GetBatch(context.Background(), "b")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if n.Load() != 3 {
		t.Fatalf("attempts = %d, want 3", n.Load())
	}
}

func TestLoginRetriedOnServerErrorNotOnRefusal(t *testing.T) {
	t.Parallel()
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "login") {
			if r.Header.Get("Authorization") != "" {
				t.Errorf("login sent an Authorization header")
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("login Content-Type %q", ct)
			}
			_ = r.ParseForm()
			if r.PostForm.Get("access_id") != testAccessID || r.PostForm.Get("secret_key") != testSecretKey {
				t.Errorf("login form %v", r.PostForm)
			}
			if logins.Add(1) <= 2 {
				w.WriteHeader(502)
				return
			}
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"access_token":"tok-abcdefgh","expires_in":"3600"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok-abcdefgh" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"_id":"b","name":"n"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	if logins.Load() != 3 {
		t.Fatalf("logins = %d, want 3 (two 502s retried)", logins.Load())
	}
	if st := c.Stats(); st.Logins != 1 || st.Requests != 4 || st.Retries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoginAnswerWithoutToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"expires_in":3600}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetBatch(context.Background(), "b"); err == nil || !strings.Contains(err.Error(), "no access_token") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenewAt(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	for ttl, want := range map[time.Duration]time.Duration{
		time.Hour:        time.Hour - 30*time.Second, // capped margin
		time.Minute:      54 * time.Second,           // 10%
		time.Second:      900 * time.Millisecond,
		10 * time.Minute: 9*time.Minute + 30*time.Second,
	} {
		if got := renewAt(t0, ttl).Sub(t0); got != want {
			t.Errorf("renewAt(ttl %v) = +%v, want +%v", ttl, got, want)
		}
	}
}
