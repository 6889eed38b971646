package client

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeWorkflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		check     func(t *testing.T, w *Workflow)
	}{
		{"webhook null", `{"_id":"w","name":"n","webhook":null}`, func(t *testing.T, w *Workflow) {
			if w.ID != "w" || w.Name != "n" || w.Webhook != nil {
				t.Fatalf("%+v", w)
			}
		}},
		{"webhook absent", `{"_id":"w"}`, func(t *testing.T, w *Workflow) {
			if w.Webhook != nil {
				t.Fatalf("%+v", w.Webhook)
			}
		}},
		{"webhook not an object", `{"_id":"w","webhook":"weird"}`, func(t *testing.T, w *Workflow) {
			if w.Webhook != nil {
				t.Fatalf("%+v", w.Webhook)
			}
		}},
		{"full", `{"_id":"w","webhook":{"header":"Bearer x","url":"https://r/h","updatedAt":"2024-12-17T15:23:21.433Z",
			"lastCall":{"statusCode":200,"message":"OK","date":"2024-12-17T15:10:37.619Z"},
			"lastError":{"statusCode":400,"message":"Bad Request","body":{ "a" : [1, 2] }}}}`, func(t *testing.T, w *Workflow) {
			h := w.Webhook
			if h == nil || h.URL != "https://r/h" || h.Header == nil || *h.Header != "Bearer x" || h.UpdatedAt != "2024-12-17T15:23:21.433Z" {
				t.Fatalf("%+v", h)
			}
			if *h.LastCall != (Call{StatusCode: 200, Message: "OK", Date: "2024-12-17T15:10:37.619Z"}) {
				t.Fatalf("lastCall %+v", h.LastCall)
			}
			if *h.LastError != (CallError{StatusCode: 400, Message: "Bad Request", Body: `{"a":[1,2]}`}) {
				t.Fatalf("lastError %+v", h.LastError)
			}
		}},
		{"header null, last* null", `{"webhook":{"url":"u","header":null,"lastCall":null,"lastError":null}}`, func(t *testing.T, w *Workflow) {
			h := w.Webhook
			if h.Header != nil || h.LastCall != nil || h.LastError != nil {
				t.Fatalf("%+v", h)
			}
		}},
		{"header empty string", `{"webhook":{"url":"u","header":""}}`, func(t *testing.T, w *Workflow) {
			if w.Webhook.Header == nil || *w.Webhook.Header != "" {
				t.Fatalf("%+v", w.Webhook)
			}
		}},
		{"odd types", `{"webhook":{"url":"u","updatedAt":1734448999,"lastCall":{"statusCode":"502","message":null,"date":17},"lastError":{"statusCode":{},"body":null}}}`, func(t *testing.T, w *Workflow) {
			h := w.Webhook
			if h.UpdatedAt != "1734448999" || h.LastCall.StatusCode != 502 || h.LastCall.Message != "" || h.LastCall.Date != "17" {
				t.Fatalf("%+v %+v", h, h.LastCall)
			}
			if h.LastError.StatusCode != 0 || h.LastError.Body != "" {
				t.Fatalf("%+v", h.LastError)
			}
		}},
		{"lastCall not an object", `{"webhook":{"url":"u","lastCall":[1],"lastError":"x"}}`, func(t *testing.T, w *Workflow) {
			if w.Webhook.LastCall != nil || w.Webhook.LastError != nil {
				t.Fatalf("%+v", w.Webhook)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := decodeWorkflow([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, w)
		})
	}
}

func TestLastErrorBodyForms(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"x": 1}`:        `{"x":1}`,
		`[1, {"y": [] }]`: `[1,{"y":[]}]`,
		`"text \"q\""`:    `text "q"`,
		`42.5`:            `42.5`,
		`true`:            `true`,
		`null`:            ``,
	} {
		doc := `{"webhook":{"url":"u","lastError":{"statusCode":500,"body":` + body + `}}}`
		w, err := decodeWorkflow([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Webhook.LastError.Body; got != want {
			t.Errorf("body %s -> %q, want %q", body, got, want)
		}
	}
	w, _ := decodeWorkflow([]byte(`{"webhook":{"url":"u","lastError":{"statusCode":500}}}`))
	if w.Webhook.LastError.Body != "" {
		t.Errorf("absent body -> %q", w.Webhook.LastError.Body)
	}
}

func TestDecodeBatchRefs(t *testing.T) {
	t.Parallel()
	for doc, want := range map[string]Batch{
		`{"_id":"b","name":"n","projectId":"p","workflow":{"id":"w"},"dataset":{"id":"d"},"status":"pending"}`: {ID: "b", Name: "n", ProjectID: "p", WorkflowID: "w", DatasetID: "d", Status: "pending"},
		`{"_id":"b","workflow":null,"dataset":null}`:                                                           {ID: "b"},
		`{"_id":"b"}`: {ID: "b"},
		`{"_id":"b","workflow":"w2","projectId":{"_id":"p2","name":"x"}}`: {ID: "b", WorkflowID: "w2", ProjectID: "p2"},
		`{"_id":"b","workflow":{"_id":"w3"},"dataset":[]}`:                {ID: "b", WorkflowID: "w3"},
		`{"_id":"b","workflow":{"id":null}}`:                              {ID: "b"},
	} {
		var d batchDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if got := d.batch(); got != want {
			t.Errorf("%s -> %+v, want %+v", doc, got, want)
		}
	}
}

// FuzzDecodeWorkflow: any JSON decodes without panic, and lastError.body
// follows its rule.
func FuzzDecodeWorkflow(f *testing.F) {
	for _, s := range []string{
		`{"_id":"w","webhook":null}`,
		`{"_id":"w","webhook":{"url":"https://x","header":"h","updatedAt":"2024-12-17T15:23:21.433Z","lastCall":{"statusCode":200,"message":"OK","date":"2024-12-17T15:10:37.619Z"},"lastError":{"statusCode":400,"message":"Bad","body":{"a":1}}}}`,
		`{"webhook":{"lastError":{"body":"str"}}}`,
		`{"webhook":{"lastError":{"body":[1,2,{"b":null}]}}}`,
		`{"webhook":{"lastError":{"body":null,"statusCode":"x"}}}`,
		`{"webhook":{"updatedAt":"not a date","lastCall":{"date":12}}}`,
		`{"webhook":{"header":123}}`,
		`{"webhook":[]}`,
		`[]`,
		`"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := decodeWorkflow(data)
		if err != nil || w == nil || w.Webhook == nil || w.Webhook.LastError == nil {
			return
		}
		var doc struct {
			Webhook struct {
				LastError struct {
					Body json.RawMessage `json:"body"`
				} `json:"lastError"`
			} `json:"webhook"`
		}
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		raw := strings.TrimSpace(string(doc.Webhook.LastError.Body))
		got := w.Webhook.LastError.Body
		switch {
		case raw == "" || raw == "null":
			if got != "" {
				t.Fatalf("null body -> %q", got)
			}
		case raw[0] == '"':
			var s string
			_ = json.Unmarshal([]byte(raw), &s)
			if got != s {
				t.Fatalf("string body %s -> %q", raw, got)
			}
		default:
			if !json.Valid([]byte(got)) {
				t.Fatalf("body %s -> invalid JSON %q", raw, got)
			}
		}
	})
}

func TestWebhookInAnswer(t *testing.T) {
	t.Parallel()
	hook := `{"url":"https://r.example/h","header":"Bearer x","updatedAt":"2024-12-17T15:23:21.433Z","lastCall":{"statusCode":200,"message":"OK","date":"2024-12-17T15:10:37.619Z"}}`
	for body, want := range map[string]string{
		hook:                                  "https://r.example/h",
		`{"_id":"w1","webhook":` + hook + `}`: "https://r.example/h",
		`{"_id":"w1","webhook":null}`:         "",
		`{"acknowledged":true}`:               "",
		`{"url":null}`:                        "",
		`{"url":42}`:                          "",
		`null`:                                "",
		``:                                    "",
		`"ok"`:                                "",
	} {
		got := webhookInAnswer([]byte(body))
		switch {
		case want == "" && got != nil:
			t.Errorf("answer %s read as webhook %+v", body, got)
		case want != "" && (got == nil || got.URL != want || got.Header == nil || *got.Header != "Bearer x" || got.LastCall == nil):
			t.Errorf("answer %s: got %+v", body, got)
		}
	}
}

// Webhook dates pass through as text, whatever they hold: nothing parses
// them, so nothing can panic or overflow on them.
func TestWebhookDatesPassThrough(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 5000)
	for raw, want := range map[string]string{
		`"2024-12-17T15:23:21.433Z"`:    "2024-12-17T15:23:21.433Z",
		`"0000-00-00T00:00:00Z"`:        "0000-00-00T00:00:00Z",
		`"+275760-09-13T00:00:00Z"`:     "+275760-09-13T00:00:00Z",
		`"not a date"`:                  "not a date",
		`""`:                            "",
		`null`:                          "",
		`-1`:                            "-1",
		`1e400`:                         "1e400",
		`9223372036854775807000`:        "9223372036854775807000",
		`{"$date":{"$numberLong":"1"}}`: `{"$date":{"$numberLong":"1"}}`,
		`[2024,12,17]`:                  "[2024,12,17]",
		`true`:                          "true",
		`"` + long + `"`:                long,
	} {
		doc := `{"_id":"w","webhook":{"url":"https://r/h","updatedAt":` + raw + `,"lastCall":{"statusCode":1e30,"message":"OK","date":` + raw + `}}}`
		w, err := decodeWorkflow([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		h := w.Webhook
		if h.UpdatedAt != want || h.LastCall == nil || h.LastCall.Date != want || h.LastCall.StatusCode != 0 {
			t.Fatalf("%.40s: updatedAt %.40q, lastCall %+.60v", raw, h.UpdatedAt, h.LastCall)
		}
	}
}
