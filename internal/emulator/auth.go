package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

type loginDoc struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// handleLogin is A1: form-encoded credentials in, 201 {access_token, expires_in} out.
func (e *Emulator) handleLogin(w http.ResponseWriter, r *http.Request, _ string) {
	if mediaType(r) != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, "login body must be application/x-www-form-urlencoded with access_id and secret_key")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "malformed form body")
		return
	}
	// PostForm only: credentials in the query string are not accepted.
	id, key := r.PostForm.Get("access_id"), r.PostForm.Get("secret_key")
	if id == "" || key == "" {
		writeError(w, http.StatusBadRequest, "access_id and secret_key are required")
		return
	}
	e.mu.RLock()
	okID := subtle.ConstantTimeCompare([]byte(id), []byte(e.accessID)) == 1
	okKey := subtle.ConstantTimeCompare([]byte(key), []byte(e.secretKey)) == 1
	e.mu.RUnlock()
	if !okID || !okKey {
		writeError(w, http.StatusUnauthorized, "Invalid credentials")
		return
	}

	token := newToken()
	now := time.Now()
	e.mu.Lock()
	ttl := e.tokenTTL
	// Tokens pile up when TTLs are short; drop the expired ones now and then (logins are rare).
	if len(e.tokens) >= 64 {
		for t, exp := range e.tokens {
			if !now.Before(exp) {
				delete(e.tokens, t)
			}
		}
	}
	e.tokens[token] = now.Add(ttl)
	e.mu.Unlock()

	writeJSON(w, http.StatusCreated, loginDoc{AccessToken: token, ExpiresIn: max(1, int(ttl/time.Second))})
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "emu." + hex.EncodeToString(b[:])
}

// authorize checks `Authorization: Bearer <token>` against live tokens. With revokeEvery > 0
// it also counts the authorized request and, on every revokeEvery-th, revokes every live token;
// check and count happen under one lock, so each generation of tokens serves exactly
// revokeEvery requests in all.
func (e *Emulator) authorize(r *http.Request, revokeEvery int) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	if revokeEvery <= 0 {
		e.mu.RLock()
		exp, ok := e.tokens[token]
		e.mu.RUnlock()
		return ok && time.Now().Before(exp)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.tokens[token]; !ok || !time.Now().Before(exp) {
		return false
	}
	if e.authorized++; e.authorized >= revokeEvery {
		e.authorized = 0
		clear(e.tokens)
		e.calls[CountRevocations].Add(1)
	}
	return true
}
