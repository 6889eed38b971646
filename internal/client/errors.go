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
	// EarlierAttemptMayHaveActed is true when this answer came on a retry
	// after an attempt that may have been applied (a timeout or a 5xx): a
	// 4xx then does not prove that the server changed nothing.
	EarlierAttemptMayHaveActed bool
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
	if e.EarlierAttemptMayHaveActed {
		s += " (on a retry: an earlier attempt may have been applied)"
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
// A text that contains one is withheld whole instead (see withholds).
const minSecretLen = 4

// MinSecretLength is the shortest secret the client can redact: the
// provider refuses a shorter webhook header at plan time.
const MinSecretLength = minSecretLen

// maxSecrets bounds the remembered webhook header values and tokens (and,
// separately, the remembered values too short to redact).
const maxSecrets = 256

// withheldMessage replaces a server's message that contains a secret too
// short to redact: the status, method and path still say what failed.
var withheldMessage = fmt.Sprintf("(the server's message is withheld: it may quote a secret too short to mask, "+
	"such as a webhook header of fewer than %d bytes)", minSecretLen)

// secrets holds the strings that must never appear in an error or a log line:
// the secret key, access tokens and webhook header values sent or read.
//
// A value (or form of one) shorter than minSecretLen cannot be redacted: it
// is kept apart, and a server message that contains it is withheld whole.
type secrets struct {
	mu    sync.RWMutex
	long  secretSet // redacted: replaced by ***
	short secretSet // 1 to minSecretLen-1 bytes: a text holding one is withheld
}

// secretSet is one bounded list of secrets: fixed ones never evicted, learned
// ones evicted first in, first out.
type secretSet struct {
	fixed []string // never evicted (secret key)
	seen  map[string]struct{}
	order []string // FIFO for eviction of learned values
	list  []string // snapshot, longest first; replaced on change, never mutated
}

// pick returns the set a form of a secret belongs to, nil for "".
func (s *secrets) pick(v string) *secretSet {
	switch {
	case v == "":
		return nil
	case len(v) < minSecretLen:
		return &s.short
	}
	return &s.long
}

func newSecrets(fixed ...string) *secrets {
	s := &secrets{long: secretSet{seen: map[string]struct{}{}}, short: secretSet{seen: map[string]struct{}{}}}
	for _, f := range variants(fixed...) {
		set := s.pick(f)
		if set == nil {
			continue
		}
		if _, dup := set.seen[f]; !dup {
			set.fixed = append(set.fixed, f)
			set.seen[f] = struct{}{}
		}
	}
	s.long.rebuild()
	s.short.rebuild()
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
	changed := map[*secretSet]bool{}
	for _, v := range cand {
		set := s.pick(v)
		if set == nil {
			continue
		}
		if _, ok := set.seen[v]; ok {
			continue
		}
		set.seen[v] = struct{}{}
		set.order = append(set.order, v)
		if len(set.order) > maxSecrets {
			delete(set.seen, set.order[0])
			set.order = set.order[1:]
		}
		changed[set] = true
	}
	for set := range changed {
		set.rebuild()
	}
}

func (set *secretSet) rebuild() {
	l := make([]string, 0, len(set.fixed)+len(set.order))
	l = append(l, set.fixed...)
	l = append(l, set.order...)
	// Longest first so a value containing a shorter secret is replaced whole.
	sort.SliceStable(l, func(i, j int) bool { return len(l[i]) > len(l[j]) })
	set.list = l
}

// snapshot is the list of redactable secrets (for log masking).
func (s *secrets) snapshot() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.long.list
}

func (s *secrets) shortSnapshot() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.short.list
}

func (s *secrets) redact(text string) string {
	for _, v := range s.snapshot() {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, "***")
		}
	}
	return text
}

// withholds reports whether text, once redacted, still holds a secret too
// short to redact: it must then not be shown at all.
func (s *secrets) withholds(redacted string) bool {
	for _, v := range s.shortSnapshot() {
		if strings.Contains(redacted, v) {
			return true
		}
	}
	return false
}

// newAPIError builds the error for a non-2xx answer. Redaction happens before
// trimming so that a secret cut by the trim cannot leak half of itself. A
// message that holds a secret too short to redact (a webhook header of 1-3
// bytes, sent or read; the credentials part of one such as "Bearer ab") is
// withheld whole: replacing every "ab" would garble it and still show where
// the secret was.
func (c *Client) newAPIError(status int, method, path string, body []byte) *APIError {
	msg := c.secrets.redact(serverMessage(body))
	if c.secrets.withholds(msg) {
		msg = withheldMessage
	}
	return &APIError{
		StatusCode: status,
		Method:     method,
		Path:       path,
		Message:    trimMessage(msg),
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
