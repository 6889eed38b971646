package webhooks

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// keepsPart reports a run of at least 8 bytes of secret found in text.
func keepsPart(text, secret string) string {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+8]) {
			return secret[i : i+8]
		}
	}
	return ""
}

// A body repeating a long header far past the cut (the case: the
// rough cut fell inside an echo, and once the echoes before it were masked
// the text shrank enough to bring 98 of its 99 bytes into the kept KiB)
// keeps no part of it, raw or escaped.
func TestHealthLongRepeatedHeaderLeavesNoPart(t *testing.T) {
	t.Parallel()
	c := newClient(t, "http://127.0.0.1:1")                  // never called: it has learned no header
	header := "Bearer " + strings.Repeat("k9/Q+", 18) + "xy" // 99 bytes
	cred := strings.TrimPrefix(header, "Bearer ")
	bodies := map[string]string{
		"json":    strings.Repeat(`{"auth":"`+strings.ReplaceAll(header, "/", `\/`)+`"},`, 200),
		"percent": strings.Repeat("h="+strings.NewReplacer("/", "%2F", "+", "%2B", " ", "+").Replace(header)+"&", 200),
		"base64":  strings.Repeat(base64.StdEncoding.EncodeToString([]byte(header))+" ", 200),
	}
	for off := 0; off < len(header); off += 7 { // wherever an echo straddles a cut
		bodies[fmt.Sprintf("raw after %d bytes", off)] = strings.Repeat("x", off) + strings.Repeat(header, 200)
	}
	for name, body := range bodies {
		w := &client.Webhook{URL: "https://r.example/h", Header: &header,
			LastError: &client.CallError{StatusCode: 401, Message: "Unauthorized", Body: body}}
		got := assess(c, "wf", w, DefaultMaxBody).LastError.Body
		if p := keepsPart(got, cred); p != "" || !strings.Contains(got, "***") {
			t.Errorf("%s: the kept body holds %q: %s", name, p, got)
		}
		if p := keepsPart(got, base64.StdEncoding.EncodeToString([]byte(header))); p != "" {
			t.Errorf("%s: the kept body holds base64 %q: %s", name, p, got)
		}
	}
}

// Through the client: a receiver's answer read back by Health is redacted
// in every form before it is cut.
func TestHealthRedactsEscapedEcho(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1, 0)
	const header = "Bearer tok/en+42=="
	echo := `{"a":"Bearer tok\/en+42==","b":"\u0074\u006f\u006b\u002f\u0065\u006e\u002b\u0034\u0032\u003d\u003d",` +
		`"c":"Bearer+tok%2fen%2B42%3D%3D","d":"` + base64.RawURLEncoding.EncodeToString([]byte(header)) + `"}`
	e.emu.SetWebhook(e.wf(e.batches[0]), receiverAnswering(t, 401, echo), ptr(header))
	e.deliver(t, e.batches[0])
	res := e.health(t, Target{ProjectID: e.project}, HealthOptions{})
	if len(res.Failing) != 1 || res.Failing[0].LastError == nil {
		t.Fatalf("failing %+v", res.Failing)
	}
	if got, want := res.Failing[0].LastError.Body, `{"a":"***","b":"***","c":"***","d":"***"}`; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
}
