// Package webhooks is the provider's engine for webhook work. It takes a
// target (one workflow, one batch, or every batch of a project) and sets a
// webhook on it and verifies what the server holds, clears it where the
// caller owns it, or inspects what it holds. It knows the API contract
// (internal/client/CONTRACT.md, through package client), not Terraform.
//
// Every operation first finds what the target covers (Coverage): each batch
// with its workflow. The webhook lives on the workflow, so each distinct
// workflow is touched once, in a bounded pool, however many batches share it.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/sync/errgroup"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// Target names what a webhook covers: one workflow (WorkflowID), one batch
// of the project (BatchID), or every batch of the project (neither).
type Target struct {
	ProjectID  string
	BatchID    string
	WorkflowID string
}

// Project reports whether the target is a whole project.
func (t Target) Project() bool { return t.BatchID == "" && t.WorkflowID == "" }

func (t Target) String() string {
	switch {
	case t.BatchID != "":
		return "batch " + t.BatchID + " of project " + t.ProjectID
	case t.WorkflowID != "":
		return "workflow " + t.WorkflowID
	}
	return "project " + t.ProjectID
}

// Want is the webhook a target should hold.
type Want struct {
	URL    string
	Header *string // nil: no header
	// HeaderKnown is false when the header cannot be compared (a write-only
	// value during a refresh, or a header adopted on import): the url decides.
	HeaderKnown bool
	// KeepHeaderOf, for Set, when not nil, keeps the header each workflow
	// holds (one more read per workflow), but only where the workflow holds a
	// url it accepts (the caller's): the caller never knew that header, and a
	// set without it would clear it. A header that came with someone else's
	// url is someone else's secret: never sent to the caller's url.
	KeepHeaderOf func(url string) bool
	// SkipHeld, for Set, reads each workflow first and leaves alone one that
	// already holds the webhook (with KeepHeaderOf, its url): for an update
	// that has no refresh of its own command to say which workflows are in
	// step, so that it checks each instead of trusting an old record.
	SkipHeld bool
}

// Holds reports whether w is the wanted webhook.
func (want Want) Holds(w *client.Webhook) bool {
	if w == nil || w.URL != want.URL {
		return false
	}
	return !want.HeaderKnown || headerOf(w.Header) == headerOf(want.Header)
}

// headerOf maps "no header" to "": the server may answer "" or null for it.
func headerOf(h *string) string {
	if h == nil {
		return ""
	}
	return *h
}

// Options bound the work.
type Options struct {
	// Concurrency is the number of API calls in flight at once; at least 1.
	Concurrency int
	// ProgressEvery is how often long runs log their progress at INFO.
	ProgressEvery time.Duration
}

func (o Options) workers() int { return max(1, o.Concurrency) }

func (o Options) progressEvery() time.Duration {
	if o.ProgressEvery <= 0 {
		return 5 * time.Second
	}
	return o.ProgressEvery
}

// Facts are the webhook's read-only facts, the most recent across the
// workflows an operation read.
type Facts struct {
	UpdatedAt string
	LastCall  *client.Call
	LastError *client.CallError
	lastErrAt string // lastCall date of the workflow lastError came from
}

// observe folds one workflow's webhook into f.
func (f *Facts) observe(w *client.Webhook) {
	if w == nil {
		return
	}
	if Later(w.UpdatedAt, f.UpdatedAt) {
		f.UpdatedAt = w.UpdatedAt
	}
	at := ""
	if w.LastCall != nil {
		at = w.LastCall.Date
		if f.LastCall == nil || Later(at, f.LastCall.Date) {
			c := *w.LastCall
			f.LastCall = &c
		}
	}
	// lastError carries no date; the one of the workflow called last is the
	// best guess at "the latest error".
	if w.LastError != nil && (f.LastError == nil || Later(at, f.lastErrAt)) {
		e := *w.LastError
		f.LastError, f.lastErrAt = &e, at
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

// FirstFew names at most n ids of a set, sorted, for messages.
func FirstFew(ids []string, n int) string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if len(sorted) <= n {
		return fmt.Sprint(sorted)
	}
	return fmt.Sprintf("%v and %d more", sorted[:n], len(sorted)-n)
}

// Each runs fn for i in [0, n) on at most workers goroutines. It stops
// handing out work when ctx is done, waits for the work in hand, and then
// returns ctx's error.
func Each(ctx context.Context, workers, n int, fn func(ctx context.Context, i int)) error {
	var g errgroup.Group
	g.SetLimit(max(1, workers))
	for i := 0; i < n && ctx.Err() == nil; i++ {
		g.Go(func() error {
			// Checked again here: Go may have waited for a slot while ctx ended.
			if ctx.Err() == nil {
				fn(ctx, i)
			}
			return nil
		})
	}
	_ = g.Wait() // fn reports its own failures: every Go returns nil
	return ctx.Err()
}

// eachWorkflow runs op once per workflow in a bounded pool, logging "verb N
// of M workflows" at INFO every few seconds, and collects the failures.
func eachWorkflow(ctx context.Context, opts Options, verb string, workflows []string, op func(ctx context.Context, workflowID string) error) (map[string]error, error) {
	var done atomic.Int64
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(opts.progressEvery())
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				tflog.Info(ctx, fmt.Sprintf("webhook %s on %d of %d workflows", verb, done.Load(), len(workflows)))
			}
		}
	}()
	defer func() { close(quit); wg.Wait() }()

	failed := map[string]error{}
	var mu sync.Mutex
	err := Each(ctx, opts.workers(), len(workflows), func(ctx context.Context, i int) {
		if err := op(ctx, workflows[i]); err != nil {
			mu.Lock()
			failed[workflows[i]] = err
			mu.Unlock()
		}
		done.Add(1)
	})
	return failed, err
}

// partialErr says what part of an operation failed: the workflows (named by
// their batches where known) and the batches whose workflow could not be
// found; nil when nothing did.
func partialErr(cov Coverage, failed, unreadableBatches map[string]error, verb string) error {
	var errs []error
	if len(failed) > 0 {
		errs = append(errs, failures(cov, failed, verb))
	}
	if len(unreadableBatches) > 0 {
		errs = append(errs, unreadable(unreadableBatches))
	}
	return errors.Join(errs...)
}
