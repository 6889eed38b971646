package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// runValidator runs v on value at path p.
func runValidator(v validator.String, p path.Path, value types.String) diag.Diagnostics {
	resp := &validator.StringResponse{}
	v.ValidateString(context.Background(), validator.StringRequest{Path: p, PathExpression: p.Expression(), ConfigValue: value}, resp)
	return resp.Diagnostics
}

// Each validator accepts good values and refuses bad ones, naming the
// attribute, the value (unless it is a secret) and the problem.
func TestValidator_goodAndBadValues(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	type row struct {
		value string
		want  string // "" when the value is good; else part of the message
	}
	groups := []struct {
		name   string
		v      validator.String
		secret bool
		rows   []row
	}{
		{"objectID", objectID(), false, []row{
			{"6650c1f2a9b4000000000001", ""},
			{"6650C1F2A9B4000000000001", "must be a 24-character lowercase hexadecimal Isahit Lab id"},
			{"6650c1f2", "must be a 24-character"},
			{"", "must be a 24-character"},
			{"6650c1f2a9b4000000000001 ", "must be a 24-character"},
			{"zz50c1f2a9b4000000000001", "must be a 24-character"},
			{"6650c1f2a9b4000000000001\n", "must be a 24-character"},
		}},
		{"webhookURL", webhookURL(), false, []row{
			{"https://hooks.example.com/hook", ""},
			{"http://127.0.0.1:8080/h?token=abc&x=1", ""},
			{"https://HOOKS.EXAMPLE.COM", ""},
			// The API refuses a url that does not start with "http" (400), so
			// a scheme in capitals is refused here; "httpS" it takes, and so
			// does this check: it refuses exactly what the API refuses.
			{"httpS://h.example.com/", ""},
			{"HTTPS://HOOKS.EXAMPLE.COM", `must start with "http" in lowercase: the Isahit Lab API refuses any other url (write https:// rather than HTTPS://)`},
			{"Https://h.example.com/hook", "(write https:// rather than Https://)"},
			{"HTTP://127.0.0.1:8080/h", "(write http:// rather than HTTP://)"},
			{"httP://h.example.com/", "(write http:// rather than httP://)"},
			{"hTTps://h.example.com/", "(write https:// rather than hTTps://)"},
			{"https://[::1]:443/x", ""},
			{"https://h.example.com/a%20b", ""},
			{"https://xn--exmple-cua.com/", ""},
			{long("https://h.example.com/", maxURLLength), ""},
			{"", "must not be empty"},
			{"ftp://files.example.com/hook", "must be an absolute http:// or https:// URL"},
			{"hooks.example.com/hook", "must be an absolute http:// or https:// URL"},
			{"https:///hook", "must name a host"},
			{"http:opaque", "must name a host"},
			{"https://h.example.com/a b", "must not contain whitespace or control characters, and has a space at byte 24 (percent-encode a space as %20)"},
			{"https://h.example.com/\r\nX-Evil: 1", "and has a carriage return at byte 23 (a control character is unsafe in an HTTP request: CR and LF would split it)"},
			{"https://h.example.com/\n", "has a line feed at byte 23"},
			{"https://h.example.com/\x00", "has a NUL byte at byte 23"},
			{"https://h.example.com/\tx", "has a tab at byte 23"},
			{"https://h.example.com/\x1bx", "has an escape character at byte 23"},
			{"https://h.example.com/\u00a0", "has a non-breaking space at byte 23"},
			{"https://h.example.com/\u2028", "has a whitespace character (U+2028) at byte 23"},
			{"https://h.example.com/\u0085", "has a control character (U+0085) at byte 23"},
			{"https://exämple.com/", "must be ASCII, and has a non-ASCII character (U+00E4) at byte 11: percent-encode it, or write an international host name in its xn-- form"},
			{"https://alice:hunter2@h.example.com/", "must not contain credentials (user:password@ before the host): they would be sent in clear and written to logs; put the receiver's credentials in header or header_wo"},
			{"https://token@h.example.com/", "must not contain credentials"},
			{"https://h.example.com/hook#part", "must not have a fragment (#...): a fragment is never sent over HTTP"},
			{"https://h.example.com/hook#", "must not have a fragment"},
			{"https://h.example.com:99999/", "has port 99999, out of the range 1-65535"},
			{"https://h.example.com:0/", "has port 0, out of the range 1-65535"},
			{"https://h.example.com/%zz", `is not a URL: invalid URL escape "%zz"`},
			{long("https://h.example.com/", maxURLLength+1), "is 2049 characters long; at most 2048 are allowed"},
		}},
		{"endpointURL", endpointURL(), false, []row{
			{"https://hub-api.isahit.com/", ""},
			{"http://127.0.0.1:9999/prefix", ""},
			{"HTTPS://hub-api.isahit.com/", ""}, // the client, not the API, reads it
			{"", "must not be empty"},
			{"localhost:8080", "must be an absolute http:// or https:// URL"},
			{"https://api.example.com/?tenant=1", "must not have a query (?...): API paths are resolved against the endpoint, which drops its query"},
			{"https://api.example.com/?", "must not have a query"},
			{"https://api.example.com/#x", "must not have a fragment"},
			{"https://u:p@api.example.com/", "must not contain credentials (user:password@ before the host): they would be sent in clear and written to logs; set access_id and secret_key instead"},
			{"https://api.example.com/\n", "has a line feed at byte 25"},
			{"https://api.example.com:65536/", "has port 65536"},
		}},
		{"headerValue", headerValue(), true, []row{
			{"Bearer abc.def-ghi_123", ""},
			{"Basic dXNlcjpwYXNz", ""},
			{"token with inner spaces", ""},
			{"abcd", ""},
			{"x", "must be at least 4 bytes long: a shorter value cannot be masked in logs and error messages, and is guessed in a few tries"},
			{"ab", "must be at least 4 bytes long"},
			{"abc", "must be at least 4 bytes long"},
			{"~!#$%&'*+-.^_`|", ""},
			{long("Bearer ", maxHeaderLength), ""},
			{"", "must not be empty"},
			{"Bearer tok\n", "contains a line feed at byte 11 of 11: CR, LF, NUL and other control characters would split or corrupt the Authorization header over HTTP (a value read with file() keeps its final newline: wrap it in trimspace())"},
			{"Bearer tok\r\nX-Evil: 1", "contains a carriage return at byte 11 of 21: CR, LF, NUL"},
			{"Bearer tok\x00x", "contains a NUL byte at byte 11 of 12"},
			{"Bearer\ttok", "contains a tab at byte 7 of 10"},
			{"\x1b[31mtok", "contains an escape character at byte 1 of 8"},
			{"Bearer tok\x7f", "contains a DEL character at byte 11 of 11"},
			{"Bearer tok\u0085", "contains a control character at byte 11 of 12"},
			{"Bearer \u201ctok\u201d", "contains a non-ASCII character at byte 8 of 16: an HTTP header value must be printable ASCII"},
			{"Bearer tok\u00a0", "contains a non-breaking space at byte 11 of 12: an HTTP header value must be printable ASCII"},
			{" Bearer tok", "begins with a space, which HTTP strips: the receiver would get another value"},
			{"Bearer tok ", "ends with a space, which HTTP strips"},
			{long("Bearer ", maxHeaderLength+1), "is 8193 bytes long; at most 8192 are allowed"},
		}},
		{"headerWOVersion", headerWOVersion(), false, []row{
			{"1", ""},
			{"2024-06-01 rotation", ""},
			{"", "must not be empty"},
			{"2\n", "contains a line feed at byte 2 of 2; control characters are not allowed"},
			{"v\x00", "contains a NUL byte at byte 2 of 2"},
			{long("v", maxVersionLength+1), "is 257 bytes long; at most 256 are allowed"},
		}},
		{"accessIDText", accessIDText(), false, []row{
			{"acc-access-id", ""},
			{"", "must not be empty"},
			{"acc-id\n", "contains a line feed at byte 7 of 7; control characters are not allowed (a value read with file() keeps its final newline: wrap it in trimspace())"},
			{"acc\x07id", "contains a control character at byte 4 of 6"},
			{long("a", maxAccessIDLength+1), "is 1025 bytes long; at most 1024 are allowed"},
		}},
		{"secretKeyText", secretKeyText(), true, []row{
			{"sk-0123456789", ""},
			{"", "must not be empty"},
			{"sk-0123456789\r\n", "contains a carriage return at byte 14 of 15; control characters are not allowed (a value read with file()"},
			{"sk\x00-0123456789", "contains a NUL byte at byte 3 of 14"},
			{long("sk-", maxSecretKeyLength+1), "is 4097 bytes long; at most 4096 are allowed"},
		}},
		{"searchText", searchText(), false, []row{
			{"batch 3", ""},
			{"BATCH-3", ""},
			{"", "must not be empty"},
			{"a\nb", "contains a line feed at byte 2 of 3"},
			{long("b", maxSearchLength+1), "is 257 bytes long; at most 256 are allowed"},
		}},
		{"statusWord", statusWord(), false, []row{
			{"complete", ""},
			{"toBeDeleted", ""},
			{"in_progress", ""},
			{"iat-rectangle", ""},
			{"", "must not be empty"},
			{"in progress", "must be a status word such as pending or complete: a letter, then letters, digits, - or _"},
			{"1st", "must be a status word"},
			{"a&b", "must be a status word"},
			{"complete\n", "must be a status word"},
			{long("s", maxStatusLength+1), "is 65 characters long; at most 64 are allowed"},
		}},
		{"requestTimeout", requestTimeout(), false, []row{
			{"1s", ""},
			{"30s", ""},
			{"1m30s", ""},
			{"10m", ""},
			{"thirty", "is not a duration; use a number with a unit, such as 30s, 2m or 1m30s"},
			{"", "is not a duration"},
			{"30", "is not a duration"},
			{"9999999999h", "is not a duration"},
			{"-5s", "must be greater than zero"},
			{"0", "must be greater than zero"},
			{"0s", "must be greater than zero"},
			{"500ms", "must be at least 1s"},
			{"10m1s", "must be at most 10m"},
			{"24h", "must be at most 10m"},
		}},
	}
	for _, g := range groups {
		for i, r := range g.rows {
			t.Run(fmt.Sprintf("%s/%d", g.name, i), func(t *testing.T) {
				p := path.Root("arg")
				diags := runValidator(g.v, p, types.StringValue(r.value))
				if r.want == "" {
					if diags.HasError() {
						t.Fatalf("%q refused: %v", r.value, diags)
					}
					return
				}
				if diags.ErrorsCount() != 1 || len(diags) != 1 {
					t.Fatalf("%q: want one error, got %v", r.value, diags)
				}
				d := diags[0]
				detail := d.Detail()
				if !strings.Contains(detail, r.want) {
					t.Errorf("%q: message %q does not say %q", r.value, detail, r.want)
				}
				if d.Summary() != "Invalid arg" {
					t.Errorf("summary %q does not name the attribute", d.Summary())
				}
				if wp, ok := d.(diag.DiagnosticWithPath); !ok || !wp.Path().Equal(p) {
					t.Errorf("error not attached to the attribute: %#v", d)
				}
				switch {
				case g.secret && r.value != "":
					if !strings.HasPrefix(detail, "arg (sensitive, not shown): ") {
						t.Errorf("secret message %q does not start with the attribute", detail)
					}
				case strings.Contains(r.value, "@"):
					// Credentials in a URL are masked: see the test below.
				default:
					if want := "arg = " + shown(r.value) + ": "; !strings.HasPrefix(detail, want) {
						t.Errorf("message %q does not start with %q", detail, want)
					}
				}
			})
		}
	}
}

// A secret (header, header_wo, secret_key) never appears in a message, not
// even in part: only where and why it is wrong.
func TestValidator_secretsNeverShown(t *testing.T) {
	const secret = "s3cr3t-Tok3n-9f8e7d"
	// Values every secret check refuses...
	values := []string{
		"Bearer " + secret + "\n",
		"Bearer " + secret + "\r\nX-Injected: 1",
		"Bearer\x00" + secret,
		"Bearer " + secret + "\t",
		"Bearer " + secret + "\u0085",
		"Bearer " + secret + strings.Repeat("x", maxSecretKeyLength+maxHeaderLength),
	}
	// ...and those only a header value is refused for.
	headerOnly := []string{
		"Bearer \u201c" + secret + "\u201d",
		"Bearer " + secret + "\u00e9",
		" Bearer " + secret,
		"Bearer " + secret + " ",
	}
	for _, c := range []struct {
		v      validator.String
		values []string
	}{
		{headerValue(), append(values, headerOnly...)},
		{secretKeyText(), values},
	} {
		for _, value := range c.values {
			diags := runValidator(c.v, path.Root("header_wo"), types.StringValue(value))
			if !diags.HasError() {
				t.Fatalf("%s accepted %q", c.v.Description(context.Background()), value)
			}
			for _, d := range diags {
				text := d.Summary() + "\n" + d.Detail()
				for n := 0; n+6 <= len(secret); n++ {
					if part := secret[n : n+6]; strings.Contains(text, part) {
						t.Fatalf("message shows part %q of the secret: %s", part, text)
					}
				}
				if strings.Contains(text, "U+") {
					t.Errorf("message shows a character of the secret: %s", text)
				}
				if !strings.HasPrefix(d.Detail(), "header_wo (sensitive, not shown): ") {
					t.Errorf("message %q does not name the attribute", d.Detail())
				}
			}
		}
	}
}

// A header too short to be masked (under client.MinSecretLength bytes) is
// refused, and the message tells nothing of it: not its length, nor where a
// bad character is in it, whatever else is wrong with it.
func TestValidator_shortHeaderRefused(t *testing.T) {
	want := "header_wo (sensitive, not shown): must be at least 4 bytes long: a shorter value cannot be masked in logs and error messages, and is guessed in a few tries."
	for _, value := range []string{"a", "Q7", "Q7z", "7\n", "a\x00", " ab", "ab ", "\u00e9a", "\n"} {
		diags := runValidator(headerValue(), path.Root("header_wo"), types.StringValue(value))
		if len(diags) != 1 || diags[0].Detail() != want {
			t.Errorf("%q: want %q, got %v", value, want, diags)
		}
	}
	// The shortest header accepted is one the client masks once it has sent
	// it; one byte less, it would not.
	env := newTestEnv(t, 1)
	c, err := client.New(client.Config{Endpoint: env.url, AccessID: testAccessID, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{"abcd", "Q7z!", "Bearer x"} {
		if diags := runValidator(headerValue(), path.Root("header"), types.StringValue(value)); diags.HasError() {
			t.Errorf("%q refused: %v", value, diags)
		}
		if _, err := c.SetupWebhook(context.Background(), client.Target{BatchID: env.batches[0]},
			client.WebhookSetting{URL: "https://h.example.com/", Header: &value}); err != nil {
			t.Fatal(err)
		}
		if got := c.Redact("<" + value + ">"); got != "<***>" {
			t.Errorf("header %q accepted, but the client does not mask it: %q", value, got)
		}
	}
}

// The webhook url check refuses every url the API refuses: each url here is
// sent to the emulator, which plays the API's rule (CONTRACT.md: "url must
// start with http", 400 otherwise), and a 400 there must be a plan error.
func TestValidator_webhookURLRefusesWhatTheAPIRefuses(t *testing.T) {
	env := newTestEnv(t, 1)
	c, err := client.New(client.Config{Endpoint: env.url, AccessID: testAccessID, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	refusedByAPI := 0
	for _, u := range []string{
		"https://h.example.com/", "http://h.example.com/", "httpS://h.example.com/", "https://H.EXAMPLE.COM/",
		"HTTPS://h.example.com/", "HTTP://h.example.com/", "Https://h.example.com/", "hTTp://h.example.com/", "httP://h.example.com/",
		"ftp://h.example.com/", "h.example.com/hook", "//h.example.com/", " https://h.example.com/", "",
	} {
		_, err := c.SetupWebhook(context.Background(), client.Target{BatchID: env.batches[0]}, client.WebhookSetting{URL: u})
		apiRefuses := errors.Is(err, client.ErrBadRequest)
		if err != nil && !apiRefuses {
			t.Fatalf("%q: %v", u, err)
		}
		diags := runValidator(webhookURL(), path.Root("url"), types.StringValue(u))
		if apiRefuses {
			refusedByAPI++
			if !diags.HasError() {
				t.Errorf("%q: the API refuses it (%v), the plan does not", u, err)
			}
		}
	}
	if refusedByAPI < 8 {
		t.Fatalf("the emulator refused only %d urls: is its rule still the API's?", refusedByAPI)
	}
}

// Credentials in a URL are masked in every message about it, whatever else
// is wrong with it.
func TestValidator_urlCredentialsMasked(t *testing.T) {
	values := []string{
		"https://alice:hunter2@h.example.com/",
		"https://alice:hunter2@h.example.com/a b",
		"https://alice:hunter2@h.example.com/#x",
		"https://alice:hunter2@exämple.com/",
		"https://alice:hunter2@h.example.com/" + strings.Repeat("a", maxURLLength),
		"ftp://alice:hunter2@h.example.com/",
		"alice:hunter2@h.example.com/",
		"//alice:hunter2@h.example.com/",
		"https://alice:hun@ter2@h.example.com/",
		"https://alice:hunter2@h.example.com:99999/",
		"https://alice:hunter2@/hook",
		"HTTPS://alice:hunter2@h.example.com/",
	}
	for _, c := range []struct {
		v      validator.String
		values []string
	}{
		{webhookURL(), values},
		{endpointURL(), values},
	} {
		for _, value := range c.values {
			diags := runValidator(c.v, path.Root("url"), types.StringValue(value))
			if !diags.HasError() {
				t.Fatalf("accepted %q", value)
			}
			text := diags[0].Summary() + diags[0].Detail()
			if strings.Contains(text, "hunter2") || strings.Contains(text, "alice") || strings.Contains(text, "ter2") {
				t.Errorf("message shows the credentials of %q: %s", value, text)
			}
			if !strings.Contains(text, "xxxxx@") {
				t.Errorf("message %q does not show where the credentials were", text)
			}
		}
	}
}

// Null and unknown values pass: they are checked once known.
func TestValidator_nullAndUnknownPass(t *testing.T) {
	for _, v := range []validator.String{objectID(), webhookURL(), endpointURL(), headerValue(),
		headerWOVersion(), accessIDText(), secretKeyText(), searchText(), statusWord(), requestTimeout()} {
		for _, value := range []types.String{types.StringNull(), types.StringUnknown()} {
			if diags := runValidator(v, path.Root("arg"), value); diags.HasError() {
				t.Errorf("%s: %v refused: %v", v.Description(context.Background()), value, diags)
			}
		}
	}
}

// A long bad value is quoted cut, with its length.
func TestValidator_longValueCut(t *testing.T) {
	value := strings.Repeat("é", 5000)
	diags := runValidator(searchText(), path.Root("search"), types.StringValue(value))
	detail := diags[0].Detail()
	if len(detail) > 400 || !strings.Contains(detail, "... (10000 bytes): is 10000 bytes long") {
		t.Errorf("long value not cut: %d bytes: %.300s", len(detail), detail)
	}
}

// planErrorCase is an argument refused at plan time. Its config declares
// one resource or data source labelled "NAME" (runPlanErrors gives it a name
// of its own); "PROJECT" stands for the emulator's project.
type planErrorCase struct {
	name string
	// provider holds extra provider arguments; the first one's name is left
	// out of the default arguments. A case with provider, drop or env gets a
	// provider configuration of its own (an alias), which its resource uses
	// and its error names.
	provider string
	drop     []string // default provider arguments to leave out
	config   string
	// vars are declared sensitive, so that Terraform's own output never
	// shows them either; config and provider refer to them as var.<key>.
	vars config.Variables
	env  map[string]string // environment variables (not with parallel)
	// configure: the error comes from ConfigureProvider, not from a schema
	// or config validator. (A case planned at the wrong stage fails: its
	// error never shows.)
	configure bool
	want      string // the error, as wrapped() matches it
	// secret must appear nowhere in Terraform's output.
	secret string
}

// Where Terraform refuses a case decides which cases share a plan: every
// ValidateProviderConfig, ValidateResourceConfig and ValidateDataResourceConfig
// error of the validate walk is reported at once, but the plan walk, where
// ConfigureProvider runs and values from variables (unknown to the validate
// walk) are checked, is reached only when the whole configuration validates.
const (
	stageValidate = "validate"
	stagePlan     = "plan"
)

func (tc planErrorCase) stage() string {
	if len(tc.vars) > 0 || len(tc.env) > 0 || tc.configure {
		return stagePlan
	}
	return stageValidate
}

// ownProvider reports whether the case configures a provider of its own.
func (tc planErrorCase) ownProvider() bool {
	return tc.provider != "" || len(tc.drop) > 0 || len(tc.env) > 0
}

// planErrorGroup is cases planned together, in one configuration.
type planErrorGroup struct {
	stage string
	env   map[string]string
	cases []int // indexes of the cases
}

// groupPlanErrors puts cases of one stage in one group, except that the
// environment is the process's (the in-process provider reads it): cases
// setting one variable to different values need plans of their own, and
// cases setting none never share a plan with those that do.
func groupPlanErrors(cases []planErrorCase) []*planErrorGroup {
	var groups []*planErrorGroup
	fits := func(g *planErrorGroup, tc planErrorCase) bool {
		if g.stage != tc.stage() || (len(g.env) > 0) != (len(tc.env) > 0) {
			return false
		}
		for k, v := range tc.env {
			if have, ok := g.env[k]; ok && have != v {
				return false
			}
		}
		return true
	}
	for i, tc := range cases {
		var g *planErrorGroup
		for _, have := range groups {
			if fits(have, tc) {
				g = have
				break
			}
		}
		if g == nil {
			g = &planErrorGroup{stage: tc.stage(), env: map[string]string{}}
			groups = append(groups, g)
		}
		maps.Copy(g.env, tc.env)
		g.cases = append(g.cases, i)
	}
	return groups
}

var caseBlock = regexp.MustCompile(`(resource|data) "(\w+)" "NAME"`)

// configuration is the group's configuration, its variables, and the
// address each case's error must name.
func (g *planErrorGroup) configuration(t *testing.T, env *testEnv, cases []planErrorCase) (string, config.Variables, map[int]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(env.provider())
	vars := config.Variables{}
	addrs := map[int]string{}
	for _, i := range g.cases {
		tc := cases[i]
		label := fmt.Sprintf("case_%d", i+1)
		body, extra := strings.ReplaceAll(tc.config, "PROJECT", env.project), tc.provider
		for k, v := range tc.vars {
			name := k + "_" + label
			fmt.Fprintf(&b, "variable %q {\n  type      = string\n  sensitive = true\n}\n", name)
			ref := regexp.MustCompile(`\bvar\.` + regexp.QuoteMeta(k) + `\b`)
			body, extra = ref.ReplaceAllString(body, "var."+name), ref.ReplaceAllString(extra, "var."+name)
			vars[name] = v
		}
		m := caseBlock.FindStringSubmatch(body)
		if m == nil || strings.Count(body, `"NAME"`) != 1 {
			t.Fatalf("case %q: the config must declare one resource or data source labelled \"NAME\"", tc.name)
		}
		switch {
		case tc.ownProvider():
			drop := tc.drop
			if tc.provider != "" {
				drop = append(slices.Clone(drop), strings.Fields(tc.provider)[0])
			}
			b.WriteString(env.providerWith(fmt.Sprintf("alias = %q\n  %s", label, extra), drop...))
			body = strings.Replace(body, `"NAME" {`, `"NAME" {`+"\n  provider = isahitlab."+label+"\n", 1)
			addrs[i] = "provider.isahitlab." + label
		case m[1] == "data":
			addrs[i] = "data." + m[2] + "." + label
		default:
			addrs[i] = m[2] + "." + label
		}
		b.WriteString(strings.ReplaceAll(body, `"NAME"`, strconv.Quote(label)) + "\n")
	}
	return b.String(), vars, addrs
}

var (
	diagStart    = regexp.MustCompile(`^(Error|Warning): `)
	diagWith     = regexp.MustCompile(`^with (.+),$`)
	providerAddr = regexp.MustCompile(`^provider\["[^"]*/([^"/]+)"\]`)
)

// errorsByAddress splits Terraform's output (without color) into its error
// diagnostics, keyed by the address each names on its "with" line ("" when
// none). A provider configuration's address is written provider.<name>.<alias>,
// whatever registry host and namespace the CLI gave it.
func errorsByAddress(out string) map[string][]string {
	errs := map[string][]string{}
	var block []string
	isError := false
	flush := func() {
		if isError {
			addr := ""
			for _, line := range block {
				if m := diagWith.FindStringSubmatch(line); m != nil {
					addr = providerAddr.ReplaceAllString(m[1], "provider.$1")
					break
				}
			}
			errs[addr] = append(errs[addr], strings.Join(block, "\n"))
		}
		block, isError = nil, false
	}
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(line, "╷│╵ "))
		if m := diagStart.FindStringSubmatch(line); m != nil {
			flush()
			isError = m[1] == "Error"
		}
		block = append(block, line)
	}
	flush()
	return errs
}

// runPlanErrors plans the cases in as few configurations as Terraform allows
// (see groupPlanErrors), each case's argument on a resource, data source or
// provider configuration of its own, and checks that each of these gets its
// case's error, that nothing else fails, and that no secret shows. The
// emulator must have received no request at all once a plan is over.
//
// In-process, every provider configuration of a plan is served by one
// provider server: one alias's failed ConfigureProvider can leave another
// unconfigured (Terraform) or configured with its credentials (OpenTofu).
// A group therefore holds nothing that would read: each case fails before.
func runPlanErrors(t *testing.T, cases []planErrorCase, parallel bool) {
	t.Helper()
	for _, g := range groupPlanErrors(cases) {
		t.Run(g.stage, func(t *testing.T) {
			for k, v := range g.env {
				t.Setenv(k, v)
			}
			env := newTestEnv(t, 0)
			cfg, vars, addrs := g.configuration(t, env, cases)
			var out string
			tcase := resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				// ExpectError takes one pattern: keep the whole output instead.
				ErrorCheck: func(err error) error {
					out = err.Error()
					return nil
				},
				Steps: []resource.TestStep{{Config: cfg, ConfigVariables: vars, PlanOnly: true}},
			}
			if parallel {
				resource.ParallelTest(t, tcase)
			} else {
				resource.UnitTest(t, tcase)
			}
			// resource.Test has returned (after t.Parallel's wait, for a
			// parallel group): every Terraform command of the plan has run.
			if n := env.emu.TotalCalls(); n != 0 {
				t.Errorf("bad input reached the API: %d calls %v", n, env.emu.Calls())
			}
			// No message may show a secret, even when a case fails.
			shown := func(text string) string {
				for _, i := range g.cases {
					if sec := cases[i].secret; sec != "" {
						text = strings.ReplaceAll(text, sec, "<SECRET>")
					}
				}
				return text
			}
			if out == "" {
				t.Fatalf("the plan did not fail; configuration:\n%s", cfg)
			}
			errs := errorsByAddress(out)
			expected := map[string]bool{}
			passed := true
			for _, i := range g.cases {
				tc, addr := cases[i], addrs[i]
				expected[addr] = true
				passed = t.Run(tc.name, func(t *testing.T) {
					want := wrapped(tc.want)
					if own := strings.Join(errs[addr], "\n"); !want.MatchString(own) {
						var elsewhere []string
						for other, blocks := range errs {
							if other != addr && want.MatchString(strings.Join(blocks, "\n")) {
								elsewhere = append(elsewhere, other)
							}
						}
						t.Errorf("%s has no error matching %s (found on: %v); its errors:\n%s", addr, want, elsewhere, shown(own))
					}
					if tc.secret != "" && strings.Contains(out, tc.secret) {
						t.Errorf("Terraform's output shows the secret value")
					}
				}) && passed
			}
			for addr, blocks := range errs {
				if !expected[addr] {
					passed = false
					t.Errorf("an error no case expects, on %q:\n%s", addr, shown(strings.Join(blocks, "\n\n")))
				}
			}
			if !passed {
				t.Logf("the plan's output:\n%s", shown(out))
			}
		})
	}
}

const (
	validProject  = "6650c1f2a9b4000000000001"
	validBatch    = "6650c1f2a9b4000000000002"
	validWorkflow = "6650c1f2a9b4000000000003"
)

// webhookRes is an isahitlab_webhook resource with body, for planErrorCase.
func webhookRes(body string) string {
	return fmt.Sprintf("resource \"isahitlab_webhook\" \"NAME\" {\n  project_id = %q\n%s\n}\n", validProject, body)
}

// Bad input is refused at plan time, naming the argument and the value, and
// before any API call. docs/guides/ carries the same table for users.
func TestAccValidation_planTimeErrors(t *testing.T) {
	if os.Getenv(envAccessID) != "" || os.Getenv(envSecretKey) != "" || os.Getenv(envEndpoint) != "" {
		t.Skip("credentials in the environment would hide the missing-credentials case")
	}
	const (
		p = validProject
		b = validBatch
		w = validWorkflow
	)
	webhook := webhookRes
	okURL := `url = "https://h.example.com/"`
	batches := func(body string) string {
		return fmt.Sprintf("data \"isahitlab_batches\" \"NAME\" {\n  project_id = %q\n%s\n}\n", p, body)
	}
	webhookDS := func(body string) string {
		return fmt.Sprintf("data \"isahitlab_webhook\" \"NAME\" {\n  project_id = %q\n%s\n}\n", p, body)
	}
	cases := []planErrorCase{
		// The resource's arguments the current validators cover; the strict
		// url and header checks are in TestAccValidation_webhookResource.
		{name: "url other scheme", config: webhook(`url = "ftp://files.example.com/hook"`),
			want: `url = "ftp://files.example.com/hook": must be an absolute http:// or https:// URL`},
		{name: "url with spaces", config: webhook(`url = "https://hooks.example.com/a b"`),
			want: `url = "https://hooks.example.com/a b": must not contain whitespace`},
		{name: "url without host", config: webhook(`url = "https:///hook"`), want: `url = "https:///hook": must name a host`},
		{name: "url relative", config: webhook(`url = "hooks.example.com/hook"`),
			want: `url = "hooks.example.com/hook": must be an absolute http:// or https:// URL`},
		{name: "url empty", config: webhook(`url = ""`), want: `url = "": must not be empty`},
		{name: "project id not hex", config: `resource "isahitlab_webhook" "NAME" {
  project_id = "my-project"
  url        = "https://hooks.example.com/"
}`, want: `project_id = "my-project": must be a 24-character lowercase hexadecimal Isahit Lab id`},
		{name: "project id upper case", config: `resource "isahitlab_webhook" "NAME" {
  project_id = "6650C1F2A9B4000000000001"
  url        = "https://hooks.example.com/"
}`, want: `project_id = "6650C1F2A9B4000000000001": must be a 24-character`},
		{name: "batch id wrong length", config: webhook(`batch_id = "6650c1f2"` + "\n" + okURL),
			want: `batch_id = "6650c1f2": must be a 24-character`},
		{name: "workflow id with newline", config: webhook(`workflow_id = "6650c1f2a9b4000000000003\n"` + "\n" + okURL),
			want: `workflow_id = "6650c1f2a9b4000000000003\n": must be a 24-character`},
		{name: "batch and workflow", config: webhook(fmt.Sprintf("batch_id = %q\nworkflow_id = %q\n%s", b, w, okURL)),
			want: `These attributes cannot be configured together: [batch_id,workflow_id]`},
		{name: "header and header_wo", config: webhook(okURL + "\nheader = \"Bearer a\"\nheader_wo = \"Bearer b\""),
			want: `These attributes cannot be configured together: [header,header_wo]`},
		{name: "header_wo_version alone", config: webhook(okURL + "\nheader_wo_version = \"1\""),
			want: `Attribute "header_wo" must be specified when "header_wo_version" is specified`},
		{name: "header empty", config: webhook(okURL + "\nheader = \"\""), want: `header = "": must not be empty`},
		{name: "on_destroy unknown", config: webhook(okURL + "\non_destroy = \"delete\""),
			want: `on_destroy value must be one of: ["clear" "keep"], got: "delete"`},

		// Provider arguments.
		{name: "max_concurrency zero", provider: "max_concurrency = 0", config: webhook(okURL),
			want: `max_concurrency value must be at least 1, got: 0`},
		{name: "max_concurrency negative", provider: "max_concurrency = -4", config: webhook(okURL),
			want: `max_concurrency value must be at least 1, got: -4`},
		{name: "max_concurrency too high", provider: "max_concurrency = 257", config: webhook(okURL),
			want: `max_concurrency value must be at most 256, got: 257`},
		{name: "max_concurrency huge", provider: "max_concurrency = 9223372036854775807", config: webhook(okURL),
			want: `max_concurrency value must be at most 256, got: 9223372036854775807`},
		{name: "max_retries negative", provider: "max_retries = -1", config: webhook(okURL),
			want: `max_retries value must be at least 0, got: -1`},
		{name: "max_retries too high", provider: "max_retries = 21", config: webhook(okURL),
			want: `max_retries value must be at most 20, got: 21`},
		{name: "request_timeout unparsable", provider: `request_timeout = "thirty"`, config: webhook(okURL),
			want: `request_timeout = "thirty": is not a duration`},
		{name: "request_timeout without unit", provider: `request_timeout = "30"`, config: webhook(okURL),
			want: `request_timeout = "30": is not a duration`},
		{name: "request_timeout negative", provider: `request_timeout = "-5s"`, config: webhook(okURL),
			want: `request_timeout = "-5s": must be greater than zero`},
		{name: "request_timeout zero", provider: `request_timeout = "0s"`, config: webhook(okURL),
			want: `request_timeout = "0s": must be greater than zero`},
		{name: "request_timeout too short", provider: `request_timeout = "100ms"`, config: webhook(okURL),
			want: `request_timeout = "100ms": must be at least 1s`},
		{name: "request_timeout too long", provider: `request_timeout = "2h"`, config: webhook(okURL),
			want: `request_timeout = "2h": must be at most 10m`},
		{name: "requests_per_second zero", provider: "requests_per_second = 0", config: webhook(okURL),
			want: `requests_per_second value must be between 0.100000 and 100000.000000, got: 0.000000`},
		{name: "requests_per_second negative", provider: "requests_per_second = -10", config: webhook(okURL),
			want: `requests_per_second value must be between 0.100000 and 100000.000000, got: -10.000000`},
		{name: "requests_per_second too high", provider: "requests_per_second = 1e6", config: webhook(okURL),
			want: `requests_per_second value must be between 0.100000 and 100000.000000, got: 1000000.000000`},
		{name: "max_retry_after unparsable", provider: `max_retry_after = "five minutes"`, config: webhook(okURL),
			want: `max_retry_after = "five minutes": is not a duration`},
		{name: "max_retry_after without unit", provider: `max_retry_after = "300"`, config: webhook(okURL),
			want: `max_retry_after = "300": is not a duration`},
		{name: "max_retry_after too short", provider: `max_retry_after = "500ms"`, config: webhook(okURL),
			want: `max_retry_after = "500ms": must be at least 1s`},
		{name: "max_retry_after too long", provider: `max_retry_after = "2h"`, config: webhook(okURL),
			want: `max_retry_after = "2h": must be at most 1h`},
		{name: "endpoint not a url", provider: `endpoint = "localhost:8080"`, config: webhook(okURL),
			want: `endpoint = "localhost:8080": must be an absolute http:// or https:// URL`},
		{name: "endpoint empty", provider: `endpoint = ""`, config: webhook(okURL),
			want: `endpoint = "": must not be empty`},
		{name: "endpoint with credentials", provider: `endpoint = "https://me:pa55word@api.example.com/"`, config: webhook(okURL),
			want: `endpoint = "https://xxxxx@api.example.com/": must not contain credentials (user:password@ before the host): they would be sent in clear and written to logs; set access_id and secret_key instead`},
		{name: "endpoint with query", provider: `endpoint = "https://api.example.com/?tenant=1"`, config: webhook(okURL),
			want: `endpoint = "https://api.example.com/?tenant=1": must not have a query (?...): API paths are resolved against the endpoint`},
		{name: "endpoint with fragment", provider: `endpoint = "https://api.example.com/#v1"`, config: webhook(okURL),
			want: `endpoint = "https://api.example.com/#v1": must not have a fragment`},
		{name: "endpoint with newline", provider: `endpoint = "https://api.example.com/\n"`, config: webhook(okURL),
			want: `endpoint = "https://api.example.com/\n": must not contain whitespace or control characters, and has a line feed at byte 25`},
		{name: "endpoint bad port", provider: `endpoint = "https://api.example.com:70000/"`, config: webhook(okURL),
			want: `endpoint = "https://api.example.com:70000/": has port 70000, out of the range 1-65535`},
		{name: "endpoint too long", provider: fmt.Sprintf(`endpoint = "https://api.example.com/%s"`, strings.Repeat("p", maxURLLength)), config: webhook(okURL),
			want: `is 2072 characters long; at most 2048 are allowed`},
		{name: "access_id empty", provider: `access_id = ""`, config: webhook(okURL),
			want: `access_id = "": must not be empty`},
		{name: "access_id with newline", provider: `access_id = "acc-id\n"`, config: webhook(okURL),
			want: `access_id = "acc-id\n": contains a line feed at byte 7 of 7; control characters are not allowed (a value read with file() keeps its final newline: wrap it in trimspace())`},
		{name: "secret_key empty", provider: `secret_key = ""`, config: webhook(okURL),
			want: `secret_key = "": must not be empty`},
		{name: "secret_key with newline", provider: `secret_key = var.secret`, config: webhook(okURL),
			vars:   config.Variables{"secret": config.StringVariable("sk-Pl4n-S3cret\n")},
			secret: "sk-Pl4n-S3cret",
			want:   `secret_key (sensitive, not shown): contains a line feed at byte 15 of 15; control characters are not allowed`},
		{name: "secret_key with NUL", provider: `secret_key = var.secret`, config: webhook(okURL),
			vars:   config.Variables{"secret": config.StringVariable("sk-Pl4n\x00S3cret")},
			secret: "S3cret",
			want:   `secret_key (sensitive, not shown): contains a NUL byte at byte 8 of 14`},
		{name: "missing credentials", drop: []string{"access_id", "secret_key"}, config: webhook(okURL), configure: true,
			want: `access_id (or the ISAHIT_LAB_API_ACCESS_ID environment variable) and secret_key (or the ISAHIT_LAB_API_SECRET_KEY environment variable)`},

		// Data source isahitlab_batches.
		{name: "batches project id", config: fmt.Sprintf(`data "isahitlab_batches" "NAME" { project_id = %q }`, "0000"),
			want: `project_id = "0000": must be a 24-character`},
		{name: "batches empty statuses", config: batches(`statuses = []`),
			want: `statuses list must contain at least 1 elements, got: 0`},
		{name: "batches empty status", config: batches(`statuses = [""]`),
			want: `statuses[0] = "": must not be empty`},
		{name: "batches status with space", config: batches(`statuses = ["complete", "in progress"]`),
			want: `statuses[1] = "in progress": must be a status word such as pending or complete`},
		{name: "batches status with newline", config: batches(`statuses = ["complete\n"]`),
			want: `statuses[0] = "complete\n": must be a status word`},
		{name: "batches duplicate status", config: batches(`statuses = ["complete", "complete"]`),
			want: `This attribute contains duplicate values of: "complete"`},
		{name: "batches empty search", config: batches(`search = ""`),
			want: `search = "": must not be empty`},
		{name: "batches search with newline", config: batches(`search = "batch\n3"`),
			want: `search = "batch\n3": contains a line feed at byte 6 of 7; control characters are not allowed`},
		{name: "batches search too long", config: batches(fmt.Sprintf("search = %q", strings.Repeat("s", maxSearchLength+1))),
			want: `is 257 bytes long; at most 256 are allowed`},

		// Data source isahitlab_webhook.
		{name: "webhook data source bad workflow", config: webhookDS(`workflow_id = "WF"`),
			want: `workflow_id = "WF": must be a 24-character`},
		{name: "webhook data source bad batch", config: webhookDS(`batch_id = ""`),
			want: `batch_id = "": must be a 24-character`},
		{name: "webhook data source bad project", config: `data "isahitlab_webhook" "NAME" {
  project_id = "6650c1f2a9b400000000000G"
  batch_id   = "6650c1f2a9b4000000000002"
}`, want: `project_id = "6650c1f2a9b400000000000G": must be a 24-character`},
		{name: "webhook data source neither id", config: webhookDS(""),
			want: `Exactly one of these attributes must be configured: [batch_id,workflow_id]`},
		{name: "webhook data source both ids", config: webhookDS(fmt.Sprintf("batch_id = %q\nworkflow_id = %q", b, w)),
			want: `Exactly one of these attributes must be configured: [batch_id,workflow_id]`},
	}
	runPlanErrors(t, cases, true)
}

// The webhook resource's url, header, header_wo and header_wo_version get
// the strict checks (webhookURL, headerValue, headerWOVersion).
func TestAccValidation_webhookResource(t *testing.T) {
	okURL := `url = "https://h.example.com/"`
	secretHeader := func(attr string) string {
		return webhookRes(okURL + "\n" + attr + " = var.secret")
	}
	cases := []planErrorCase{
		{name: "url with credentials", config: webhookRes(`url = "https://bob:s3cret@hooks.example.com/hook"`),
			want: `url = "https://xxxxx@hooks.example.com/hook": must not contain credentials (user:password@ before the host): they would be sent in clear and written to logs; put the receiver's credentials in header or header_wo`},
		{name: "url with fragment", config: webhookRes(`url = "https://hooks.example.com/hook#part"`),
			want: `url = "https://hooks.example.com/hook#part": must not have a fragment (#...): a fragment is never sent over HTTP`},
		{name: "url with CRLF", config: webhookRes(`url = "https://hooks.example.com/\r\nX-Evil: 1"`),
			want: `url = "https://hooks.example.com/\r\nX-Evil: 1": must not contain whitespace or control characters, and has a carriage return at byte 27 (a control character is unsafe in an HTTP request: CR and LF would split it)`},
		{name: "url with NUL", config: webhookRes(`url = "https://hooks.example.com/\u0000"`),
			want: `has a NUL byte at byte 27`},
		{name: "url not ASCII", config: webhookRes(`url = "https://hööks.example.com/"`),
			want: `url = "https://hööks.example.com/": must be ASCII, and has a non-ASCII character (U+00F6) at byte 10`},
		{name: "url bad port", config: webhookRes(`url = "https://hooks.example.com:0/"`),
			want: `has port 0, out of the range 1-65535`},
		{name: "url too long", config: webhookRes(fmt.Sprintf("url = %q", "https://hooks.example.com/"+strings.Repeat("p", maxURLLength))),
			want: `is 2074 characters long; at most 2048 are allowed`},
		{name: "header with line feed", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer h3ader-S3cret\n")}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): contains a line feed at byte 21 of 21: CR, LF, NUL and other control characters would split or corrupt the Authorization header over HTTP`},
		{name: "header with CRLF injection", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer h3ader-S3cret\r\nX-Evil: 1")}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): contains a carriage return at byte 21 of 31`},
		{name: "header with NUL", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer\x00h3ader-S3cret")}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): contains a NUL byte at byte 7 of 20`},
		{name: "header with curly quotes", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer \u201ch3ader-S3cret\u201d")}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): contains a non-ASCII character at byte 8 of 26: an HTTP header value must be printable ASCII`},
		{name: "header with trailing space", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer h3ader-S3cret ")}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): ends with a space, which HTTP strips`},
		{name: "header too long", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Bearer h3ader-S3cret" + strings.Repeat("x", maxHeaderLength))}, secret: "h3ader-S3cret",
			want: `header (sensitive, not shown): is 8212 bytes long; at most 8192 are allowed`},
		{name: "header_wo with tab", config: secretHeader("header_wo"),
			vars: config.Variables{"secret": config.StringVariable("Bearer\th3ader-S3cret")}, secret: "h3ader-S3cret",
			want: `header_wo (sensitive, not shown): contains a tab at byte 7 of 20`},
		{name: "header_wo with line feed", config: secretHeader("header_wo"),
			vars: config.Variables{"secret": config.StringVariable("Bearer h3ader-S3cret\n")}, secret: "h3ader-S3cret",
			want: `header_wo (sensitive, not shown): contains a line feed at byte 21 of 21`},
		{name: "header_wo empty", config: webhookRes(okURL + "\nheader_wo = \"\""), want: `header_wo = "": must not be empty`},
		{name: "header too short", config: secretHeader("header"),
			vars: config.Variables{"secret": config.StringVariable("Q7z")}, secret: "Q7z",
			want: `header (sensitive, not shown): must be at least 4 bytes long: a shorter value cannot be masked in logs and error messages, and is guessed in a few tries`},
		{name: "header_wo too short", config: secretHeader("header_wo"),
			vars: config.Variables{"secret": config.StringVariable("k9")}, secret: "k9",
			want: `header_wo (sensitive, not shown): must be at least 4 bytes long`},
		{name: "url upper-case scheme", config: webhookRes(`url = "HTTPS://hooks.example.com/hook"`),
			want: `url = "HTTPS://hooks.example.com/hook": must start with "http" in lowercase: the Isahit Lab API refuses any other url (write https:// rather than HTTPS://)`},
		{name: "url mixed-case scheme", config: webhookRes(`url = "Http://hooks.example.com/hook"`),
			want: `url = "Http://hooks.example.com/hook": must start with "http" in lowercase: the Isahit Lab API refuses any other url (write http:// rather than Http://)`},
		{name: "header_wo_version empty", config: webhookRes(okURL + "\nheader_wo = \"Bearer x\"\nheader_wo_version = \"\""),
			want: `header_wo_version = "": must not be empty`},
		{name: "header_wo_version with newline", config: webhookRes(okURL + "\nheader_wo = \"Bearer x\"\nheader_wo_version = \"2\\n\""),
			want: `header_wo_version = "2\n": contains a line feed at byte 2 of 2; control characters are not allowed`},
		{name: "header_wo_version too long", config: webhookRes(okURL + fmt.Sprintf("\nheader_wo = \"Bearer x\"\nheader_wo_version = %q", strings.Repeat("v", maxVersionLength+1))),
			want: `is 257 bytes long; at most 256 are allowed`},
	}
	runPlanErrors(t, cases, true)
}

// Values read from the environment get the checks configured values get,
// with errors naming the variable; the secret key's value is never shown.
// Not parallel: it sets the process environment the provider reads.
func TestAccValidation_environment(t *testing.T) {
	ds := "data \"isahitlab_batches\" \"NAME\" {\n  project_id = \"PROJECT\"\n}\n"
	cases := []planErrorCase{
		{name: "endpoint not a url", drop: []string{"endpoint"}, config: ds,
			env:  map[string]string{envEndpoint: "localhost:8080"},
			want: `ISAHIT_LAB_API_ENDPOINT = "localhost:8080": must be an absolute http:// or https:// URL. The provider block does not set endpoint, so the provider read the ISAHIT_LAB_API_ENDPOINT environment variable.`},
		{name: "endpoint with credentials", drop: []string{"endpoint"}, config: ds,
			env:    map[string]string{envEndpoint: "https://me:env-Pa55word@api.example.com/"},
			secret: "env-Pa55word",
			want:   `ISAHIT_LAB_API_ENDPOINT = "https://xxxxx@api.example.com/": must not contain credentials`},
		{name: "endpoint with query", drop: []string{"endpoint"}, config: ds,
			env:  map[string]string{envEndpoint: "https://api.example.com/?tenant=1"},
			want: `ISAHIT_LAB_API_ENDPOINT = "https://api.example.com/?tenant=1": must not have a query`},
		{name: "access id with newline", drop: []string{"access_id"}, config: ds,
			env:  map[string]string{envAccessID: "acc-id\n"},
			want: `ISAHIT_LAB_API_ACCESS_ID = "acc-id\n": contains a line feed at byte 7 of 7; control characters are not allowed`},
		{name: "secret key with escape", drop: []string{"secret_key"}, config: ds,
			env:    map[string]string{envSecretKey: "sk-Env-S3cret\x1b"},
			secret: "sk-Env-S3cret",
			want:   `ISAHIT_LAB_API_SECRET_KEY (sensitive, not shown): contains an escape character at byte 14 of 14; control characters are not allowed`},
		{name: "secret key too long", drop: []string{"secret_key"}, config: ds,
			env:    map[string]string{envSecretKey: "sk-Env-S3cret" + strings.Repeat("k", maxSecretKeyLength)},
			secret: "sk-Env-S3cret",
			want:   `ISAHIT_LAB_API_SECRET_KEY (sensitive, not shown): is 4109 bytes long; at most 4096 are allowed`},
	}
	runPlanErrors(t, cases, false)
}

// Values unknown at plan time (from other resources) pass validation, and
// the provider itself may be configured from them.
func TestAccValidation_unknownValuesPlan(t *testing.T) {
	env := newTestEnv(t, 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "late" {
  input = { endpoint = %q, url = "https://late.example.com/hook", batch = %q }
}

provider "isahitlab" {
  endpoint   = terraform_data.late.output.endpoint
  access_id  = %q
  secret_key = %q
}

resource "isahitlab_webhook" "test" {
  project_id = %q
  batch_id   = terraform_data.late.output.batch
  url        = terraform_data.late.output.url
}
`, env.url, env.batches[0], testAccessID, testSecretKey, env.project),
			Check: env.serverHolds(t, env.batches[0], "https://late.example.com/hook", ""),
		}},
	})
}

// A provider argument known only at apply is still checked then, before
// any API call.
func TestAccValidation_unknownThenBad(t *testing.T) {
	env := newTestEnv(t, 1)
	cfg := func(retries int) string {
		return fmt.Sprintf(`
resource "terraform_data" "late" {
  input = { retries = %d }
}

provider "isahitlab" {
  endpoint    = %q
  access_id   = %q
  secret_key  = %q
  max_retries = terraform_data.late.output.retries
}

data "isahitlab_batches" "x" {
  project_id = %q
  depends_on = [terraform_data.late]
}
`, retries, env.url, testAccessID, testSecretKey, env.project)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg(99),
				ExpectError: regexp.MustCompile(`max_retries value must be at most 20, got: 99`),
			},
			{
				// A good value then works (and lets the test destroy).
				PreConfig: func() {
					if n := env.emu.TotalCalls(); n != 0 {
						t.Fatalf("bad input reached the API: %d calls", n)
					}
				},
				Config: cfg(3),
			},
		},
	})
}
