// Package fanout runs project-wide webhook work: the SDK's
// setup_webhook(project_id=...) without a batch, as bounded concurrent work
// over every batch of a project. It knows the API contract (through package
// client), not Terraform.
//
// Each operation lists the project's batches once (large pages), finds each
// batch's workflow (from the list document, or one batch call when the list
// leaves it out), and then touches each distinct workflow once: batches that
// share a workflow share its webhook, so a second call would be wasted.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// Want is the webhook every batch should hold.
type Want struct {
	URL    string
	Header *string
	// CompareHeader is false when the header cannot be known here (a
	// write-only value during a refresh): only the url decides then.
	CompareHeader bool
}

// Holds reports whether w is what the caller wants.
func (want Want) Holds(w *client.Webhook) bool {
	if w == nil || w.URL != want.URL {
		return false
	}
	if !want.CompareHeader {
		return true
	}
	return sameHeader(w.Header, want.Header)
}

func sameHeader(a, b *string) bool {
	// The server may answer "" or null for "no header"; both mean none.
	av, bv := "", ""
	if a != nil {
		av = *a
	}
	if b != nil {
		bv = *b
	}
	return av == bv
}

// Options bound the work.
type Options struct {
	// Concurrency is the number of API calls in flight at once; at least 1.
	Concurrency int
	// ProgressEvery is how often long runs log their progress at INFO.
	ProgressEvery time.Duration
}

func (o Options) workers() int {
	if o.Concurrency < 1 {
		return 1
	}
	return o.Concurrency
}

func (o Options) progressEvery() time.Duration {
	if o.ProgressEvery <= 0 {
		return 5 * time.Second
	}
	return o.ProgressEvery
}

// Failure is a workflow whose call failed, with the batches that use it.
type Failure struct {
	BatchIDs []string
	Err      error
}

// Report says what a project-wide operation found or did.
type Report struct {
	// BatchIDs lists every batch of the project, in the server's order, and
	// BatchWorkflows the workflow of each ("" when it was not looked up).
	BatchIDs       []string
	BatchWorkflows []string
	// Workflows is the number of distinct workflows behind those batches.
	Workflows int
	// OutOfStep lists the batches whose webhook is not the wanted one after
	// the operation (failed ones included).
	OutOfStep []string
	// Failed lists the calls that failed, with the batches they cover.
	Failed []Failure
	// Foreign lists, for Clear, batches left alone because their webhook url
	// is no longer the one the caller owns.
	Foreign []string

	// The most recent webhook facts across the project's workflows.
	UpdatedAt string
	LastCall  *client.Call
	LastError *client.CallError

	// Common is, for Inspect without a Want (import), the url and header
	// held by the most batches; nil when no batch holds a webhook.
	Common *client.Webhook
}

// Err summarises the failures, naming the first few batches and a count.
func (r *Report) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	var ids []string
	var first error
	for _, f := range r.Failed {
		ids = append(ids, f.BatchIDs...)
		if first == nil {
			first = f.Err
		}
	}
	sort.Strings(ids)
	return &BatchesError{BatchIDs: ids, First: first}
}

// BatchesError is the error of a fan-out in which some batches failed.
type BatchesError struct {
	BatchIDs []string
	First    error
}

const namedInError = 5

func (e *BatchesError) Error() string {
	shown := e.BatchIDs
	more := ""
	if len(shown) > namedInError {
		more = fmt.Sprintf(" and %d more", len(shown)-namedInError)
		shown = shown[:namedInError]
	}
	return fmt.Sprintf("%d batch(es) failed: %v%s; first error: %v", len(e.BatchIDs), shown, more, e.First)
}

func (e *BatchesError) Unwrap() error { return e.First }

// batch is the small per-batch record kept during a run.
type batch struct {
	id       string
	workflow int32 // index into run.workflows; -1 until known, or noWorkflow
}

// noWorkflow marks a batch known in step whose workflow was not looked up:
// nothing will be done to it, so a batch call to find it would be wasted.
const noWorkflow = -2

// workflowResult is what the per-workflow operation decided.
type workflowResult uint8

const (
	resultPending workflowResult = iota
	resultInStep
	resultOutOfStep
	resultFailed
	resultForeign
	resultGone // the workflow has no webhook and there was nothing to do
)

type run struct {
	c    *client.Client
	opts Options
	// inStep, when set, holds batches known in step (see Known).
	inStep map[string]string

	batches   []batch
	workflows []string         // distinct workflow ids
	results   []workflowResult // per workflow
	errs      map[int]error    // per failed workflow

	mu        sync.Mutex
	updatedAt string
	lastCall  *client.Call
	lastErr   *client.CallError
	lastErrAt string
	common    map[string]int // "url\x00header" -> batches, for Common
	commonWH  map[string]*client.Webhook
}

// list walks the project's batches, keeping a small record of each.
func (r *run) list(ctx context.Context, projectID string) error {
	index := map[string]int32{}
	var missing []int
	err := r.c.ListBatches(ctx, client.BatchFilter{ProjectID: projectID}, func(b client.Batch) error {
		rec := batch{id: b.ID, workflow: -1}
		switch {
		case b.WorkflowID != "":
			rec.workflow = r.workflowIndex(index, b.WorkflowID)
		case r.knownInStep(b.ID):
			rec.workflow = noWorkflow
		default:
			missing = append(missing, len(r.batches))
		}
		r.batches = append(r.batches, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the batches of project %s: %w", projectID, err)
	}
	if len(missing) == 0 {
		return nil
	}

	// The list documents left the workflow out: ask each batch.
	tflog.Debug(ctx, "list documents carry no workflow; reading batches one by one", map[string]any{"batches": len(missing)})
	found := make([]string, len(missing))
	gone := make([]bool, len(missing))
	var failed []Failure
	var fmu sync.Mutex
	err = Each(ctx, r.opts.workers(), len(missing), func(ctx context.Context, i int) {
		b, err := r.c.GetBatch(ctx, r.batches[missing[i]].id)
		switch {
		case errors.Is(err, client.ErrNotFound):
			gone[i] = true // deleted since the list: no longer the project's
		case err != nil:
			fmu.Lock()
			failed = append(failed, Failure{BatchIDs: []string{r.batches[missing[i]].id}, Err: err})
			fmu.Unlock()
		case b.WorkflowID == "":
			fmu.Lock()
			failed = append(failed, Failure{BatchIDs: []string{b.ID}, Err: fmt.Errorf("batch %s has no workflow", b.ID)})
			fmu.Unlock()
		default:
			found[i] = b.WorkflowID
		}
	})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		rep := Report{Failed: failed}
		return rep.Err()
	}
	for i, bi := range missing {
		if !gone[i] {
			r.batches[bi].workflow = r.workflowIndex(index, found[i])
		}
	}
	kept := r.batches[:0]
	for _, b := range r.batches {
		if b.workflow != -1 {
			kept = append(kept, b)
		}
	}
	r.batches = kept
	return nil
}

func (r *run) knownInStep(batchID string) bool {
	_, ok := r.inStep[batchID]
	return ok
}

func (r *run) workflowIndex(index map[string]int32, id string) int32 {
	if i, ok := index[id]; ok {
		return i
	}
	i := int32(len(r.workflows))
	index[id] = i
	r.workflows = append(r.workflows, id)
	return i
}

// each runs op once per distinct workflow, in a bounded pool, logging progress.
func (r *run) each(ctx context.Context, verb string, op func(ctx context.Context, i int, workflowID string) (workflowResult, error)) error {
	r.results = make([]workflowResult, len(r.workflows))
	r.errs = map[int]error{}
	var done atomic.Int64
	var emu sync.Mutex

	stop := r.progress(ctx, verb, &done)
	defer stop()

	return Each(ctx, r.opts.workers(), len(r.workflows), func(ctx context.Context, i int) {
		res, err := op(ctx, i, r.workflows[i])
		if err != nil {
			emu.Lock()
			r.errs[i] = err
			emu.Unlock()
			res = resultFailed
		}
		r.results[i] = res
		done.Add(1)
	})
}

// progress logs "verb N of M workflows" at INFO every few seconds until stopped.
func (r *run) progress(ctx context.Context, verb string, done *atomic.Int64) func() {
	total := len(r.workflows)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.opts.progressEvery())
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				tflog.Info(ctx, fmt.Sprintf("webhook %s on %d of %d workflows (%d batches)", verb, done.Load(), total, len(r.batches)))
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// observe folds one workflow's webhook into the project-wide facts.
func (r *run) observe(w *client.Webhook, batches int) {
	if w == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if Later(w.UpdatedAt, r.updatedAt) {
		r.updatedAt = w.UpdatedAt
	}
	if w.LastCall != nil && (r.lastCall == nil || Later(w.LastCall.Date, r.lastCall.Date)) {
		c := *w.LastCall
		r.lastCall = &c
	}
	// lastError carries no date; the one of the workflow whose last call is
	// the most recent is the best guess at "the latest error".
	if w.LastError != nil {
		at := ""
		if w.LastCall != nil {
			at = w.LastCall.Date
		}
		if r.lastErr == nil || Later(at, r.lastErrAt) {
			e := *w.LastError
			r.lastErr, r.lastErrAt = &e, at
		}
	}
	if r.common != nil {
		key := w.URL + "\x00"
		if w.Header != nil {
			key += "h" + *w.Header
		}
		r.common[key] += batches
		if _, ok := r.commonWH[key]; !ok {
			r.commonWH[key] = &client.Webhook{URL: w.URL, Header: w.Header}
		}
	}
}

// Later reports whether timestamp a is after b; unparsable values lose.
func Later(a, b string) bool {
	if a == "" {
		return false
	}
	if b == "" {
		return true
	}
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	switch {
	case errA != nil:
		return false
	case errB != nil:
		return true
	}
	return ta.After(tb)
}

// batchesPerWorkflow counts the batches behind each workflow.
func (r *run) batchesPerWorkflow() []int {
	n := make([]int, len(r.workflows))
	for _, b := range r.batches {
		if b.workflow >= 0 {
			n[b.workflow]++
		}
	}
	return n
}

// report turns per-workflow results into per-batch facts.
func (r *run) report() Report {
	rep := Report{
		BatchIDs:       make([]string, 0, len(r.batches)),
		BatchWorkflows: make([]string, 0, len(r.batches)),
		Workflows:      len(r.workflows),
		UpdatedAt:      r.updatedAt,
		LastCall:       r.lastCall,
		LastError:      r.lastErr,
	}
	failed := map[int32]*Failure{}
	var order []int32
	for _, b := range r.batches {
		rep.BatchIDs = append(rep.BatchIDs, b.id)
		if b.workflow == noWorkflow {
			rep.BatchWorkflows = append(rep.BatchWorkflows, r.inStep[b.id])
			continue // known in step, left alone
		}
		rep.BatchWorkflows = append(rep.BatchWorkflows, r.workflows[b.workflow])
		switch r.results[b.workflow] {
		case resultInStep, resultGone:
		case resultForeign:
			rep.Foreign = append(rep.Foreign, b.id)
		case resultFailed:
			rep.OutOfStep = append(rep.OutOfStep, b.id)
			f, ok := failed[b.workflow]
			if !ok {
				f = &Failure{Err: r.errs[int(b.workflow)]}
				failed[b.workflow] = f
				order = append(order, b.workflow)
			}
			f.BatchIDs = append(f.BatchIDs, b.id)
		default:
			rep.OutOfStep = append(rep.OutOfStep, b.id)
		}
	}
	for _, w := range order {
		rep.Failed = append(rep.Failed, *failed[w])
	}
	if len(r.common) > 0 {
		best, bestN := "", -1
		for k, n := range r.common {
			if n > bestN || (n == bestN && k < best) {
				best, bestN = k, n
			}
		}
		rep.Common = r.commonWH[best]
	}
	return rep
}

// Each runs fn for i in [0, n) on at most workers goroutines. It stops
// handing out work when ctx is done and then returns ctx's error.
func Each(ctx context.Context, workers, n int, fn func(ctx context.Context, i int)) error {
	workers = max(1, min(workers, n))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(ctx, i)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}
