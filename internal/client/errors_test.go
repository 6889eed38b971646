package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAPIErrorTextAndIs(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 404, Method: "GET", Path: "api/task-manager/batches/ID", Message: "batch ID not found"}
	if got, want := e.Error(), "GET api/task-manager/batches/ID: 404 Not Found: batch ID not found"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := (&APIError{StatusCode: 599, Method: "GET", Path: "x"}).Error(); got != "GET x: 599" {
		t.Fatalf("unknown status, no message: %q", got)
	}
	sentinels := map[int]error{404: ErrNotFound, 403: ErrForbidden, 401: ErrUnauthorized, 400: ErrBadRequest, 429: ErrRateLimited}
	for status := range sentinels {
		err := fmt.Errorf("wrapped: %w", &APIError{StatusCode: status})
		for s2, sentinel := range sentinels {
			if got := errors.Is(err, sentinel); got != (s2 == status) {
				t.Fatalf("errors.Is(%d, %v) = %v", status, sentinel, got)
			}
		}
	}
	if errors.Is(&APIError{StatusCode: 500}, ErrNotFound) {
		t.Fatal("500 matches ErrNotFound")
	}
}

func TestServerMessage(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"statusCode":404,"message":"batch x not found"}`:                   "batch x not found",
		`{"statusCode":400,"message":["url must be a URL","name too long"]}`: "url must be a URL; name too long",
		`{"statusCode":500, "error": "boom"}`:                                `{"statusCode":500,"error":"boom"}`,
		"  <html>Bad Gateway</html>\n":                                       "<html>Bad Gateway</html>",
		"":                                                                   "",
	} {
		if got := serverMessage([]byte(body)); got != want {
			t.Errorf("serverMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestLongMessageCut(t *testing.T) {
	t.Parallel()
	c := &Client{secrets: newSecrets("SECRETSECRETSECRET")}
	long := strings.Repeat("é", 400) // 800 bytes
	got := c.newAPIError(400, "GET", "p", []byte(long)).Message
	const suffix = "...(cut, 800 bytes in all)"
	if len(got) > maxMessageLen+len(suffix) || !strings.HasSuffix(got, suffix) {
		t.Fatalf("cut to %d bytes: %q", len(got), got[len(got)-30:])
	}
	if !strings.HasPrefix(long, strings.TrimSuffix(got, suffix)) {
		t.Fatal("cut inside a rune")
	}
	if got := c.newAPIError(400, "GET", "p", []byte(" short ")).Message; got != "short" {
		t.Fatalf("short message changed: %q", got)
	}
}

func TestSecretsRedaction(t *testing.T) {
	t.Parallel()
	s := newSecrets("the-secret-key", "ab") // too short to redact
	s.add("Bearer hdr-value-1", "", "xyz")
	got := s.redact("key the-secret-key, header Bearer hdr-value-1, bare hdr-value-1, ab xyz")
	want := "key ***, header ***, bare ***, ab xyz"
	if got != want {
		t.Fatalf("redact = %q, want %q", got, want)
	}
	// Redaction happens before trimming: a secret straddling the cut
	// cannot leak its first half.
	c := &Client{secrets: newSecrets("SECRETSECRETSECRET")}
	body := strings.Repeat("x", maxMessageLen-5) + "SECRETSECRETSECRET"
	e := c.newAPIError(400, "GET", "p", []byte(body))
	if strings.Contains(e.Message, "SECRE") {
		t.Fatalf("message keeps part of the secret: %q", e.Message[len(e.Message)-30:])
	}
}

func TestSecretsBounded(t *testing.T) {
	t.Parallel()
	s := newSecrets("fixed-secret")
	for i := 0; i < maxSecrets+50; i++ {
		s.add(fmt.Sprintf("value-%04d", i))
	}
	if n := len(s.long.values()); n != maxSecrets+1 {
		t.Fatalf("kept %d values, want %d", n, maxSecrets+1)
	}
	if s.redact("fixed-secret") != "***" {
		t.Fatal("the secret key was evicted")
	}
}

// echoToken is the access token echoServer hands out.
const echoToken = "tok-0123456789-abcdef"

// echoServer logs in with echoToken, then answers every API call with status and
// a message quoting the request's Authorization header and body: a server
// that leaks what it was sent, which the client must not pass on.
func echoServer(t *testing.T, loginStatus, apiStatus int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.HasSuffix(r.URL.Path, "auth/login") {
			if loginStatus != 201 {
				w.WriteHeader(loginStatus)
				fmt.Fprintf(w, `{"message":"refused %s"}`, body)
				return
			}
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, echoToken)
			return
		}
		w.WriteHeader(apiStatus)
		fmt.Fprintf(w, `{"message":"auth=%s body=%s"}`, r.Header.Get("Authorization"), strings.ReplaceAll(string(body), `"`, `'`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNoSecretInAnyErrorString(t *testing.T) {
	t.Parallel()
	const token = echoToken
	const header = "Bearer hdr-secret-0987"
	secrets := []string{testSecretKey, token, "hdr-secret-0987"}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("%s: error leaks %q: %s", what, s, err)
			}
		}
	}
	ctx := context.Background()

	// Login refused, the server quoting the form body with the secret key.
	for _, st := range []int{401, 400, 500} {
		c := newTestClient(t, echoServer(t, st, 200).URL, func(cfg *Config) { cfg.MaxRetries = 0 })
		_, err := c.GetBatch(ctx, "b1")
		check(fmt.Sprintf("login %d", st), err)
		if st == 401 && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("login 401: %v", err)
		}
	}

	// API errors quoting the Bearer token and the setup body with the header.
	for _, st := range []int{400, 403, 404, 500, 503} {
		c := newTestClient(t, echoServer(t, 201, st).URL, func(cfg *Config) { cfg.MaxRetries = 0 })
		_, err := c.SetupWebhook(ctx, Target{BatchID: "b1"}, WebhookSetting{URL: "https://x", Header: ptr(header)})
		check(fmt.Sprintf("setup-webhook %d", st), err)
		if !strings.Contains(err.Error(), "auth=Bearer ***") {
			t.Fatalf("setup-webhook %d: the echo did not go through redaction: %s", st, err)
		}
		_, err = c.GetWorkflow(ctx, "w1")
		check(fmt.Sprintf("get workflow %d", st), err)
	}

	// A header value read from the API (not sent by this client) is
	// redacted from later errors too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "auth/login"):
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, echoToken)
		case strings.Contains(r.URL.Path, "workflows/w1"):
			fmt.Fprintf(w, `{"_id":"w1","webhook":{"url":"https://x","header":"Basic read-only-secret-42"}}`)
		default:
			w.WriteHeader(400)
			fmt.Fprint(w, `{"message":"you sent Basic read-only-secret-42 earlier"}`)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.GetWorkflow(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetBatch(ctx, "b1")
	if err == nil || strings.Contains(err.Error(), "read-only-secret-42") {
		t.Fatalf("header read from W1 not redacted: %v", err)
	}
}

func TestSecretVariantsRedacted(t *testing.T) {
	t.Parallel()
	s := newSecrets("k+y/with=chars&more")
	s.add(`Token "quoted"<tag>`)
	for _, text := range []string{
		"k%2By%2Fwith%3Dchars%26more", // form-encoded, as in the login body
		`Token \"quoted\"\u003ctag\u003e`,
		`"quoted"<tag>`,
	} {
		if got := s.redact("x " + text + " y"); got != "x *** y" {
			t.Errorf("redact(%q) = %q", text, got)
		}
	}
}

// Values shorter than minSecretLen are kept apart: never replaced piecemeal
// (that would garble every message), but a text holding one is withheld.
func TestSecretsShortKeptApart(t *testing.T) {
	t.Parallel()
	s := newSecrets("the-secret-key", "ab")
	s.add("Bearer hdr-value-1", "", "xyz", "Bearer q")
	for text, want := range map[string]bool{
		"batch 6650c1f2 not found":    false,
		"header *** refused":          false,
		"sent xyz":                    true,
		"ab":                          true,
		"a question":                  true, // "q", the credentials of "Bearer q"
		s.redact("you sent Bearer q"): false,
	} {
		if got := s.withholds(text); got != want {
			t.Errorf("withholds(%q) = %v, want %v", text, got, want)
		}
	}
	if got := s.redact("xyz ab q"); got != "xyz ab q" {
		t.Errorf("a short value was replaced piecemeal: %q", got)
	}
	// Bounded like the others; the fixed one is never evicted.
	for i := 0; i < maxSecrets+50; i++ {
		s.add(fmt.Sprintf("%03d", i))
	}
	if n := len(s.shortSnapshot()); n != maxSecrets+1 {
		t.Fatalf("kept %d short values, want %d", n, maxSecrets+1)
	}
	if !s.withholds("ab") {
		t.Fatal("the fixed short value was evicted")
	}
}

// A server error that quotes a secret too short to redact (a 1-3 byte
// header sent, or read from the API; a short secret key) is withheld whole;
// its status, method and path still show, and a message that does not hold
// the value is shown as it is.
func TestShortSecretWithheldFromErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	withheld := func(what string, err error, leaks ...string) {
		t.Helper()
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%s: want an *APIError, got %v", what, err)
		}
		if ae.Message != withheldMessage {
			t.Fatalf("%s: message not withheld: %q", what, ae.Message)
		}
		for _, l := range leaks {
			if strings.Contains(err.Error(), l) {
				t.Fatalf("%s: error shows %q: %s", what, l, err)
			}
		}
	}

	// Sent: the server echoes the setup body. ("Bearer ab" whole is
	// redacted as usual; its short credentials, quoted alone, are withheld:
	// see TestSecretsShortKeptApart.)
	for _, h := range []string{"xyz", "a", "ok!"} {
		c := newTestClient(t, echoServer(t, 201, 400).URL, func(cfg *Config) { cfg.MaxRetries = 0 })
		_, err := c.SetupWebhook(ctx, Target{BatchID: "b1"}, WebhookSetting{URL: "https://x", Header: ptr(h)})
		withheld(fmt.Sprintf("header %q", h), err, "'header':", "body=")
		if !errors.Is(err, ErrBadRequest) || !strings.HasPrefix(err.Error(), "PATCH api/workflow-manager/workflows/setup-webhook?batchId=b1: 400 Bad Request: ") {
			t.Fatalf("header %q: status, method or path lost: %v", h, err)
		}
	}

	// A short secret key, echoed by a refused login.
	c := newTestClient(t, echoServer(t, 400, 200).URL, func(cfg *Config) { cfg.SecretKey = "k9" })
	_, err := c.GetBatch(ctx, "b1")
	if err == nil || strings.Contains(err.Error(), "secret_key=k9") || !strings.Contains(err.Error(), withheldMessage) {
		t.Fatalf("short secret key: %v", err)
	}

	// Read: a header of another team's, read from W1, then quoted by a
	// later error; an error without it is shown whole, not garbled.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "auth/login"):
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, echoToken)
		case strings.Contains(r.URL.Path, "workflows/w1"):
			fmt.Fprint(w, `{"_id":"w1","webhook":{"url":"https://x","header":"a"}}`)
		case strings.Contains(r.URL.Path, "batches/b1"):
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"batch b1 not found"}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"message":"no b2 here"}`)
		}
	}))
	defer srv.Close()
	c = newTestClient(t, srv.URL, nil)
	_, err = c.GetBatch(ctx, "b2")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Message != "no b2 here" {
		t.Fatalf("before the short header was read: %v", err)
	}
	if _, err := c.GetWorkflow(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBatch(ctx, "b1")
	withheld("header read from W1", err, "batch b1 not found", "b***tch")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("a withheld 404 no longer matches ErrNotFound: %v", err)
	}
	_, err = c.GetBatch(ctx, "b2")
	if !errors.As(err, &ae) || ae.Message != "no b2 here" {
		t.Fatalf("a message without the short value was changed: %v", err)
	}
}
