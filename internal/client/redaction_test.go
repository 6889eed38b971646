package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// escapedForms is value as a server or receiver may echo it escaped: JSON
// with `\/`, every byte as \u00XX, a JSON string in a JSON string,
// url-encoded (lower-case hex, "+" for a space), base64.
func escapedForms(value string) []string {
	inner := func(s string) string {
		j, _ := json.Marshal(s)
		return string(j[1 : len(j)-1])
	}
	var all strings.Builder
	for i := 0; i < len(value); i++ {
		fmt.Fprintf(&all, `\u%04x`, value[i])
	}
	return []string{
		strings.ReplaceAll(inner(value), "/", `\/`),
		all.String(),
		inner(inner(value)),
		lowerHex(url.QueryEscape(value)),
		base64.StdEncoding.EncodeToString([]byte(value)),
		base64.RawURLEncoding.EncodeToString([]byte(value)),
	}
}

// lowerHex writes the %XX escapes of s in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = strings.ToLower(string(b[i+1]))[0], strings.ToLower(string(b[i+2]))[0]
		}
	}
	return string(b)
}

func leaksAny(text string, values ...string) string {
	for _, v := range values {
		for _, f := range append(escapedForms(v), v) {
			if strings.Contains(text, f) {
				return f
			}
		}
	}
	return ""
}

// An error body echoing a secret in an escaped form is redacted in the
// APIError, whichever form it takes.
func TestAPIErrorRedactsEscapedForms(t *testing.T) {
	t.Parallel()
	const header = "Bearer tok/en+with \"chars\"=="
	ctx := context.Background()
	for _, secret := range []string{header, testSecretKey} {
		for _, form := range escapedForms(secret) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "auth/login") {
					w.WriteHeader(201)
					fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, echoToken)
					return
				}
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"message":"you sent \"%s\""}`, form)
			}))
			c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 0 })
			_, err := c.SetupWebhook(ctx, Target{BatchID: "b1"}, WebhookSetting{URL: "https://x", Header: ptr(header)})
			srv.Close()
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("form %q: %v", form, err)
			}
			if l := leaksAny(err.Error(), header, testSecretKey); l != "" || !strings.Contains(ae.Message, "***") {
				t.Fatalf("form %q: the error keeps %q: %s", form, l, err)
			}
		}
	}
}

// A webhook's last error body and messages echoing its header (read from
// the server, never sent by this client) come back redacted, in every
// escaped form, and cut after that.
func TestGetWorkflowRedactsLastError(t *testing.T) {
	t.Parallel()
	const header = "Basic dXNlcjpwYXNz/w+rd=="
	var echo strings.Builder
	echo.WriteString(`{"raw":"` + strings.ReplaceAll(header, `"`, `\"`) + `"`)
	for i, f := range escapedForms(header) {
		fmt.Fprintf(&echo, `,"f%d":%q`, i, f)
	}
	echo.WriteString(`,"pad":"` + strings.Repeat("x", 3000) + `"}`)
	doc, _ := json.Marshal(map[string]any{"_id": "w1", "webhook": map[string]any{
		"url": "https://r.example", "header": header,
		"lastCall":  map[string]any{"statusCode": 401, "message": "refused " + escapedForms(header)[0], "date": "2025-01-01T00:00:00.000Z"},
		"lastError": map[string]any{"statusCode": 401, "message": "refused " + escapedForms(header)[3], "body": json.RawMessage(echo.String())},
	}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "auth/login") {
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, echoToken)
			return
		}
		_, _ = w.Write(doc)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	wf, err := c.GetWorkflow(context.Background(), "w1")
	if err != nil {
		t.Fatal(err)
	}
	wh := wf.Webhook
	if wh == nil || wh.LastError == nil || wh.LastCall == nil || wh.Header == nil || *wh.Header != header {
		t.Fatalf("webhook %+v", wh)
	}
	for what, text := range map[string]string{"body": wh.LastError.Body, "error message": wh.LastError.Message, "call message": wh.LastCall.Message} {
		if l := leaksAny(text, header); l != "" {
			t.Errorf("%s keeps %q: %s", what, l, text)
		}
	}
	if wh.LastCall.Message != "refused ***" || wh.LastError.Message != "refused ***" {
		t.Errorf("messages %q, %q", wh.LastCall.Message, wh.LastError.Message)
	}
	if !strings.HasPrefix(wh.LastError.Body, `{"raw":"***","f0":"***"`) || len(wh.LastError.Body) > MaxCallBody+40 ||
		!strings.HasSuffix(wh.LastError.Body, "bytes in all)") {
		t.Errorf("body not redacted then cut: %q", wh.LastError.Body)
	}
}
