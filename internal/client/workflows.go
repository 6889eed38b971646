package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

const (
	workflowsPath    = "api/workflow-manager/workflows"
	setupWebhookPath = workflowsPath + "/setup-webhook"
)

// GetWorkflow reads a workflow and its webhook (W1). The webhook's header
// value joins the secrets that are masked in logs and errors.
func (c *Client) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	if id == "" {
		return nil, errors.New("GetWorkflow: empty workflow id")
	}
	r := &request{method: http.MethodGet, path: workflowsPath + "/" + url.PathEscape(id), idempotent: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	w, err := decodeWorkflow(resp.body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: unreadable workflow: %w", r.display(), c.redactErr(err))
	}
	if w.Webhook != nil && w.Webhook.Header != nil {
		c.secrets.add(*w.Webhook.Header)
	}
	if w.ID == "" {
		w.ID = id
	}
	return w, nil
}

// setupBody is the W2/W3 body; nil fields are sent as JSON null.
type setupBody struct {
	URL    *string `json:"url"`
	Header *string `json:"header"`
}

// SetupWebhook sets the webhook of a workflow (W2) or of a batch's workflow
// (W3). The answer's body is not relied on: read it back with GetWorkflow.
func (c *Client) SetupWebhook(ctx context.Context, t Target, s WebhookSetting) error {
	u := s.URL
	return c.setupWebhook(ctx, t, setupBody{URL: &u, Header: s.Header})
}

// ClearWebhook removes a webhook: setup-webhook with url and header null.
func (c *Client) ClearWebhook(ctx context.Context, t Target) error {
	return c.setupWebhook(ctx, t, setupBody{})
}

func (c *Client) setupWebhook(ctx context.Context, t Target, b setupBody) error {
	q := url.Values{}
	switch {
	case t.BatchID != "" && t.WorkflowID != "":
		return errors.New("setup-webhook: give a batch id or a workflow id, not both")
	case t.BatchID != "":
		q.Set("batchId", t.BatchID)
	case t.WorkflowID != "":
		q.Set("workflowId", t.WorkflowID)
	default:
		return errors.New("setup-webhook: no batch id or workflow id given")
	}
	if b.Header != nil {
		// Known before sending, so it is masked even in this call's logs.
		c.secrets.add(*b.Header)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // send url and header byte for byte
	if err := enc.Encode(b); err != nil {
		return err
	}
	_, err := c.do(ctx, &request{
		method:      http.MethodPatch,
		path:        setupWebhookPath,
		query:       q,
		body:        bytes.TrimSpace(buf.Bytes()),
		contentType: "application/json",
		idempotent:  true,
	})
	return err
}
