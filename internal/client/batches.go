package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

const batchesPath = "api/task-manager/batches"

func batchPath(id string) string { return batchesPath + "/" + url.PathEscape(id) }

// GetBatch reads one batch (B1).
func (c *Client) GetBatch(ctx context.Context, id string) (*Batch, error) {
	if id == "" {
		return nil, errors.New("GetBatch: empty batch id")
	}
	r := &request{method: http.MethodGet, path: batchPath(id), idempotent: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var d batchDoc
	if err := json.Unmarshal(resp.body, &d); err != nil {
		return nil, fmt.Errorf("GET %s: unreadable batch: %w", r.display(), c.redactErr(err))
	}
	b := d.batch()
	if b.ID == "" {
		b.ID = id
	}
	return &b, nil
}

// ListBatches walks every page of B2 and calls fn for each batch, in server
// order, keeping one page in memory. It stops at fn's first error and
// returns it unchanged.
func (c *Client) ListBatches(ctx context.Context, f BatchFilter, fn func(Batch) error) error {
	q := url.Values{}
	if f.ProjectID != "" {
		q.Set("projectId", f.ProjectID)
	}
	for _, s := range f.Statuses {
		q.Add("statuses", s)
	}
	if f.Search != "" {
		q.Set("search", f.Search)
	}
	return c.walk(ctx, batchesPath, q, func(raw json.RawMessage) error {
		var d batchDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("GET %s: unreadable batch document: %w", batchesPath, c.redactErr(err))
		}
		if d.ID == "" {
			return fmt.Errorf("GET %s: a batch document has no _id", batchesPath)
		}
		return fn(d.batch())
	})
}

// CreateBatch creates a batch (B4). It is not idempotent, so it is never
// retried (only replayed after a 401, which the server did not act on).
func (c *Client) CreateBatch(ctx context.Context, projectID, name string) (*Batch, error) {
	if projectID == "" {
		return nil, errors.New("CreateBatch: empty project id")
	}
	body, err := json.Marshal(map[string]string{"name": name, "projectId": projectID})
	if err != nil {
		return nil, err
	}
	r := &request{method: http.MethodPost, path: batchesPath, body: body, contentType: "application/json"}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var d batchDoc
	if err := json.Unmarshal(resp.body, &d); err != nil {
		return nil, fmt.Errorf("POST %s: unreadable batch: %w", r.display(), c.redactErr(err))
	}
	b := d.batch()
	if b.ID == "" {
		return nil, fmt.Errorf("POST %s: the created batch has no _id", r.display())
	}
	return &b, nil
}

// DeleteBatch deletes a batch and its tasks (B6).
func (c *Client) DeleteBatch(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("DeleteBatch: empty batch id")
	}
	_, err := c.do(ctx, &request{method: http.MethodDelete, path: batchPath(id), idempotent: true})
	return err
}
