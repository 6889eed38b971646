package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Sentinel errors matched with errors.Is against an *APIError of the same status.
var (
	ErrNotFound     = errors.New("not found")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrBadRequest   = errors.New("bad request")
	ErrRateLimited  = errors.New("rate limited")
)

// maxMessageLen bounds APIError.Message so a large HTML error page cannot
// flood Terraform's diagnostics.
const maxMessageLen = 500

// APIError is a non-2xx answer of the Isahit Lab API.
type APIError struct {
	StatusCode int
	Method     string
	Path       string // relative path as requested, with its query when there was one
	Message    string // server body (its "message" when it had one), trimmed, secrets redacted
}

func (e *APIError) Error() string {
	status := fmt.Sprintf("%d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		status += " " + t
	}
	s := fmt.Sprintf("%s %s: %s", e.Method, e.Path, status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is lets errors.Is(err, ErrNotFound) and friends work on an *APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// serverMessage extracts a readable message from an error body: the "message"
// field of a JSON object when present (a string or a list of strings, as
// NestJS servers send), else the body itself.
func serverMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		if raw, ok := obj["message"]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				return s
			}
			var list []string
			if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
				return strings.Join(list, "; ")
			}
		}
		var buf bytes.Buffer
		if json.Compact(&buf, body) == nil {
			return buf.String()
		}
	}
	return string(body)
}

// trimMessage cuts s to maxMessageLen bytes on a rune boundary.
func trimMessage(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "...(trimmed)"
}

// minSecretLen: shorter values are not redacted because replacing every
// occurrence of, say, "ab" would garble every message while hiding nothing.
const minSecretLen = 4

// maxSecrets bounds the remembered webhook header values and tokens.
const maxSecrets = 256

// secrets holds the strings that must never appear in an error or a log line:
// the secret key, access tokens and webhook header values sent or read.
type secrets struct {
	mu    sync.RWMutex
	fixed []string // never evicted (secret key)
	seen  map[string]struct{}
	order []string // FIFO for eviction of learned values
	list  []string // snapshot, longest first; replaced on change, never mutated
}

func newSecrets(fixed ...string) *secrets {
	s := &secrets{seen: map[string]struct{}{}}
	for _, f := range variants(fixed...) {
		if _, dup := s.seen[f]; !dup && len(f) >= minSecretLen {
			s.fixed = append(s.fixed, f)
			s.seen[f] = struct{}{}
		}
	}
	s.rebuild()
	return s
}

// variants returns each value with the forms in which a server may echo it:
// form/query-encoded and JSON-escaped (the secret key travels form-encoded,
// header values inside JSON), and for "Scheme credentials" values the
// credentials part alone.
func variants(values ...string) []string {
	var out []string
	for _, v := range values {
		forms := []string{v}
		if i := strings.IndexByte(v, ' '); i > 0 {
			forms = append(forms, strings.TrimSpace(v[i+1:]))
		}
		for _, f := range forms {
			out = append(out, f)
			if q := url.QueryEscape(f); q != f {
				out = append(out, q)
			}
			if j, err := json.Marshal(f); err == nil {
				if inner := string(j[1 : len(j)-1]); inner != f {
					out = append(out, inner)
				}
			}
		}
	}
	return out
}

// add remembers values (and their variants) learned while running.
func (s *secrets) add(values ...string) {
	cand := variants(values...)
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range cand {
		if len(v) < minSecretLen {
			continue
		}
		if _, ok := s.seen[v]; ok {
			continue
		}
		s.seen[v] = struct{}{}
		s.order = append(s.order, v)
		changed = true
		if len(s.order) > maxSecrets {
			delete(s.seen, s.order[0])
			s.order = s.order[1:]
		}
	}
	if changed {
		s.rebuild()
	}
}

func (s *secrets) rebuild() {
	l := make([]string, 0, len(s.fixed)+len(s.order))
	l = append(l, s.fixed...)
	l = append(l, s.order...)
	// Longest first so a value containing a shorter secret is replaced whole.
	sort.SliceStable(l, func(i, j int) bool { return len(l[i]) > len(l[j]) })
	s.list = l
}

func (s *secrets) snapshot() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.list
}

func (s *secrets) redact(text string) string {
	for _, v := range s.snapshot() {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, "***")
		}
	}
	return text
}

// newAPIError builds the error for a non-2xx answer. Redaction happens before
// trimming so that a secret cut by the trim cannot leak half of itself.
func (c *Client) newAPIError(status int, method, path string, body []byte) *APIError {
	return &APIError{
		StatusCode: status,
		Method:     method,
		Path:       path,
		Message:    trimMessage(c.secrets.redact(serverMessage(body))),
	}
}

// redactedError hides secrets in a transport or decoding error. It unwraps
// only to a context error, not to the original (whose text holds the secret).
type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.kind }

func (c *Client) redactErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := c.secrets.redact(msg)
	if red == msg {
		return err
	}
	var kind error
	switch {
	case errors.Is(err, context.Canceled):
		kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		kind = context.DeadlineExceeded
	}
	return &redactedError{msg: red, kind: kind}
}
