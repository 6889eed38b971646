package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/redact"
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

// RetryAfterError is a 429 or 503 whose Retry-After asks for a longer wait
// than the client is configured to sit out: the call ends rather than retry
// early into another refusal.
type RetryAfterError struct {
	Wait, Max time.Duration
	Setting   string // what raises Max, for the message
	Err       *APIError
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v; the API asks to wait %s before a retry (Retry-After), more than %s (%s): not retried",
		e.Err, e.Wait.Round(time.Second), e.Setting, e.Max)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

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

// minSecretLen: shorter values are not redacted because replacing every
// occurrence of, say, "ab" would garble every message while hiding nothing.
// A text that contains one is withheld whole instead (see redact.Clean).
const minSecretLen = redact.MinLength

// MinSecretLength is the shortest secret the client can redact: the
// provider refuses a shorter webhook header at plan time.
const MinSecretLength = minSecretLen

// maxSecrets bounds the remembered webhook header values and tokens (and,
// separately, the remembered values too short to redact).
const maxSecrets = 256

// withheldMessage replaces a server's message that contains a secret too
// short to redact: the status, method and path still say what failed.
var withheldMessage = redact.Withheld

// secrets holds the strings that must never appear in an error or a log line:
// the secret key, access tokens and webhook header values sent or read. The
// search for them, raw or in any escaped or encoded form, is package
// redact's; this keeps the bounded memory of values.
//
// A value shorter than minSecretLen cannot be redacted: it is kept apart,
// and a server message that contains it is withheld whole.
type secrets struct {
	mu    sync.RWMutex
	long  secretSet // redacted: replaced by ***
	short secretSet // 1 to minSecretLen-1 bytes: a text holding one is withheld
	set   *redact.Set
	forms []string // literal forms of the long values, for log masking
}

// secretSet is one bounded list of secret values: fixed ones never
// evicted, learned ones evicted first in, first out.
type secretSet struct {
	fixed []string // never evicted (secret key)
	seen  map[string]struct{}
	order []string // FIFO for eviction of learned values
}

func (set *secretSet) values() []string {
	return append(append([]string(nil), set.fixed...), set.order...)
}

// pick returns the set a secret belongs to, nil for "".
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
	for _, f := range fixed {
		set := s.pick(f)
		if set == nil {
			continue
		}
		if _, dup := set.seen[f]; !dup {
			set.fixed = append(set.fixed, f)
			set.seen[f] = struct{}{}
		}
	}
	s.rebuild()
	return s
}

// add remembers values learned while running.
func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range values {
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
		changed = true
	}
	if changed {
		s.rebuild()
	}
}

// rebuild prepares the search; called with s.mu held (or before sharing).
func (s *secrets) rebuild() {
	long, short := s.long.values(), s.short.values()
	s.set = redact.NewSet(append(long, short...)...)
	s.forms = redact.LiteralForms(long...)
}

// current is the search for every remembered value, plus extra values
// (a header just read) that are searched for whatever the memory keeps.
func (s *secrets) current(extra ...string) redact.Secrets {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := redact.Secrets{s.set}
	if len(extra) > 0 {
		ss = append(ss, redact.NewSet(extra...))
	}
	return ss
}

// snapshot is the literal forms of the redactable secrets (for log masking).
func (s *secrets) snapshot() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.forms
}

func (s *secrets) shortSnapshot() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.short.values()
}

// redact masks every secret in text, in any form, without cutting or
// withholding it: for texts that must keep their shape (transport errors).
func (s *secrets) redact(text string) string {
	return s.current().Redact(text)
}

// withholds reports whether text, once redacted, still holds a secret too
// short to redact: it must then not be shown at all.
func (s *secrets) withholds(redacted string) bool {
	return s.current().Withholds(redacted)
}

// newAPIError builds the error for a non-2xx answer. The message is cleaned
// by redact.Clean: secrets masked before it is cut, so a cut cannot leave
// part of one; withheld whole when it holds a secret too short to mask (a
// webhook header of 1-3 bytes, sent or read; the credentials part of one
// such as "Bearer ab"): replacing every "ab" would garble it and still show
// where the secret was.
func (c *Client) newAPIError(status int, method, path string, body []byte) *APIError {
	return &APIError{
		StatusCode: status,
		Method:     method,
		Path:       path,
		Message:    c.secrets.current().Clean(strings.TrimSpace(serverMessage(body)), maxMessageLen),
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
