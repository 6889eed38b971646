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
// value joins the secrets that are masked in logs and errors; the texts of
// its last call and error come redacted and cut (see cleanWebhook).
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
	c.cleanWebhook(w.Webhook)
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
// (W3). The contract leaves the answer's body open, so it is not relied on:
// when it reads as a webhook (or a workflow document holding one) it is
// returned, else nil. A server may answer with the document as it was before
// the update, so a caller may take the returned webhook as read back only
// when it holds what was set, and must read with GetWorkflow otherwise.
func (c *Client) SetupWebhook(ctx context.Context, t Target, s WebhookSetting) (*Webhook, error) {
	u := s.URL
	body, err := c.setupWebhook(ctx, t, setupBody{URL: &u, Header: s.Header})
	if err != nil {
		return nil, err
	}
	w := webhookInAnswer(body)
	if s.Header != nil {
		c.cleanWebhook(w, *s.Header)
	} else {
		c.cleanWebhook(w)
	}
	return w, nil
}

// Bounds of a webhook's texts as the client returns them, applied after
// redaction: state never holds a receiver's whole error page.
const (
	MaxCallBody    = 1024 // bytes of LastError.Body
	MaxCallMessage = 500  // bytes of LastCall.Message and LastError.Message
)

// cleanWebhook redacts the texts a receiver wrote into w (its messages and
// body may echo the Authorization header it was sent) of every secret the
// client knows, w's own header and extra values, then cuts them. Every
// reader of a webhook (resource, data sources, health, list) gets them so.
func (c *Client) cleanWebhook(w *Webhook, extra ...string) {
	if w == nil || w.LastCall == nil && w.LastError == nil {
		return
	}
	if w.Header != nil {
		extra = append(extra, *w.Header)
	}
	ss := c.secrets.current(extra...)
	if w.LastCall != nil {
		w.LastCall.Message = ss.Clean(w.LastCall.Message, MaxCallMessage)
	}
	if w.LastError != nil {
		w.LastError.Message = ss.Clean(w.LastError.Message, MaxCallMessage)
		w.LastError.Body = ss.Clean(w.LastError.Body, MaxCallBody)
	}
}

// ClearWebhook removes a webhook: setup-webhook with url and header null.
func (c *Client) ClearWebhook(ctx context.Context, t Target) error {
	_, err := c.setupWebhook(ctx, t, setupBody{})
	return err
}

// webhookInAnswer reads a setup-webhook answer: a webhook object, a workflow
// document with one, or anything else (nil).
func webhookInAnswer(body []byte) *Webhook {
	var probe struct {
		URL     json.RawMessage `json:"url"`
		Webhook json.RawMessage `json:"webhook"`
	}
	if !isObject(body) || json.Unmarshal(body, &probe) != nil {
		return nil
	}
	raw := json.RawMessage(body)
	if isObject(probe.Webhook) {
		raw = probe.Webhook
	} else if len(bytes.TrimSpace(probe.URL)) == 0 || bytes.TrimSpace(probe.URL)[0] != '"' {
		return nil
	}
	w, err := decodeWebhook(raw)
	if err != nil || w == nil || w.URL == "" {
		return nil
	}
	return w
}

func (c *Client) setupWebhook(ctx context.Context, t Target, b setupBody) ([]byte, error) {
	q := url.Values{}
	switch {
	case t.BatchID != "" && t.WorkflowID != "":
		return nil, errors.New("setup-webhook: give a batch id or a workflow id, not both")
	case t.BatchID != "":
		q.Set("batchId", t.BatchID)
	case t.WorkflowID != "":
		q.Set("workflowId", t.WorkflowID)
	default:
		return nil, errors.New("setup-webhook: no batch id or workflow id given")
	}
	if b.Header != nil {
		// Known before sending, so it is masked even in this call's logs.
		c.secrets.add(*b.Header)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // send url and header byte for byte
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, &request{
		method:      http.MethodPatch,
		path:        setupWebhookPath,
		query:       q,
		body:        bytes.TrimSpace(buf.Bytes()),
		contentType: "application/json",
		idempotent:  true,
	})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}
