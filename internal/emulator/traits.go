package emulator

import (
	"fmt"
	"net/http"
)

// Server traits: deterministic misbehaviours that tests switch on per emulator. They act inside
// the handlers, so a request still goes through auth, pacing, faults and counting first, and
// only their own setter changes them.

// setTrait is the FailSets / AnswerAppliedSetsWith state of one workflow.
type setTrait struct {
	failStatus    int // FailSets: answered, not applied; 0 when off
	appliedStatus int // AnswerAppliedSetsWith: applied, then answered
	appliedLeft   int // requests left to answer appliedStatus
}

// SetListIgnoresFilter makes B2 ignore its `projectId` filter while ignore is true, as a server
// that misapplies it: every project's batches are listed, in creation order, each with its own
// projectId. The rest is unchanged: `projectId` is still required, a forbidden projectId is still
// 403, `statuses`/`search` still filter, and pagination and the page cap still apply.
func (e *Emulator) SetListIgnoresFilter(ignore bool) {
	e.mu.Lock()
	e.listIgnoresFilter = ignore
	e.mu.Unlock()
}

// SetBatchReadNotFound makes B1 on batchID answer 404 exactly as for an unknown batch while
// notFound is true (even when it is forbidden), as a lagging or inconsistent read would. W3 by
// that batch also answers 404 (it looks the batch up by id the same way), without counting
// against FailSets/AnswerAppliedSetsWith. B2 still lists it; B6, Deliver, the accessors and its
// workflow (W1, W2) behave normally. The id need not exist yet.
func (e *Emulator) SetBatchReadNotFound(batchID string, notFound bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if notFound {
		if e.batchReadNotFound == nil {
			e.batchReadNotFound = map[string]struct{}{}
		}
		e.batchReadNotFound[batchID] = struct{}{}
	} else {
		delete(e.batchReadNotFound, batchID)
	}
}

// FailSets makes every setup-webhook request targeting workflowID (W2 by it, W3 by any batch
// using it) answer status with an error body {"statusCode","message"}, leaving the stored
// webhook untouched. A removal ({"url": null, "header": null}) is the same call in the
// contract, so it fails too. The request's own 400/404/403 answers come first. status 0 removes
// the trait; any other status outside [400, 599] panics. AnswerAppliedSetsWith's remaining
// count on the same workflow is used up first.
func (e *Emulator) FailSets(workflowID string, status int) {
	checkTraitStatus("FailSets", status)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setTraitLocked(workflowID).failStatus = status
	e.pruneSetTraitLocked(workflowID)
}

// AnswerAppliedSetsWith makes the next n setup-webhook requests targeting workflowID apply
// exactly as a normal one would (removals included), then answer status with an error body, as
// a gateway timing out after the server acted. Only requests that would have been applied count
// (not 400/404/403 answers, nor requests stopped by auth or faults). Each call replaces the
// count; status 0 or n <= 0 removes the trait; a status outside [400, 599] panics. Once the
// count is used up, FailSets applies if set.
func (e *Emulator) AnswerAppliedSetsWith(workflowID string, status int, n int) {
	checkTraitStatus("AnswerAppliedSetsWith", status)
	if status == 0 || n <= 0 {
		status, n = 0, 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.setTraitLocked(workflowID)
	t.appliedStatus, t.appliedLeft = status, n
	e.pruneSetTraitLocked(workflowID)
}

// Error answers only: a 1xx-3xx would not be an error body, and a client cannot be staged
// with it.
func checkTraitStatus(name string, status int) {
	if status != 0 && (status < 400 || status > 599) {
		panic(fmt.Sprintf("emulator: %s status %d: want 0 or 400-599", name, status))
	}
}

func (e *Emulator) setTraitLocked(workflowID string) *setTrait {
	if e.setTraits == nil {
		e.setTraits = map[string]*setTrait{}
	}
	t := e.setTraits[workflowID]
	if t == nil {
		t = &setTrait{}
		e.setTraits[workflowID] = t
	}
	return t
}

func (e *Emulator) pruneSetTraitLocked(workflowID string) {
	if t := e.setTraits[workflowID]; t != nil && t.failStatus == 0 && t.appliedLeft == 0 {
		delete(e.setTraits, workflowID)
	}
}

// setOutcomeLocked decides a setup-webhook request that reached workflowID and would be
// applied: apply reports whether to store it, status (non-zero) what to answer instead of the
// normal answer. It consumes one AnswerAppliedSetsWith request, under the lock that applies it.
func (e *Emulator) setOutcomeLocked(workflowID string) (status int, apply bool) {
	t := e.setTraits[workflowID]
	switch {
	case t == nil:
		return 0, true
	case t.appliedLeft > 0:
		t.appliedLeft--
		status = t.appliedStatus
		e.pruneSetTraitLocked(workflowID)
		return status, true
	default:
		return t.failStatus, t.failStatus == 0
	}
}

func (e *Emulator) batchReadNotFoundLocked(id string) bool {
	if len(e.batchReadNotFound) == 0 {
		return false
	}
	_, ok := e.batchReadNotFound[id]
	return ok
}

// traitMessage is the error message of a trait's answer; it does not say it is staged.
func traitMessage(status int) string {
	if s := http.StatusText(status); s != "" {
		return s
	}
	return "Error"
}
