package emulator_test

import (
	"net/http"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestSetupAnswerModes(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	if a.e.CurrentSetupAnswer() != emulator.SetupAnswerStored {
		t.Fatalf("default mode %q", a.e.CurrentSetupAnswer())
	}
	a.login()
	set := map[string]any{"url": "https://r.example/v1", "header": "Bearer one"}
	update := map[string]any{"url": "https://r.example/v2"} // header absent: null
	remove := map[string]any{"url": nil, "header": nil}

	for _, tc := range []struct {
		mode emulator.SetupAnswer
		// check runs on the answers to set, update and remove.
		check func(t *testing.T, status [3]int, bodies [3][]byte, stored *webhookWireDoc)
	}{
		{emulator.SetupAnswerStored, func(t *testing.T, st [3]int, b [3][]byte, stored *webhookWireDoc) {
			var d webhookWireDoc
			mustJSON(t, b[1], &d)
			if st[1] != http.StatusOK || d.URL != "https://r.example/v2" || d.Header != nil || d.UpdatedAt != stored.UpdatedAt {
				t.Fatalf("update answered %d %s; stored %+v", st[1], b[1], stored)
			}
			if st[2] != http.StatusOK || string(b[2]) != "null" {
				t.Fatalf("remove answered %d %s", st[2], b[2])
			}
		}},
		{emulator.SetupAnswerEcho, func(t *testing.T, st [3]int, b [3][]byte, _ *webhookWireDoc) {
			for i, want := range []string{
				`{"url":"https://r.example/v1","header":"Bearer one"}`,
				`{"url":"https://r.example/v2","header":null}`,
				`{"url":null,"header":null}`,
			} {
				if st[i] != http.StatusOK || string(b[i]) != want {
					t.Fatalf("answer %d: %d %s, want %s", i, st[i], b[i], want)
				}
			}
		}},
		{emulator.SetupAnswerEmpty, func(t *testing.T, st [3]int, b [3][]byte, _ *webhookWireDoc) {
			for i := range 3 {
				if st[i] != http.StatusOK || len(b[i]) != 0 {
					t.Fatalf("answer %d: %d %q", i, st[i], b[i])
				}
			}
		}},
		{emulator.SetupAnswerNoContent, func(t *testing.T, st [3]int, b [3][]byte, _ *webhookWireDoc) {
			for i := range 3 {
				if st[i] != http.StatusNoContent || len(b[i]) != 0 {
					t.Fatalf("answer %d: %d %q", i, st[i], b[i])
				}
			}
		}},
		{emulator.SetupAnswerBefore, func(t *testing.T, st [3]int, b [3][]byte, _ *webhookWireDoc) {
			if st[0] != http.StatusOK || string(b[0]) != "null" {
				t.Fatalf("first setup answered %d %s, want null (none before)", st[0], b[0])
			}
			var d webhookWireDoc
			mustJSON(t, b[1], &d)
			if d.URL != "https://r.example/v1" || d.Header == nil || *d.Header != "Bearer one" || d.UpdatedAt == "" {
				t.Fatalf("update answered %s, want the v1 webhook", b[1])
			}
			mustJSON(t, b[2], &d)
			if d.URL != "https://r.example/v2" || d.Header != nil {
				t.Fatalf("remove answered %s, want the v2 webhook", b[2])
			}
		}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			if err := a.e.SetSetupAnswer(tc.mode); err != nil {
				t.Fatal(err)
			}
			wf, _ := a.e.Batch(a.e.AddBatch(p, "b-"+string(tc.mode)))
			var st [3]int
			var bodies [3][]byte
			var stored *webhookWireDoc
			for i, body := range []map[string]any{set, update, remove} {
				st[i], _, bodies[i] = a.do(http.MethodPatch, "api/workflow-manager/workflows/setup-webhook?workflowId="+wf.WorkflowID, body)
				if i == 1 {
					stored = a.workflow(wf.WorkflowID).Webhook
				}
			}
			// Whatever the answer, the server holds the same.
			if stored == nil || stored.URL != "https://r.example/v2" || stored.Header != nil {
				t.Fatalf("stored after update: %+v", stored)
			}
			if d := a.workflow(wf.WorkflowID); d.Webhook != nil {
				t.Fatalf("after removal: %+v", d.Webhook)
			}
			tc.check(t, st, bodies, stored)
		})
	}

	// Errors are answered the same in every mode.
	_ = a.e.SetSetupAnswer(emulator.SetupAnswerEmpty)
	a.setup("workflowId=nope", set, http.StatusNotFound)
	if err := a.e.SetSetupAnswer("bogus"); err == nil || a.e.CurrentSetupAnswer() != emulator.SetupAnswerEmpty {
		t.Fatalf("bogus mode: %v, mode %q", err, a.e.CurrentSetupAnswer())
	}
}

func TestSetupAnswerAdminSetting(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	status, b := adminDo(t, a, http.MethodPut, "settings", `{"setupAnswer":"before"}`)
	var got struct {
		SetupAnswer string `json:"setupAnswer"`
	}
	mustJSON(t, b, &got)
	if status != http.StatusOK || got.SetupAnswer != "before" || a.e.CurrentSetupAnswer() != emulator.SetupAnswerBefore {
		t.Fatalf("PUT settings: %d %s", status, b)
	}
	if status, b := adminDo(t, a, http.MethodPut, "settings", `{"setupAnswer":"bogus","pageCap":3}`); status != http.StatusBadRequest {
		t.Fatalf("bogus: %d %s", status, b)
	}
	status, b = adminDo(t, a, http.MethodGet, "settings", "")
	mustJSON(t, b, &got)
	if status != http.StatusOK || got.SetupAnswer != "before" {
		t.Fatalf("GET settings: %d %s", status, b)
	}
	if mode, err := emulator.ParseSetupAnswer("no-content"); err != nil || mode != emulator.SetupAnswerNoContent {
		t.Fatalf("ParseSetupAnswer: %q %v", mode, err)
	}
}
