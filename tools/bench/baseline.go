package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// The Python SDK's algorithm (isahitlab 0.17), run with this project's client.
const (
	sdkPageSize  = 10
	sdkPagePause = 500 * time.Millisecond
)

// baselineResult is the SDK algorithm's cost for one phase.
type baselineResult struct {
	Wall  time.Duration
	Calls int
}

// runBaseline runs the four phases the SDK's way on a fresh emulator with
// n batches: what a user scripting the SDK would run instead of Terraform.
func runBaseline(ctx context.Context, cfg config, n int) (map[string]baselineResult, error) {
	emu := emulator.New(emulator.Options{AccessID: benchAccessID, SecretKey: benchSecretKey,
		Faults: emulator.Faults{Latency: cfg.latency, RateLimit: cfg.rate}})
	project := emu.AddProject("baseline")
	for i := range n {
		emu.AddBatch(project, fmt.Sprintf("batch-%d", i))
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()

	// Sequential, like the SDK: one connection, one request at a time.
	c, err := client.New(client.Config{Endpoint: srv.URL, AccessID: benchAccessID, SecretKey: benchSecretKey,
		PageSize: sdkPageSize, MaxConcurrency: 1, MaxRetries: 5})
	if err != nil {
		return nil, err
	}
	s := sdk{c: c, project: project}
	url := client.WebhookSetting{URL: hookURL}
	steps := []struct {
		phase string
		run   func(ctx context.Context) error
	}{
		{phaseCreate, func(ctx context.Context) error { return s.eachBatch(ctx, s.setBy(url)) }},
		{phaseRefresh, func(ctx context.Context) error { return s.eachBatch(ctx, s.getWebhook) }},
		{phaseUpdate, func(ctx context.Context) error {
			// No state: the SDK sets every batch again to reach the new ones.
			return s.eachBatch(ctx, s.setBy(url))
		}},
		{phaseDestroy, func(ctx context.Context) error {
			return s.eachBatch(ctx, func(ctx context.Context, id string) error {
				return c.ClearWebhook(ctx, client.Target{BatchID: id})
			})
		}},
	}
	out := map[string]baselineResult{}
	for _, st := range steps {
		if st.phase == phaseUpdate {
			addBatches(emu, project, n, n/10) // not timed
		}
		before := emu.TotalCalls()
		start := time.Now()
		if err := st.run(ctx); err != nil {
			return nil, fmt.Errorf("baseline %s, N=%d: %w", st.phase, n, err)
		}
		out[st.phase] = baselineResult{Wall: time.Since(start), Calls: emu.TotalCalls() - before}
		logf("  baseline N=%d %-7s %8.2f s  %6d calls", n, st.phase, out[st.phase].Wall.Seconds(), out[st.phase].Calls)
	}
	return out, nil
}

// sdk mirrors the SDK's project-wide loop.
type sdk struct {
	c       *client.Client
	project string
}

// eachBatch lists the project's batches in pages of 10 with a 0.5 s pause
// between pages (the client asks for PageSize 10 and calls back per
// document, so the pause goes before the first document of each later
// page), then calls fn for each batch in turn.
func (s sdk) eachBatch(ctx context.Context, fn func(ctx context.Context, id string) error) error {
	var ids []string
	err := s.c.ListBatches(ctx, client.BatchFilter{ProjectID: s.project}, func(b client.Batch) error {
		if len(ids) > 0 && len(ids)%sdkPageSize == 0 {
			select {
			case <-time.After(sdkPagePause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ids = append(ids, b.ID)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := fn(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (s sdk) setBy(w client.WebhookSetting) func(ctx context.Context, id string) error {
	return func(ctx context.Context, id string) error {
		_, err := s.c.SetupWebhook(ctx, client.Target{BatchID: id}, w)
		return err
	}
}

// getWebhook is the SDK's get_webhook: the batch, a project check, then its
// workflow.
func (s sdk) getWebhook(ctx context.Context, id string) error {
	b, err := s.c.GetBatch(ctx, id)
	if err != nil {
		return err
	}
	if b.ProjectID != s.project || b.WorkflowID == "" {
		return fmt.Errorf("batch %s: project %q, workflow %q", id, b.ProjectID, b.WorkflowID)
	}
	_, err = s.c.GetWorkflow(ctx, b.WorkflowID)
	return err
}
