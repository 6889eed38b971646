package provider

import (
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

const (
	idP = "6650c1f2a9b4000000000001"
	idB = "6650c1f2a9b4000000000002"
	idW = "6650c1f2a9b4000000000003"
)

func TestParseWebhookID(t *testing.T) {
	good := map[string]webhooks.Target{
		idP:                      {ProjectID: idP},
		idP + "/" + idB:          {ProjectID: idP, BatchID: idB},
		idP + "/workflow/" + idW: {ProjectID: idP, WorkflowID: idW},
	}
	for in, want := range good {
		got, err := parseWebhookID(in)
		if err != nil || got != want {
			t.Errorf("parseWebhookID(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if formatID(got) != in {
			t.Errorf("formatID = %q, want %q", formatID(got), in)
		}
	}
	bad := map[string]string{
		"":                                 "is empty",
		idP + "/":                          "empty part 2",
		"/" + idB:                          "empty part 1",
		idP + "/" + idB + "/" + idW + "/x": "has 4 parts",
		idP + "/batch/" + idB:              `unknown keyword "batch"`,
		idP + "/workflow":                  "lacks the workflow id",
		"project-1":                        `project id "project-1"`,
		idP + "/" + strings.ToUpper(idB):   "batch id",
		idP + "/workflow/" + idW[:10]:      "workflow id",
	}
	for in, why := range bad {
		_, err := parseWebhookID(in)
		if err == nil {
			t.Errorf("parseWebhookID(%q) accepted a malformed id", in)
			continue
		}
		if !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), idForms) {
			t.Errorf("parseWebhookID(%q) error %q lacks %q or the accepted forms", in, err, why)
		}
	}
}

// FuzzParseWebhookID: any input either parses to an id that prints back as
// the input, or is refused with the accepted forms; it never panics.
func FuzzParseWebhookID(f *testing.F) {
	for _, s := range []string{idP, idP + "/" + idB, idP + "/workflow/" + idW, "", "/", "a/b/c/d", idP + "/workflow/", "ünïcode/" + idB} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := parseWebhookID(in)
		if err != nil {
			if !strings.Contains(err.Error(), idForms) {
				t.Fatalf("error without the accepted forms: %v", err)
			}
			return
		}
		if formatID(id) != in {
			t.Fatalf("%q parsed to %+v, which prints as %q", in, id, formatID(id))
		}
		for _, part := range []string{id.ProjectID, id.BatchID, id.WorkflowID} {
			if part != "" && checkObjectID(part) != "" {
				t.Fatalf("%q accepted with a bad id part %q", in, part)
			}
		}
	})
}
