package client

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The API's documents are decoded tolerantly: the contract (CONTRACT.md)
// leaves several fields optional or loosely typed, and a field of an
// unexpected type must not make a whole list unreadable.

// jsonText decodes any JSON value: a string to its value, null to "", and
// anything else to its compact JSON text.
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	*t = jsonText(rawText(b))
	return nil
}

// rawText converts one JSON value to text as jsonText does.
func rawText(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		return buf.String()
	}
	return string(b)
}

// number parses the text of a JSON number or numeric string; ok is false for
// anything else, and for values too large to convert to an int64 safely.
func number(b []byte) (int64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(rawText(b)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > 1<<40 || f < -(1<<40) {
		return 0, false
	}
	return int64(f), true
}

// jsonInt decodes a number (fractions dropped) or a numeric string; anything
// else is 0.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	v, _ := number(b)
	*n = jsonInt(v)
	return nil
}

// jsonBool decodes true/false (or "true"/"false"); present records whether
// the field carried a boolean at all.
type jsonBool struct {
	value, present bool
}

func (v *jsonBool) UnmarshalJSON(b []byte) error {
	switch strings.TrimSpace(rawText(b)) {
	case "true":
		*v = jsonBool{value: true, present: true}
	case "false":
		*v = jsonBool{value: false, present: true}
	default:
		*v = jsonBool{}
	}
	return nil
}

// optInt is a jsonInt that remembers whether it held a number.
type optInt struct {
	value   int64
	present bool
}

func (v *optInt) UnmarshalJSON(b []byte) error {
	v.value, v.present = number(b)
	return nil
}

// ref decodes a reference to another document: null, an id string, or an
// object carrying "id" (or "_id").
type ref string

func (r *ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			ID  jsonText `json:"id"`
			OID jsonText `json:"_id"`
		}
		// Fields are jsonText, which accepts any value: this cannot fail on
		// a well-formed object, and a malformed one fails the outer decode.
		_ = json.Unmarshal(b, &o)
		if o.ID != "" {
			*r = ref(o.ID)
		} else {
			*r = ref(o.OID)
		}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		*r = ""
		return nil
	}
	*r = ref(rawText(b))
	return nil
}

type projectDoc struct {
	ID     jsonText `json:"_id"`
	Name   jsonText `json:"name"`
	Status jsonText `json:"status"`
	Type   jsonText `json:"type"`
}

func (d projectDoc) project() Project {
	return Project{ID: string(d.ID), Name: string(d.Name), Status: string(d.Status), Type: string(d.Type)}
}

type batchDoc struct {
	ID        jsonText `json:"_id"`
	Name      jsonText `json:"name"`
	ProjectID ref      `json:"projectId"`
	Status    jsonText `json:"status"`
	Workflow  ref      `json:"workflow"`
	Dataset   ref      `json:"dataset"`
}

func (d batchDoc) batch() Batch {
	return Batch{
		ID:         string(d.ID),
		Name:       string(d.Name),
		ProjectID:  string(d.ProjectID),
		Status:     string(d.Status),
		WorkflowID: string(d.Workflow),
		DatasetID:  string(d.Dataset),
	}
}

type workflowDoc struct {
	ID      jsonText        `json:"_id"`
	Name    jsonText        `json:"name"`
	Webhook json.RawMessage `json:"webhook"`
}

type webhookDoc struct {
	URL       jsonText        `json:"url"`
	Header    json.RawMessage `json:"header"`
	UpdatedAt jsonText        `json:"updatedAt"`
	LastCall  json.RawMessage `json:"lastCall"`
	LastError json.RawMessage `json:"lastError"`
}

type callDoc struct {
	StatusCode jsonInt  `json:"statusCode"`
	Message    jsonText `json:"message"`
	Date       jsonText `json:"date"`
}

type callErrorDoc struct {
	StatusCode jsonInt         `json:"statusCode"`
	Message    jsonText        `json:"message"`
	Body       json.RawMessage `json:"body"`
}

// isObject reports whether raw is a JSON object (not null, absent or another
// kind of value).
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// decodeWebhook turns a webhook value into a *Webhook: nil for null, absent
// or a value that is not an object.
func decodeWebhook(raw json.RawMessage) (*Webhook, error) {
	if !isObject(raw) {
		return nil, nil
	}
	var d webhookDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	w := &Webhook{URL: string(d.URL), UpdatedAt: string(d.UpdatedAt)}
	if h := bytes.TrimSpace(d.Header); len(h) > 0 && string(h) != "null" {
		s := rawText(h)
		w.Header = &s
	}
	if isObject(d.LastCall) {
		var cd callDoc
		if err := json.Unmarshal(d.LastCall, &cd); err == nil {
			w.LastCall = &Call{StatusCode: int(cd.StatusCode), Message: string(cd.Message), Date: string(cd.Date)}
		}
	}
	if isObject(d.LastError) {
		var ed callErrorDoc
		if err := json.Unmarshal(d.LastError, &ed); err == nil {
			w.LastError = &CallError{StatusCode: int(ed.StatusCode), Message: string(ed.Message), Body: rawText(ed.Body)}
		}
	}
	return w, nil
}

// decodeWorkflow decodes a W1 document.
func decodeWorkflow(body []byte) (*Workflow, error) {
	var d workflowDoc
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, err
	}
	wh, err := decodeWebhook(d.Webhook)
	if err != nil {
		return nil, err
	}
	return &Workflow{ID: string(d.ID), Name: string(d.Name), Webhook: wh}, nil
}
