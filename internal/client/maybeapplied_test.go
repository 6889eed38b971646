package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// answerInTurn answers the requests to paths containing match with the
// given statuses in turn (the emulator's answer after the last).
type answerInTurn struct {
	next     http.Handler
	match    string
	statuses []int
	n        atomic.Int32
}

func (a *answerInTurn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.URL.Path, a.match) {
		a.next.ServeHTTP(w, r)
		return
	}
	i := int(a.n.Add(1) - 1)
	if i >= len(a.statuses) {
		a.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.statuses[i])
	_, _ = w.Write([]byte(`{"statusCode":` + strconv.Itoa(a.statuses[i]) + `,"message":"injected"}`))
}

// A refusal on the retry of an attempt that may have been applied must not
// read as "the server changed nothing": the engine counts such a set as sent.
func TestRefusalAfterMaybeAppliedAttemptSaysSo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []int
		want     bool
	}{
		{"502 then 403", []int{http.StatusBadGateway, http.StatusForbidden}, true},
		{"504 then 404", []int{http.StatusGatewayTimeout, http.StatusNotFound}, true},
		{"429 then 403", []int{http.StatusTooManyRequests, http.StatusForbidden}, false},
		{"403 at once", []int{http.StatusForbidden}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Options{AccessID: testAccessID, SecretKey: testSecretKey})
			info, _ := emu.Batch(emu.AddBatch(emu.AddProject("p"), "b"))
			srv := httptest.NewServer(&answerInTurn{next: emu, match: setupWebhookPath, statuses: tc.statuses})
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, nil)
			_, err := c.SetupWebhook(context.Background(), Target{WorkflowID: info.WorkflowID}, WebhookSetting{URL: "https://example.com/hook"})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("want an *APIError, got %v", err)
			}
			if apiErr.StatusCode != tc.statuses[len(tc.statuses)-1] || apiErr.EarlierAttemptMayHaveActed != tc.want {
				t.Errorf("got status %d, EarlierAttemptMayHaveActed %v; want %d, %v (%v)",
					apiErr.StatusCode, apiErr.EarlierAttemptMayHaveActed, tc.statuses[len(tc.statuses)-1], tc.want, err)
			}
			if tc.want && !strings.Contains(err.Error(), "may have been applied") {
				t.Errorf("the message does not say an earlier attempt may have been applied: %v", err)
			}
		})
	}
}
