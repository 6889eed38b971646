package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// serveAdmin serves the _emulator/ routes: no auth, no faults, not counted.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request, path string) {
	route := strings.TrimPrefix(path, adminPrefix+"/")
	switch {
	case route == "deliver" && r.Method == http.MethodPost:
		e.adminDeliver(w, r)
	case route == "batches" && r.Method == http.MethodPost:
		e.adminCreateBatch(w, r)
	case strings.HasPrefix(route, "batches/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(route, "batches/")
		if _, ok := e.Batch(id); !ok {
			writeError(w, http.StatusNotFound, "batch "+id+" not found")
			return
		}
		e.DeleteBatch(id)
		writeJSON(w, http.StatusOK, map[string]string{"_id": id})
	case route == "calls" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Calls())
	case route == "calls" && r.Method == http.MethodDelete:
		e.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	case route == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"totalCalls": e.TotalCalls(), "maxInFlight": e.MaxInFlight(), "calls": e.Calls(),
		})
	case route == "faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, faultsToDoc(e.CurrentFaults()))
	case route == "faults" && r.Method == http.MethodPut:
		e.adminSetFaults(w, r)
	case route == "settings" && r.Method == http.MethodPut:
		e.adminSettings(w, r)
	case route == "settings" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.settingsDoc())
	case route == "forbid" && r.Method == http.MethodPost:
		e.adminForbid(w, r)
	case route == "expire-tokens" && r.Method == http.MethodPost:
		e.ExpireTokens()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
	}
}

// decodeAdmin decodes a JSON body strictly (unknown fields are typos in a demo script).
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (e *Emulator) adminDeliver(w http.ResponseWriter, r *http.Request) {
	var body struct {
		BatchID string `json:"batchId"`
		TaskID  string `json:"taskId"`
		Type    string `json:"type"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.Type == "" {
		body.Type = "annotation"
	}
	if body.TaskID == "" {
		// Task ids come from their own counter so that seed ids stay predictable.
		body.TaskID = fmt.Sprintf("7a5c00000000%012x", e.taskSeq.Add(1))
	}
	err := e.Deliver(r.Context(), body.BatchID, body.TaskID, body.Type)
	switch {
	case errors.Is(err, ErrBadJobType):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "batch "+body.BatchID+" not found")
		return
	case errors.Is(err, ErrNoWorkflow):
		writeError(w, http.StatusConflict, "batch "+body.BatchID+" has no workflow, hence no webhook")
		return
	case errors.Is(err, ErrNoWebhook):
		writeError(w, http.StatusConflict, "no webhook set for batch "+body.BatchID)
		return
	}
	// Delivered, successfully or not: answer the webhook with its lastCall/lastError.
	b, _ := e.Batch(body.BatchID)
	e.mu.RLock()
	var d *webhookDoc
	if wf := e.workflows[b.WorkflowID]; wf != nil {
		d = wf.hook.doc()
	}
	e.mu.RUnlock()
	if d == nil {
		writeError(w, http.StatusConflict, "webhook removed during delivery")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (e *Emulator) adminCreateBatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ProjectID  string `json:"projectId"`
		Name       string `json:"name"`
		WorkflowID string `json:"workflowId"` // optional: share this workflow
		NoWorkflow bool   `json:"noWorkflow"` // optional: a batch without a workflow
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.ProjectID == "" || body.Name == "" {
		writeError(w, http.StatusBadRequest, "projectId and name are required")
		return
	}
	if body.NoWorkflow && body.WorkflowID != "" {
		writeError(w, http.StatusBadRequest, "workflowId and noWorkflow are exclusive")
		return
	}
	var id string
	switch {
	case body.NoWorkflow:
		id = e.AddBatchWithoutWorkflow(body.ProjectID, body.Name)
	case body.WorkflowID != "":
		id = e.AddBatchWithWorkflow(body.ProjectID, body.Name, body.WorkflowID)
	default:
		id = e.AddBatch(body.ProjectID, body.Name)
	}
	if id == "" {
		writeError(w, http.StatusNotFound, "project or workflow not found")
		return
	}
	b, _ := e.Batch(id)
	writeJSON(w, http.StatusCreated, map[string]string{"_id": id, "workflowId": b.WorkflowID})
}

type faultsDoc struct {
	Latency     string  `json:"latency"`
	RateLimit   float64 `json:"rateLimit"`
	FailRate    float64 `json:"failRate"`
	DropRate    float64 `json:"dropRate"`
	Throttle    float64 `json:"throttleRate"`
	RevokeEvery int     `json:"revokeTokensEvery"`
}

func faultsToDoc(f Faults) faultsDoc {
	return faultsDoc{Latency: f.Latency.String(), RateLimit: f.RateLimit, FailRate: f.FailRate, DropRate: f.DropRate,
		Throttle: f.ThrottleRate, RevokeEvery: f.RevokeTokensEvery}
}

func (e *Emulator) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	var body faultsDoc
	if !decodeAdmin(w, r, &body) {
		return
	}
	var f Faults
	if body.Latency != "" {
		d, err := time.ParseDuration(body.Latency)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, "latency must be a duration such as \"20ms\"")
			return
		}
		f.Latency = d
	}
	if body.RateLimit < 0 || body.FailRate < 0 || body.FailRate > 1 || body.DropRate < 0 || body.DropRate > 1 || body.Throttle < 0 || body.Throttle > 1 {
		writeError(w, http.StatusBadRequest, "rateLimit must be >= 0; failRate, dropRate and throttleRate in [0,1]")
		return
	}
	if body.RevokeEvery < 0 {
		writeError(w, http.StatusBadRequest, "revokeTokensEvery must be >= 0 (0: never), got "+itoa(body.RevokeEvery))
		return
	}
	f.RateLimit, f.FailRate, f.DropRate, f.ThrottleRate = body.RateLimit, body.FailRate, body.DropRate, body.Throttle
	f.RevokeTokensEvery = body.RevokeEvery
	e.SetFaults(f)
	writeJSON(w, http.StatusOK, faultsToDoc(e.CurrentFaults()))
}

func (e *Emulator) adminSettings(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ListOmitsWorkflow *bool   `json:"listOmitsWorkflow"`
		PageCap           *int    `json:"pageCap"`
		TokenTTL          *string `json:"tokenTTL"`
		SetupAnswer       *string `json:"setupAnswer"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	var mode SetupAnswer
	if body.SetupAnswer != nil {
		m, err := ParseSetupAnswer(*body.SetupAnswer)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		mode = m
	}
	var ttl time.Duration
	if body.TokenTTL != nil {
		d, err := time.ParseDuration(*body.TokenTTL)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "tokenTTL must be a positive duration such as \"1h\"")
			return
		}
		ttl = d
	}
	if body.PageCap != nil && *body.PageCap < 1 {
		writeError(w, http.StatusBadRequest, "pageCap must be >= 1")
		return
	}
	if body.ListOmitsWorkflow != nil {
		e.SetListOmitsWorkflow(*body.ListOmitsWorkflow)
	}
	if body.PageCap != nil {
		e.SetPageCap(*body.PageCap)
	}
	if ttl > 0 {
		e.SetTokenTTL(ttl)
	}
	if mode != "" {
		_ = e.SetSetupAnswer(mode) // already checked
	}
	writeJSON(w, http.StatusOK, e.settingsDoc())
}

func (e *Emulator) settingsDoc() map[string]any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return map[string]any{"listOmitsWorkflow": e.listOmitsWorkflow, "pageCap": e.pageCap, "tokenTTL": e.tokenTTL.String(),
		"setupAnswer": e.setupAnswer}
}

func (e *Emulator) adminForbid(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID        string `json:"id"`
		Forbidden *bool  `json:"forbidden"` // default true; false lifts it
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.ID == "" {
		writeError(w, http.StatusBadRequest, "id is required")
		return
	}
	if body.Forbidden == nil || *body.Forbidden {
		e.Forbid(body.ID)
	} else {
		e.Unforbid(body.ID)
	}
	w.WriteHeader(http.StatusNoContent)
}
