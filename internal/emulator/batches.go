package emulator

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// handleGetBatch is B1.
func (e *Emulator) handleGetBatch(w http.ResponseWriter, _ *http.Request, id string) {
	e.mu.RLock()
	b := e.batches[id]
	if b == nil || e.batchReadNotFoundLocked(id) {
		e.mu.RUnlock()
		writeError(w, http.StatusNotFound, "batch "+id+" not found")
		return
	}
	if e.batchForbiddenLocked(b) {
		e.mu.RUnlock()
		writeError(w, http.StatusForbidden, "Forbidden resource: batch "+id)
		return
	}
	d := b.doc(true)
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, d)
}

// handleListBatches is B2: one project's batches (every project's under SetListIgnoresFilter),
// filtered by repeated `statuses` and by `search` (case-insensitive substring of the name),
// paginated with the server's cap.
func (e *Emulator) handleListBatches(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	projectID := q.Get("projectId")
	if projectID == "" {
		writeError(w, http.StatusBadRequest, "projectId is required")
		return
	}
	page, limit, msg := pageParams(q)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	statuses := q["statuses"]
	search := strings.ToLower(q.Get("search"))

	e.mu.RLock()
	limit = min(limit, e.pageCap)
	withWF := !e.listOmitsWorkflow
	if e.isForbiddenLocked(projectID) {
		e.mu.RUnlock()
		writeError(w, http.StatusForbidden, "Forbidden resource: project "+projectID)
		return
	}
	var all []*batch
	if e.listIgnoresFilter {
		all = e.allBatchesLocked()
	} else if p := e.projectByID[projectID]; p != nil {
		all = p.batches
	}
	var docs []batchDoc
	total := 0
	if len(statuses) == 0 && search == "" {
		// Unfiltered: the page is a window of the creation-ordered slice, O(limit).
		total = len(all)
		start, end := window(total, page, limit)
		docs = make([]batchDoc, 0, end-start)
		for _, b := range all[start:end] {
			docs = append(docs, b.doc(withWF))
		}
	} else {
		// Filtered: a scan; the window bound over all batches also bounds the matches.
		start, _ := window(len(all), page, limit)
		for _, b := range all {
			if !matchBatch(b, statuses, search) {
				continue
			}
			if total >= start && len(docs) < limit {
				docs = append(docs, b.doc(withWF))
			}
			total++
		}
	}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, newPage(docs, total, page, limit))
}

// allBatchesLocked is every project's batches in creation order (SetListIgnoresFilter).
func (e *Emulator) allBatchesLocked() []*batch {
	all := make([]*batch, 0, len(e.batches))
	for _, p := range e.projects {
		all = append(all, p.batches...)
	}
	slices.SortFunc(all, func(a, b *batch) int { return cmp.Compare(a.seq, b.seq) })
	return all
}

func matchBatch(b *batch, statuses []string, search string) bool {
	if len(statuses) > 0 && !contains(statuses, b.status) {
		return false
	}
	return search == "" || strings.Contains(strings.ToLower(b.name), search)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type createBatchBody struct {
	Name      string `json:"name"`
	ProjectID string `json:"projectId"`
}

// handleCreateBatch is B4: a new batch with its own new workflow, answered 201.
func (e *Emulator) handleCreateBatch(w http.ResponseWriter, r *http.Request, _ string) {
	if mediaType(r) != "application/json" {
		writeError(w, http.StatusBadRequest, "body must be application/json")
		return
	}
	var body createBatchBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: want {\"name\": string, \"projectId\": string}")
		return
	}
	if strings.TrimSpace(body.Name) == "" || body.ProjectID == "" {
		writeError(w, http.StatusBadRequest, "name and projectId are required")
		return
	}
	e.mu.Lock()
	p := e.projectByID[body.ProjectID]
	if p == nil {
		e.mu.Unlock()
		writeError(w, http.StatusNotFound, "project "+body.ProjectID+" not found")
		return
	}
	if e.isForbiddenLocked(p.id) {
		e.mu.Unlock()
		writeError(w, http.StatusForbidden, "Forbidden resource: project "+p.id)
		return
	}
	d := e.addBatchLocked(p, body.Name, nil).doc(true)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, d)
}

// handleDeleteBatch is B6; it answers the deleted batch's document.
func (e *Emulator) handleDeleteBatch(w http.ResponseWriter, _ *http.Request, id string) {
	e.mu.Lock()
	b := e.batches[id]
	if b == nil {
		e.mu.Unlock()
		writeError(w, http.StatusNotFound, "batch "+id+" not found")
		return
	}
	if e.batchForbiddenLocked(b) {
		e.mu.Unlock()
		writeError(w, http.StatusForbidden, "Forbidden resource: batch "+id)
		return
	}
	d := b.doc(true)
	e.deleteBatchLocked(b)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}
