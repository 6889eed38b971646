package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SetupAnswer selects what a successful setup-webhook (W2/W3) answers. The contract
// (internal/client/CONTRACT.md) leaves it open, so the emulator can play each plausible server;
// the stored state is the same in all.
type SetupAnswer string

// Setup-webhook answer modes.
const (
	// SetupAnswerStored: 200 with the stored webhook object, updatedAt included (null after a
	// removal). The default.
	SetupAnswerStored SetupAnswer = "stored"
	// SetupAnswerEcho: 200 with the request body echoed: {"url","header"} only, no updatedAt,
	// no lastCall/lastError.
	SetupAnswerEcho SetupAnswer = "echo"
	// SetupAnswerEmpty: 200 with an empty body.
	SetupAnswerEmpty SetupAnswer = "empty"
	// SetupAnswerNoContent: 204 with no body.
	SetupAnswerNoContent SetupAnswer = "no-content"
	// SetupAnswerBefore: 200 with the webhook object as it was before this update (null when
	// there was none).
	SetupAnswerBefore SetupAnswer = "before"
)

// SetupAnswers lists the valid modes.
var SetupAnswers = []SetupAnswer{SetupAnswerStored, SetupAnswerEcho, SetupAnswerEmpty, SetupAnswerNoContent, SetupAnswerBefore}

// ParseSetupAnswer checks a mode name.
func ParseSetupAnswer(s string) (SetupAnswer, error) {
	for _, m := range SetupAnswers {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("setup answer %q is not one of %v", s, SetupAnswers)
}

// SetSetupAnswer selects what setup-webhook answers from now on; an unknown mode is an error
// and changes nothing.
func (e *Emulator) SetSetupAnswer(mode SetupAnswer) error {
	if _, err := ParseSetupAnswer(string(mode)); err != nil {
		return err
	}
	e.mu.Lock()
	e.setupAnswer = mode
	e.mu.Unlock()
	return nil
}

// CurrentSetupAnswer returns the setup-webhook answer mode in effect.
func (e *Emulator) CurrentSetupAnswer() SetupAnswer {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.setupAnswer
}

// setupEcho is the SetupAnswerEcho body.
type setupEcho struct {
	URL    *string `json:"url"`
	Header *string `json:"header"`
}

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
// (or absent) removes the header, lastCall/lastError survive a re-setup. A batch with no
// workflow is 400 (after the 404 and 403 checks, so a forbidden batch reveals nothing). The
// answer follows the SetupAnswer mode; by default 200 with the stored webhook object (null
// after a removal). FailSets and AnswerAppliedSetsWith act once the workflow is resolved.
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
		if b == nil || e.batchReadNotFoundLocked(target) {
			e.mu.Unlock()
			writeError(w, http.StatusNotFound, "batch "+target+" not found")
			return
		}
		if e.batchForbiddenLocked(b) || (b.workflow != nil && e.workflowForbiddenLocked(b.workflow)) {
			e.mu.Unlock()
			writeError(w, http.StatusForbidden, "Forbidden resource: batch "+target)
			return
		}
		if b.workflow == nil {
			e.mu.Unlock()
			writeError(w, http.StatusBadRequest, "batch "+target+" has no workflow: no webhook can be set on it")
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
	traitStatus, apply := e.setOutcomeLocked(wf.id)
	if !apply {
		e.mu.Unlock()
		writeError(w, traitStatus, traitMessage(traitStatus))
		return
	}
	before := wf.hook.doc()
	if remove {
		wf.hook = nil
	} else {
		setHookLocked(wf, url, header, time.Now())
	}
	stored := wf.hook.doc()
	mode := e.setupAnswer
	e.mu.Unlock()
	if traitStatus != 0 {
		writeError(w, traitStatus, traitMessage(traitStatus))
		return
	}

	switch mode {
	case SetupAnswerEcho:
		echo := setupEcho{Header: header}
		if !remove {
			echo.URL = &url
		}
		writeJSON(w, http.StatusOK, echo)
	case SetupAnswerEmpty:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case SetupAnswerNoContent:
		w.WriteHeader(http.StatusNoContent)
	case SetupAnswerBefore:
		writeJSON(w, http.StatusOK, before)
	default:
		writeJSON(w, http.StatusOK, stored)
	}
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
