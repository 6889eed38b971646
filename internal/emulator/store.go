package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// idPrefix + a 12-hex-digit counter makes deterministic 24-hex-digit object ids: the first
// id allocated is 6650c1f2a9b4000000000001.
const idPrefix = "6650c1f2a9b4"

type project struct {
	id, name, status, typ string
	batches               []*batch // creation order; pages are windows of this slice
}

type batch struct {
	seq       uint64 // counter value of the id: orders batches, found by binary search on delete
	id, name  string
	status    string
	datasetID string
	project   *project
	workflow  *workflow // nil: a batch without a workflow (B1/B2 omit `workflow`, W3 is 400)
}

type workflow struct {
	id, name string
	hook     *webhook
	batches  []*batch // batches pointing at this workflow (usually one)
}

type webhook struct {
	url       string
	header    *string
	updatedAt time.Time
	lastCall  *CallInfo
	lastError *errorRecord
}

type errorRecord struct {
	statusCode int
	message    string
	body       json.RawMessage // compact JSON; a non-JSON body is stored as a JSON string; nil when none
}

// newIDLocked allocates the next id from the shared counter.
func (e *Emulator) newIDLocked() (string, uint64) {
	e.nextID++
	return fmt.Sprintf("%s%012x", idPrefix, e.nextID), e.nextID
}

// AddProject creates a project with status "pending" and type "form" and returns its id.
func (e *Emulator) AddProject(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addProjectLocked(name, "pending", "form").id
}

func (e *Emulator) addProjectLocked(name, status, typ string) *project {
	id, _ := e.newIDLocked()
	p := &project{id: id, name: name, status: status, typ: typ}
	e.projects = append(e.projects, p)
	e.projectByID[id] = p
	return p
}

// AddBatch creates a batch with its own new workflow (no webhook) and returns the batch id,
// or "" when the project is unknown. The batch id is allocated before the workflow id.
func (e *Emulator) AddBatch(projectID, name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectByID[projectID]
	if p == nil {
		return ""
	}
	return e.addBatchLocked(p, name, nil).id
}

// AddBatchWithWorkflow creates a batch sharing an existing workflow and returns its id, or ""
// when the project or the workflow is unknown.
func (e *Emulator) AddBatchWithWorkflow(projectID, name, workflowID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, w := e.projectByID[projectID], e.workflows[workflowID]
	if p == nil || w == nil {
		return ""
	}
	return e.addBatchLocked(p, name, w).id
}

// AddBatchWithoutWorkflow creates a batch that has no workflow, as the contract
// (internal/client/CONTRACT.md) allows: B1 then omits `workflow`, setup-webhook by its id
// answers 400. It returns the batch id, or "" when the project is unknown. Only the batch id is
// allocated.
func (e *Emulator) AddBatchWithoutWorkflow(projectID, name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectByID[projectID]
	if p == nil {
		return ""
	}
	return e.addBatchNoWorkflowLocked(p, name).id
}

// addBatchLocked appends a batch to p; a nil w gets a new workflow named after the batch.
func (e *Emulator) addBatchLocked(p *project, name string, w *workflow) *batch {
	b := e.addBatchNoWorkflowLocked(p, name)
	if w == nil {
		wid, _ := e.newIDLocked()
		w = &workflow{id: wid, name: name + " workflow"}
		e.workflows[wid] = w
	}
	b.workflow = w
	w.batches = append(w.batches, b)
	return b
}

func (e *Emulator) addBatchNoWorkflowLocked(p *project, name string) *batch {
	id, seq := e.newIDLocked()
	b := &batch{seq: seq, id: id, name: name, status: "pending", project: p}
	p.batches = append(p.batches, b)
	e.batches[id] = b
	return b
}

// DeleteBatch removes a batch, as API B6 does. Its workflow stays readable.
func (e *Emulator) DeleteBatch(batchID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.batches[batchID]; b != nil {
		e.deleteBatchLocked(b)
	}
}

func (e *Emulator) deleteBatchLocked(b *batch) {
	delete(e.batches, b.id)
	p := b.project
	i := sort.Search(len(p.batches), func(i int) bool { return p.batches[i].seq >= b.seq })
	if i < len(p.batches) && p.batches[i] == b {
		p.batches = slices.Delete(p.batches, i, i+1)
	}
	if w := b.workflow; w != nil {
		if j := slices.Index(w.batches, b); j >= 0 {
			w.batches = slices.Delete(w.batches, j, j+1)
		}
	}
}

// MoveBatch moves a batch, with its workflow and webhook, to another project
// (what the web UI could do). Unknown ids are ignored.
func (e *Emulator) MoveBatch(batchID, projectID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, to := e.batches[batchID], e.projectByID[projectID]
	if b == nil || to == nil || b.project == to {
		return
	}
	from := b.project
	if i := slices.Index(from.batches, b); i >= 0 {
		from.batches = slices.Delete(from.batches, i, i+1)
	}
	// Pages are windows of the slice in creation order: keep it sorted.
	i := sort.Search(len(to.batches), func(i int) bool { return to.batches[i].seq >= b.seq })
	to.batches = slices.Insert(to.batches, i, b)
	b.project = to
}

// Forbid makes API calls touching the project, batch or workflow id answer 403.
// A batch is touched by B1/B6/W3 on it; its project's B2/B4/P1 ids; a workflow by W1/W2 on it
// and by W3 on any batch using it. Forbidding a project or batch also forbids the workflows its
// batches use (permissions follow ownership).
func (e *Emulator) Forbid(id string) {
	e.mu.Lock()
	e.forbidden[id] = struct{}{}
	e.mu.Unlock()
}

// Unforbid undoes Forbid.
func (e *Emulator) Unforbid(id string) {
	e.mu.Lock()
	delete(e.forbidden, id)
	e.mu.Unlock()
}

func (e *Emulator) isForbiddenLocked(id string) bool {
	if len(e.forbidden) == 0 {
		return false
	}
	_, ok := e.forbidden[id]
	return ok
}

func (e *Emulator) batchForbiddenLocked(b *batch) bool {
	return e.isForbiddenLocked(b.id) || e.isForbiddenLocked(b.project.id)
}

func (e *Emulator) workflowForbiddenLocked(w *workflow) bool {
	if len(e.forbidden) == 0 {
		return false
	}
	if e.isForbiddenLocked(w.id) {
		return true
	}
	for _, b := range w.batches {
		if e.batchForbiddenLocked(b) {
			return true
		}
	}
	return false
}

// Batch returns a snapshot of a batch; WorkflowID is "" for a batch without a workflow.
func (e *Emulator) Batch(id string) (BatchInfo, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	b := e.batches[id]
	if b == nil {
		return BatchInfo{}, false
	}
	bi := BatchInfo{ID: b.id, Name: b.name, ProjectID: b.project.id, Status: b.status}
	if b.workflow != nil {
		bi.WorkflowID = b.workflow.id
	}
	return bi, true
}

// Project returns a snapshot of a project.
func (e *Emulator) Project(id string) (ProjectInfo, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p := e.projectByID[id]
	if p == nil {
		return ProjectInfo{}, false
	}
	return ProjectInfo{ID: p.id, Name: p.name, Status: p.status, Type: p.typ}, true
}

// Projects returns every project, in creation order.
func (e *Emulator) Projects() []ProjectInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]ProjectInfo, len(e.projects))
	for i, p := range e.projects {
		out[i] = ProjectInfo{ID: p.id, Name: p.name, Status: p.status, Type: p.typ}
	}
	return out
}

// ProjectBatches returns the batch ids of a project, in creation order.
func (e *Emulator) ProjectBatches(projectID string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p := e.projectByID[projectID]
	if p == nil {
		return nil
	}
	out := make([]string, len(p.batches))
	for i, b := range p.batches {
		out[i] = b.id
	}
	return out
}

// SetBatchStatus changes a batch's status (what the web UI or the workforce would do).
func (e *Emulator) SetBatchStatus(batchID, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.batches[batchID]; b != nil {
		b.status = status
	}
}

// SetBatchDataset points a batch at a dataset ("" makes `dataset` null again).
func (e *Emulator) SetBatchDataset(batchID, datasetID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.batches[batchID]; b != nil {
		b.datasetID = datasetID
	}
}

// SetProjectStatus changes a project's status.
func (e *Emulator) SetProjectStatus(projectID, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.projectByID[projectID]; p != nil {
		p.status = status
	}
}

// SetProjectType changes a project's type.
func (e *Emulator) SetProjectType(projectID, typ string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.projectByID[projectID]; p != nil {
		p.typ = typ
	}
}

// Webhook returns a snapshot of a workflow's webhook; false when none is set or the workflow is unknown.
func (e *Emulator) Webhook(workflowID string) (WebhookInfo, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	w := e.workflows[workflowID]
	if w == nil || w.hook == nil {
		return WebhookInfo{}, false
	}
	return w.hook.info(), true
}

// SetWebhook sets a workflow's webhook out of band (no validation, as a direct database change
// would be); lastCall/lastError are kept. Unknown workflows are ignored.
func (e *Emulator) SetWebhook(workflowID, url string, header *string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.workflows[workflowID]; w != nil {
		setHookLocked(w, url, header, time.Now())
	}
}

// ClearWebhook removes a workflow's webhook (W1 then shows `webhook: null`).
func (e *Emulator) ClearWebhook(workflowID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w := e.workflows[workflowID]; w != nil {
		w.hook = nil
	}
}

func setHookLocked(w *workflow, url string, header *string, now time.Time) {
	var h *string
	if header != nil {
		s := *header
		h = &s
	}
	if w.hook == nil {
		w.hook = &webhook{}
	}
	w.hook.url = url
	w.hook.header = h
	w.hook.updatedAt = now.UTC().Truncate(time.Millisecond)
}

func (h *webhook) info() WebhookInfo {
	wi := WebhookInfo{URL: h.url, UpdatedAt: h.updatedAt}
	if h.header != nil {
		s := *h.header
		wi.Header = &s
	}
	if h.lastCall != nil {
		c := *h.lastCall
		wi.LastCall = &c
	}
	if h.lastError != nil {
		wi.LastError = &ErrorInfo{StatusCode: h.lastError.statusCode, Message: h.lastError.message}
		if h.lastError.body != nil {
			// Decoded afresh on each call so callers cannot alias the stored body.
			_ = json.Unmarshal(h.lastError.body, &wi.LastError.Body)
		}
	}
	return wi
}
