package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

// echoedForms is every form in which a receiver may echo an Authorization
// header: raw, JSON-escaped with `\/`, all \u00XX, a JSON string inside a
// JSON string, %XX in upper and lower case, "+" for a space, base64 in both
// alphabets with and without padding; of the header and of its credentials.
func echoedForms(header string) []string {
	vals := []string{header}
	if i := strings.IndexByte(header, ' '); i > 0 {
		vals = append(vals, header[i+1:])
	}
	var out []string
	for _, v := range vals {
		j, _ := json.Marshal(v)
		inner := string(j[1 : len(j)-1])
		jj, _ := json.Marshal(inner)
		var all, upper, lower strings.Builder
		for i := 0; i < len(v); i++ {
			fmt.Fprintf(&all, `\u%04x`, v[i])
			fmt.Fprintf(&upper, "%%%02X", v[i])
			fmt.Fprintf(&lower, "%%%02x", v[i])
		}
		out = append(out, v, strings.ReplaceAll(inner, "/", `\/`), all.String(), string(jj[1:len(jj)-1]),
			upper.String(), lower.String(), url.QueryEscape(v),
			base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)))
	}
	return out
}

// jsonStrings is every string value in a JSON document, and its keys.
func jsonStrings(doc []byte) []string {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// A receiver that answers 401 with a body echoing the Authorization header
// it got, in every form, puts no form of a header (write-only or not) into
// the CLI's output, a saved plan or the state: last_error is redacted where
// it is read, for the resource in both scopes and for the data source.
func TestCLI_redactsReceiverEchoes(t *testing.T) {
	ws := cliWorkspace(t)
	const (
		secretKey = "sk-redaction-5d1e"
		header    = "Bearer hdr/plain+Zm9v=="
		headerWO  = "Bearer wo/secret+YmFy=="
	)
	// The receiver echoes as text at /text and as a JSON object at /json.
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		forms := echoedForms(r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		if strings.HasSuffix(r.URL.Path, "/json") {
			doc := map[string]any{"error": "bad credentials", "got": forms}
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		fmt.Fprintf(w, "refused: %s", strings.Join(forms, " | "))
	}))
	defer recv.Close()

	emu := emulator.New(emulator.Options{AccessID: "id-1", SecretKey: secretKey})
	p1, p2 := emu.AddProject("p1"), emu.AddProject("p2")
	b1, b2 := emu.AddBatch(p1, "a"), emu.AddBatch(p1, "b")
	b3 := emu.AddBatch(p2, "c")
	srv := httptest.NewServer(emu)
	defer srv.Close()

	config := fmt.Sprintf(`
provider "isahitlab" {
  endpoint   = %[1]q
  access_id  = "id-1"
  secret_key = %[2]q
}

resource "isahitlab_webhook" "plain" {
  project_id = %[3]q
  batch_id   = %[4]q
  url        = "%[6]s/text"
  header     = %[7]q
}

resource "isahitlab_webhook" "write_only" {
  project_id        = %[3]q
  batch_id          = %[5]q
  url               = "%[6]s/json"
  header_wo         = %[8]q
  header_wo_version = "1"
}

resource "isahitlab_webhook" "project" {
  project_id        = %[9]q
  url               = "%[6]s/text"
  header_wo         = %[8]q
  header_wo_version = "1"
}

data "isahitlab_webhook" "read_wo" {
  project_id = %[3]q
  batch_id   = isahitlab_webhook.write_only.batch_id
}

output "wo_error" { value = data.isahitlab_webhook.read_wo.last_error }
output "plain_error" { value = isahitlab_webhook.plain.last_error }
`, srv.URL, secretKey, p1, b1, b2, recv.URL, header, headerWO, p2)
	if err := ws.WriteConfig(config); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var outputs strings.Builder
	run := func(args ...string) string {
		t.Helper()
		res, err := ws.Run(ctx, args...)
		if err != nil {
			t.Fatal(redactFor(err.Error(), header, headerWO))
		}
		if args[0] != "show" { // the plan's JSON is searched below, without its configuration
			outputs.WriteString(res.Stdout)
		}
		outputs.WriteString(res.Stderr)
		return res.Stdout
	}
	run("apply", "-auto-approve", "-no-color")

	// Deliveries fail: each receiver's echo is now every workflow's lastError.
	for _, b := range []string{b1, b2, b3} {
		if err := emu.Deliver(ctx, b, "task-1", "annotation"); err == nil {
			t.Fatalf("delivery to batch %s succeeded", b)
		}
	}
	w, _ := emu.Webhook(mustBatch(t, emu, b2).WorkflowID)
	body, _ := json.Marshal(w.LastError)
	if w.LastError == nil || !strings.Contains(string(body), base64.StdEncoding.EncodeToString([]byte(headerWO))) {
		t.Fatal("the receiver's echo did not reach the server: the test would prove nothing")
	}

	run("plan", "-no-color", "-out=p.tfplan")
	planJSON := run("show", "-json", "p.tfplan")
	run("apply", "-refresh-only", "-auto-approve", "-no-color")
	run("output", "-no-color")
	stateJSON, err := os.ReadFile(filepath.Join(ws.Dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stateJSON), "refused: ") || !strings.Contains(string(stateJSON), "bad credentials") ||
		!strings.Contains(planJSON, "refused: ") {
		t.Fatal("no redacted last_error in the state or the plan: the test would prove nothing")
	}

	places := map[string][]string{
		"the CLI output": {outputs.String()},
		"the saved plan": planValues([]byte(planJSON)),
		"the state":      append(jsonStrings(stateJSON), string(stateJSON)),
	}
	for _, h := range []string{header, headerWO} {
		for _, f := range echoedForms(h) {
			for where, texts := range places {
				switch {
				case where == "the state" && h == header:
					// The configured header is in state by design (sensitive),
					// so in the plan's prior state too; no form of it may be
					// in last_error or last_call.
					texts = lastErrorTexts(stateJSON)
				case where == "the saved plan" && h == header:
					texts = planLastErrors([]byte(planJSON))
				}
				for _, text := range texts {
					if strings.Contains(text, f) {
						t.Errorf("%s holds a form of %s: %s", where, redactFor(h, h), redactFor(f, header, headerWO))
						break
					}
				}
			}
		}
	}
}

// lastErrorTexts is the last_error and last_call values of every resource
// and data source instance in a state document.
func lastErrorTexts(state []byte) []string {
	var doc struct {
		Resources []struct {
			Instances []struct {
				Attributes map[string]json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if json.Unmarshal(state, &doc) != nil {
		return []string{string(state)}
	}
	var out []string
	for _, r := range doc.Resources {
		for _, in := range r.Instances {
			for _, k := range []string{"last_error", "last_call"} {
				out = append(out, jsonStrings(in.Attributes[k])...)
			}
		}
	}
	return out
}

// planValues is every string of a plan's JSON but its configuration and
// variables (which quote the configuration's literals, headers included).
func planValues(plan []byte) []string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(plan, &doc) != nil {
		return []string{string(plan)}
	}
	delete(doc, "configuration")
	delete(doc, "variables")
	var out []string
	for _, v := range doc {
		out = append(out, jsonStrings(v)...)
		out = append(out, string(v))
	}
	return out
}

// planLastErrors is the last_error and last_call values of every instance a
// plan holds: prior state, planned values and changes, wherever they nest.
func planLastErrors(plan []byte) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				if k == "last_error" || k == "last_call" {
					b, _ := json.Marshal(e)
					out = append(out, jsonStrings(b)...)
					continue
				}
				walk(e)
			}
		}
	}
	var doc any
	if json.Unmarshal(plan, &doc) != nil {
		return []string{string(plan)}
	}
	walk(doc)
	return out
}
