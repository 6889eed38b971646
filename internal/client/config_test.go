package client

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewNormalisesEndpoint(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                             DefaultEndpoint,
		"https://hub-api.isahit.com":   "https://hub-api.isahit.com/",
		"https://host/prefix":          "https://host/prefix/",
		"https://host/prefix/":         "https://host/prefix/",
		"http://127.0.0.1:8080/a/b":    "http://127.0.0.1:8080/a/b/",
		"HTTPS://Host.Example:443/api": "https://Host.Example:443/api/",
	} {
		c, err := New(Config{Endpoint: in})
		if err != nil {
			t.Fatalf("New(%q): %v", in, err)
		}
		if c.Endpoint() != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, c.Endpoint(), want)
		}
	}
	for _, bad := range []string{"hub-api.isahit.com", "ftp://host/", "https://", "http:///path", " https://host", "https://host/ x", "https://host/?q=1", "https://host/#f", "://x", "https://ho st"} {
		_, err := New(Config{Endpoint: bad})
		if err == nil {
			t.Errorf("New(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %q", err, bad)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(Config{MaxRetries: -3, RetryWaitMin: time.Second, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.cfg
	if cfg.RequestTimeout != 30*time.Second || cfg.MaxRetries != 0 || cfg.MaxConcurrency != 8 || cfg.PageSize != 100 || cfg.UserAgent == "" {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		t.Fatalf("max %v below min %v", cfg.RetryWaitMax, cfg.RetryWaitMin)
	}
	c, _ = New(Config{})
	if c.cfg.RetryWaitMin != 200*time.Millisecond || c.cfg.RetryWaitMax != 30*time.Second {
		t.Fatalf("wait defaults %v %v", c.cfg.RetryWaitMin, c.cfg.RetryWaitMax)
	}
}

func TestTransportSizedForConcurrency(t *testing.T) {
	t.Parallel()
	c, err := New(Config{MaxConcurrency: 32})
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", c.http.Transport)
	}
	if tr.MaxIdleConnsPerHost < 32 || tr.MaxIdleConns < 32 {
		t.Fatalf("idle conns per host %d, total %d; want >= 32", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
	if c.MaxConcurrency() != 32 {
		t.Fatalf("MaxConcurrency() = %d", c.MaxConcurrency())
	}
	hc := &http.Client{}
	c, _ = New(Config{HTTPClient: hc})
	if c.http != hc {
		t.Fatal("Config.HTTPClient not used")
	}
}
