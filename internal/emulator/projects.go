package emulator

import (
	"net/http"
	"strings"
)

// handleListProjects is P1: projects filtered by repeated `ids`, `statuses`, `types` and by
// `search` (case-insensitive substring of the name), paginated with the server's cap.
// Asking for a forbidden id is 403; without `ids`, forbidden projects are simply not listed.
func (e *Emulator) handleListProjects(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	page, limit, msg := pageParams(q)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	ids, statuses, types := q["ids"], q["statuses"], q["types"]
	search := strings.ToLower(q.Get("search"))

	e.mu.RLock()
	limit = min(limit, e.pageCap)
	for _, id := range ids {
		if e.isForbiddenLocked(id) {
			e.mu.RUnlock()
			writeError(w, http.StatusForbidden, "Forbidden resource: project "+id)
			return
		}
	}
	start, _ := window(len(e.projects), page, limit)
	var docs []projectDoc
	total := 0
	for _, p := range e.projects {
		switch {
		case len(ids) > 0 && !contains(ids, p.id),
			len(statuses) > 0 && !contains(statuses, p.status),
			len(types) > 0 && !contains(types, p.typ),
			search != "" && !strings.Contains(strings.ToLower(p.name), search),
			e.isForbiddenLocked(p.id):
			continue
		}
		if total >= start && len(docs) < limit {
			docs = append(docs, p.doc())
		}
		total++
	}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, newPage(docs, total, page, limit))
}
