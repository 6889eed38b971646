package emulator

import (
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Wire documents. The emulator has its own JSON types on purpose: it and the client are
// independent readings of the contract (internal/client/CONTRACT.md).

type errorDoc struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

type idRef struct {
	ID string `json:"id"`
}

type batchDoc struct {
	ID        string `json:"_id"`
	Name      string `json:"name"`
	ProjectID string `json:"projectId"`
	Workflow  *idRef `json:"workflow,omitempty"` // absent for a batch without a workflow
	Dataset   *idRef `json:"dataset"`
	Status    string `json:"status"`
}

type projectDoc struct {
	ID     string `json:"_id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

type workflowDoc struct {
	ID      string      `json:"_id"`
	Name    string      `json:"name"`
	Webhook *webhookDoc `json:"webhook"`
}

type webhookDoc struct {
	URL       string        `json:"url"`
	Header    *string       `json:"header"`
	UpdatedAt string        `json:"updatedAt"`
	LastCall  *lastCallDoc  `json:"lastCall,omitempty"`
	LastError *lastErrorDoc `json:"lastError,omitempty"`
}

type lastCallDoc struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Date       string `json:"date"`
}

type lastErrorDoc struct {
	StatusCode int             `json:"statusCode"`
	Message    string          `json:"message"`
	Body       json.RawMessage `json:"body"` // nil encodes as null
}

// pageDoc is the mongoose-paginate-v2 envelope of paginated lists.
type pageDoc[T any] struct {
	Docs          []T  `json:"docs"`
	TotalDocs     int  `json:"totalDocs"`
	Limit         int  `json:"limit"`
	TotalPages    int  `json:"totalPages"`
	Page          int  `json:"page"`
	PagingCounter int  `json:"pagingCounter"`
	HasPrevPage   bool `json:"hasPrevPage"`
	HasNextPage   bool `json:"hasNextPage"`
	PrevPage      *int `json:"prevPage"`
	NextPage      *int `json:"nextPage"`
}

// timeFormat is the API's date format: UTC, milliseconds, "Z".
const timeFormat = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func (b *batch) doc(withWorkflow bool) batchDoc {
	d := batchDoc{ID: b.id, Name: b.name, ProjectID: b.project.id, Status: b.status}
	if withWorkflow && b.workflow != nil {
		d.Workflow = &idRef{ID: b.workflow.id}
	}
	if b.datasetID != "" {
		d.Dataset = &idRef{ID: b.datasetID}
	}
	return d
}

func (p *project) doc() projectDoc {
	return projectDoc{ID: p.id, Name: p.name, Status: p.status, Type: p.typ}
}

// doc is nil-safe: a missing webhook encodes as null.
func (h *webhook) doc() *webhookDoc {
	if h == nil {
		return nil
	}
	d := &webhookDoc{URL: h.url, UpdatedAt: formatTime(h.updatedAt)}
	if h.header != nil {
		s := *h.header
		d.Header = &s
	}
	if c := h.lastCall; c != nil {
		d.LastCall = &lastCallDoc{StatusCode: c.StatusCode, Message: c.Message, Date: formatTime(c.Date)}
	}
	if le := h.lastError; le != nil {
		d.LastError = &lastErrorDoc{StatusCode: le.statusCode, Message: le.message, Body: le.body}
	}
	return d
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"statusCode":500,"message":"Internal Server Error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorDoc{StatusCode: status, Message: msg})
}

func itoa(n int) string { return strconv.Itoa(n) }

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// Default page size when `limit` is absent (mongoose-paginate-v2's and the SDK's).
const defaultLimit = 10

// pageParams reads `page` and `limit` (defaults 1 and 10). `pagination` is not required: a
// missing or false value still paginates, so a server-side cap can never be bypassed.
func pageParams(q url.Values) (page, limit int, msg string) {
	page, limit = 1, defaultLimit
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "page must be a positive integer, got " + strconv.Quote(v)
		}
		page = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, "limit must be a positive integer, got " + strconv.Quote(v)
		}
		limit = n
	}
	return page, limit, ""
}

// window returns the [start,end) slice bounds of a page over total items, without overflow
// for absurd page numbers.
func window(total, page, limit int) (start, end int) {
	if page-1 >= (total+limit-1)/limit {
		return total, total
	}
	start = (page - 1) * limit
	return start, min(total, start+limit)
}

func newPage[T any](docs []T, total, page, limit int) pageDoc[T] {
	if docs == nil {
		docs = []T{}
	}
	pages := max(1, (total+limit-1)/limit)
	p := pageDoc[T]{
		Docs: docs, TotalDocs: total, Limit: limit, TotalPages: pages, Page: page,
		HasPrevPage: page > 1, HasNextPage: page < pages,
	}
	// pagingCounter is the 1-based position of the page's first document (mongoose-paginate-v2).
	if page-1 <= math.MaxInt32/limit { // no overflow on 32-bit ints
		p.PagingCounter = (page-1)*limit + 1
	}
	if p.HasPrevPage {
		v := page - 1
		p.PrevPage = &v
	}
	if p.HasNextPage {
		v := page + 1
		p.NextPage = &v
	}
	return p
}
