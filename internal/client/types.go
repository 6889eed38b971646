package client

// Project is a P1 document.
type Project struct {
	ID, Name, Status, Type string
}

// Batch is a B1/B2 document. WorkflowID is "" when the document carries no
// workflow (list documents may omit it); DatasetID is "" when dataset is null.
type Batch struct {
	ID, Name, ProjectID, Status, WorkflowID, DatasetID string
}

// Workflow is a W1 document. Webhook is nil when null or absent.
type Workflow struct {
	ID      string
	Name    string // addition: the workflow's name, "" when absent
	Webhook *Webhook
}

// Webhook is the webhook object stored on a workflow.
type Webhook struct {
	URL       string
	Header    *string    // nil when null/absent
	UpdatedAt string     // as sent by the server
	LastCall  *Call      // nil when absent
	LastError *CallError // nil when absent
}

// Call is the webhook's last delivery attempt.
type Call struct {
	StatusCode int
	Message    string
	Date       string
}

// CallError is the webhook's last failed delivery. Body is the receiver's
// answer: compact JSON text when it was JSON (a JSON string gives its value),
// "" when absent or null.
type CallError struct {
	StatusCode int
	Message    string
	Body       string
}

// Target selects where a webhook is set: exactly one of BatchID (W3) and
// WorkflowID (W2).
type Target struct {
	BatchID, WorkflowID string
}

// WebhookSetting is the body of setup-webhook. Header nil sends
// "header": null, which clears a stored header.
type WebhookSetting struct {
	URL    string
	Header *string
}

// BatchFilter filters B2.
type BatchFilter struct {
	ProjectID string
	Statuses  []string
	Search    string
}

// ProjectFilter filters P1.
type ProjectFilter struct {
	IDs, Statuses, Types []string
	Search               string
}
