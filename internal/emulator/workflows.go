package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleGetWorkflow is W1: the workflow document, `webhook` null when none is set.
func (e *Emulator) handleGetWorkflow(w http.ResponseWriter, _ *http.Request, id string) {
	e.mu.RLock()
	wf := e.workflows[id]
	if wf == nil {
		e.mu.RUnlock()
		writeError(w, http.StatusNotFound, "workflow "+id+" not found")
		return
	}
	if e.workflowForbiddenLocked(wf) {
		e.mu.RUnlock()
		writeError(w, http.StatusForbidden, "Forbidden resource: workflow "+id)
		return
	}
	d := workflowDoc{ID: wf.id, Name: wf.name, Webhook: wf.hook.doc()}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, d)
}

// handleSetupWebhook is W2 (?workflowId=) and W3 (?batchId=, which writes the batch's workflow).
// Body {"url": string|null, "header": string|null}: url null removes the webhook, header null
// (or absent) removes the header, lastCall/lastError survive a re-setup. Answers 200 with the
// stored webhook object (null after a removal).
func (e *Emulator) handleSetupWebhook(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	wfIDs, bIDs := q["workflowId"], q["batchId"]
	if (len(wfIDs) > 0) == (len(bIDs) > 0) {
		writeError(w, http.StatusBadRequest, "exactly one of workflowId or batchId is required")
		return
	}
	ids := wfIDs
	if len(bIDs) > 0 {
		ids = bIDs
	}
	if len(ids) != 1 || ids[0] == "" {
		writeError(w, http.StatusBadRequest, "workflowId or batchId must be given once, not empty")
		return
	}
	target := ids[0]

	url, header, remove, msg := parseSetupBody(w, r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}

	e.mu.Lock()
	var wf *workflow
	if len(bIDs) > 0 {
		b := e.batches[target]
		if b == nil {
			e.mu.Unlock()
			writeError(w, http.StatusNotFound, "batch "+target+" not found")
			return
		}
		if e.batchForbiddenLocked(b) || e.workflowForbiddenLocked(b.workflow) {
			e.mu.Unlock()
			writeError(w, http.StatusForbidden, "Forbidden resource: batch "+target)
			return
		}
		wf = b.workflow
	} else {
		wf = e.workflows[target]
		if wf == nil {
			e.mu.Unlock()
			writeError(w, http.StatusNotFound, "workflow "+target+" not found")
			return
		}
		if e.workflowForbiddenLocked(wf) {
			e.mu.Unlock()
			writeError(w, http.StatusForbidden, "Forbidden resource: workflow "+target)
			return
		}
	}
	if remove {
		wf.hook = nil
	} else {
		setHookLocked(wf, url, header, time.Now())
	}
	d := wf.hook.doc()
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}

// parseSetupBody validates the setup-webhook body; msg is non-empty on a 400.
func parseSetupBody(w http.ResponseWriter, r *http.Request) (url string, header *string, remove bool, msg string) {
	if mediaType(r) != "application/json" {
		return "", nil, false, "body must be application/json"
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&raw); err != nil {
		return "", nil, false, "invalid JSON body: want {\"url\": string|null, \"header\": string|null}"
	}
	rawURL, ok := raw["url"]
	if !ok {
		return "", nil, false, "url is required (a string, or null to remove the webhook)"
	}
	if isNull(rawURL) {
		return "", nil, true, ""
	}
	if err := json.Unmarshal(rawURL, &url); err != nil {
		return "", nil, false, "url must be a string or null"
	}
	if !strings.HasPrefix(url, "http") {
		return "", nil, false, "url must start with http: " + strconv.Quote(url)
	}
	if rawH, ok := raw["header"]; ok && !isNull(rawH) {
		var h string
		if err := json.Unmarshal(rawH, &h); err != nil {
			return "", nil, false, "header must be a string or null"
		}
		header = &h
	}
	return url, header, false, ""
}

func isNull(m json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(m), []byte("null")) }
