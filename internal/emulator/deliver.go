package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Errors returned by Deliver; test them with errors.Is.
var (
	ErrNotFound       = errors.New("emulator: batch not found")
	ErrNoWebhook      = errors.New("emulator: no webhook set on the batch's workflow")
	ErrNoWorkflow     = errors.New("emulator: the batch has no workflow")
	ErrDeliveryFailed = errors.New("emulator: webhook delivery failed")
	ErrBadJobType     = errors.New(`emulator: job type must be "annotation" or "review"`)
)

// DeliveryTimeout bounds one delivery, as the real service does not wait forever either.
const DeliveryTimeout = 10 * time.Second

// maxReceiverBody caps what is kept of a receiver's answer in lastError.body.
const maxReceiverBody = 64 << 10

type deliveryPayload struct {
	WorkflowID string `json:"workflowId"`
	Type       string `json:"type"`
	TaskID     string `json:"taskId"`
	BatchID    string `json:"batchId"`
	ProjectID  string `json:"projectId"`
}

// Delivery is one delivery the emulator made: what it recorded as lastCall,
// with the receiver's url and the batch and workflow it was for.
type Delivery struct {
	BatchID, WorkflowID string
	URL                 string
	StatusCode          int // 0 when the receiver gave no answer
	Message             string
	Date                time.Time // the lastCall date recorded
}

// maxDeliveries bounds the delivery log; the oldest entries go first.
const maxDeliveries = 10000

// deliverTransport is the delivery client's transport. It also holds the
// delivery log: each emulator owns its delivery client, so the log lives
// and dies with the emulator without a field of its own.
type deliverTransport struct {
	*http.Transport
	mu  sync.Mutex
	log []Delivery
}

func newDeliverClient() *http.Client {
	return &http.Client{
		// Deliveries are rare; no idle connections left behind in tests.
		Transport: &deliverTransport{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}},
		// A redirect is an answer like any other: non-2xx, recorded, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Deliver plays "a task of the batch finished its job" (jobType "annotation" or "review"): it
// POSTs the contract's payload (internal/client/CONTRACT.md) to the webhook url of the batch's
// workflow, with the stored header as Authorization, and records lastCall, plus lastError when
// the answer is not 2xx or there is none. It returns nil on a 2xx answer, an error wrapping
// ErrDeliveryFailed after a recorded failure, and ErrNotFound / ErrNoWorkflow / ErrNoWebhook /
// ErrBadJobType when no delivery was attempted.
func (e *Emulator) Deliver(ctx context.Context, batchID, taskID, jobType string) error {
	if jobType != "annotation" && jobType != "review" {
		return fmt.Errorf("%w, got %q", ErrBadJobType, jobType)
	}
	e.mu.RLock()
	b := e.batches[batchID]
	if b == nil {
		e.mu.RUnlock()
		return fmt.Errorf("%w: %s", ErrNotFound, batchID)
	}
	wf := b.workflow
	if wf == nil {
		e.mu.RUnlock()
		return fmt.Errorf("%w: batch %s", ErrNoWorkflow, batchID)
	}
	if wf.hook == nil {
		e.mu.RUnlock()
		return fmt.Errorf("%w: batch %s, workflow %s", ErrNoWebhook, batchID, wf.id)
	}
	target := wf.hook.url
	var header *string
	if wf.hook.header != nil {
		h := *wf.hook.header
		header = &h
	}
	payload := deliveryPayload{WorkflowID: wf.id, Type: jobType, TaskID: taskID, BatchID: b.id, ProjectID: b.project.id}
	e.mu.RUnlock()

	status, msg, body, err := e.post(ctx, target, header, payload)
	ok := err == nil && status >= 200 && status < 300
	now := time.Now().UTC().Truncate(time.Millisecond)

	e.mu.Lock()
	// The webhook may have been removed meanwhile; then there is nothing to record on.
	if h := wf.hook; h != nil {
		h.lastCall = &CallInfo{StatusCode: status, Message: msg, Date: now}
		if !ok {
			h.lastError = &errorRecord{statusCode: status, message: msg, body: receiverBody(body)}
		}
	}
	e.mu.Unlock()
	e.recordDelivery(Delivery{BatchID: b.id, WorkflowID: wf.id, URL: target, StatusCode: status, Message: msg, Date: now})
	if !ok {
		return fmt.Errorf("%w: %s", ErrDeliveryFailed, msg)
	}
	return nil
}

func (e *Emulator) deliveryLog() *deliverTransport {
	t, _ := e.deliverClient.Transport.(*deliverTransport)
	return t
}

func (e *Emulator) recordDelivery(d Delivery) {
	t := e.deliveryLog()
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.log) == maxDeliveries {
		t.log = append(t.log[:0], t.log[1:]...)
	}
	t.log = append(t.log, d)
}

// Deliveries returns the deliveries made so far, oldest first (the last
// 10,000 at most), so tests can check what the server holds.
func (e *Emulator) Deliveries() []Delivery {
	t := e.deliveryLog()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Delivery(nil), t.log...)
}

// post sends one delivery. With no answer, status is 0 and msg the error (without the URL,
// which may carry credentials).
func (e *Emulator) post(ctx context.Context, target string, header *string, payload deliveryPayload) (status int, msg string, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	data, err := json.Marshal(payload)
	if err != nil {
		return 0, err.Error(), nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(data))
	if err != nil {
		return 0, noAnswer(err), nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "isahitlab-emulator")
	if header != nil {
		req.Header.Set("Authorization", *header)
	}
	resp, err := e.deliverClient.Do(req)
	if err != nil {
		return 0, noAnswer(err), nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ = io.ReadAll(io.LimitReader(resp.Body, maxReceiverBody))
	msg = http.StatusText(resp.StatusCode)
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, msg, body, nil
}

func noAnswer(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// receiverBody stores a receiver's answer for lastError.body: compact JSON when it is JSON,
// else a JSON string of it, nil when empty.
func receiverBody(b []byte) json.RawMessage {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil
	}
	if json.Valid(t) {
		var buf bytes.Buffer
		if json.Compact(&buf, t) == nil {
			return buf.Bytes()
		}
	}
	s, _ := json.Marshal(string(b))
	return s
}
