package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// receiver plays the user's webhook endpoint: the first delivery finds it "not ready" (500 with
// a JSON body, which Isahit Lab records in lastError), later ones succeed.
type receiver struct {
	out   io.Writer
	token string

	mu     sync.Mutex
	n      int
	authOK int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var p struct {
		Type    string `json:"type"`
		TaskID  string `json:"taskId"`
		BatchID string `json:"batchId"`
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	_ = json.Unmarshal(body, &p)

	r.mu.Lock()
	r.n++
	n := r.n
	authOK := req.Header.Get("Authorization") == r.token
	if authOK {
		r.authOK++
	}
	r.mu.Unlock()

	status, answer := http.StatusOK, `{"ok":true}`
	if n == 1 {
		status, answer = http.StatusInternalServerError, `{"error":"receiver not ready"}`
	}
	auth := "Authorization header as configured"
	if !authOK {
		auth = "WRONG Authorization header"
	}
	fmt.Fprintf(r.out, "    receiver: %s %s, %s job of task %s in batch %s, %s -> %d %s\n",
		req.Method, req.URL.Path, p.Type, p.TaskID, p.BatchID, auth, status, answer)

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (r *receiver) counts() (deliveries, authOK int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.authOK
}
