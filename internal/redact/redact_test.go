package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The test's own encoders: written apart from the package's decoders, so
// that a form the package misreads is still searched for literally.

// jsonEscape is s as inside a JSON string; slash escapes "/" as `\/` and
// all escapes every byte as \u00XX.
func jsonEscape(s string, slash, all bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case all:
			fmt.Fprintf(&b, `\u%04x`, c)
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '/' && slash:
			b.WriteString(`\/`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pctAll percent-encodes every byte, in upper or lower case hex.
func pctAll(s string, upper bool) string {
	f := "%%%02x"
	if upper {
		f = "%%%02X"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, f, s[i])
	}
	return b.String()
}

func b64All(s string) []string {
	return []string{
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
		base64.URLEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// forms is every form a receiver may echo header in.
func forms(header string) []string {
	vals := []string{header}
	if i := strings.IndexByte(header, ' '); i > 0 {
		vals = append(vals, strings.TrimSpace(header[i+1:]))
	}
	var out []string
	for _, v := range vals {
		b64 := b64All(v)
		out = append(out, v,
			jsonEscape(v, false, false), jsonEscape(v, true, false), jsonEscape(v, false, true),
			jsonEscape(jsonEscape(v, false, false), false, false), jsonEscape(jsonEscape(v, true, false), true, false),
			jsonEscape(jsonEscape(v, false, true), false, false),
			url.QueryEscape(v), url.PathEscape(v), pctAll(v, true), pctAll(v, false),
			jsonEscape(b64[0], true, false), pctAll(b64[0], false), url.QueryEscape(b64[2]),
		)
		out = append(out, b64...)
	}
	return out
}

const printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

// randomHeader is printable ASCII that holds at least one of / + " \ and
// a space, maybe behind a scheme; its credentials are long enough to mask.
func randomHeader(r *rand.Rand) string {
	for {
		n := 4 + r.IntN(60)
		b := make([]byte, n)
		for i := range b {
			b[i] = printable[r.IntN(len(printable))]
		}
		special := `/+"\ `
		b[r.IntN(n)] = special[r.IntN(len(special))]
		h := string(b)
		if r.IntN(2) == 0 {
			h = []string{"Bearer ", "Basic ", "Token "}[r.IntN(3)] + h
		}
		ok := len(h) >= MinLength
		if i := strings.IndexByte(h, ' '); i > 0 && len(strings.TrimSpace(h[i+1:])) < MinLength {
			ok = false
		}
		if ok {
			return h
		}
	}
}

// filler is random text without the bytes that start an escape, so that
// what it holds next to a planted form does not change how it reads.
func filler(r *rand.Rand, n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 .,:;!?-_=(){}[]\"'/+*"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

// piece is a random part of a body: text, a JSON object, or JSON inside a
// JSON string.
func piece(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return filler(r, r.IntN(40))
	case 1:
		j, _ := json.Marshal(map[string]any{"error": filler(r, r.IntN(20)), "code": r.IntN(600)})
		return string(j)
	}
	inner, _ := json.Marshal(map[string]string{"detail": filler(r, r.IntN(20))})
	outer, _ := json.Marshal(map[string]string{"raw": string(inner)})
	return string(outer)
}

// planted wraps a form as a body would hold it.
func planted(r *rand.Rand, form string) string {
	switch r.IntN(3) {
	case 0:
		return form
	case 1:
		return `{"authorization":"` + form + `"}`
	}
	return `"{\"got\":\"` + form + `\"}"`
}

// leaks returns the forms of headers found in out, literally or through
// the package's views, and any trailing part of a literal form.
func leaks(out string, headers []string) []string {
	var found []string
	body, _, _ := splitNote(out)
	for _, h := range headers {
		if (Secrets{NewSet(h)}).Withholds(out) {
			found = append(found, "a view holds "+h)
		}
		for _, f := range forms(h) {
			if strings.Contains(out, f) {
				found = append(found, f)
			}
			// A cut must not keep the start of a form.
			for k := len(f) - 1; k >= 6; k-- {
				if strings.HasSuffix(body, f[:k]) {
					found = append(found, "a cut kept "+f[:k])
					break
				}
			}
		}
	}
	return found
}

func TestPropertyNoPlantedFormLeft(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(19, 4))
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for it := 0; it < iterations; it++ {
		headers := make([]string, 1+r.IntN(3))
		for i := range headers {
			headers[i] = randomHeader(r)
		}
		// The secrets come in several sets, as the client and a workflow
		// hold them, among values never planted.
		ss := Secrets{NewSet(headers[0], "decoy-secret-value"), NewSet(headers[1:]...), nil}
		limit := 20 + r.IntN(600)
		huge := it%25 == 0 // past the rough cut too
		var b strings.Builder
		want := limit + 400
		if huge {
			want = limit + ss.Margin() + 2000
		}
		boundaryDone := false
		for b.Len() < want {
			h := headers[r.IntN(len(headers))]
			fs := forms(h)
			f := fs[r.IntN(len(fs))]
			switch {
			case !boundaryDone && b.Len() > limit-len(f)-40:
				// One form straddles the cut.
				if pad := limit - r.IntN(len(f)) - b.Len(); pad > 0 {
					b.WriteString(filler(r, pad))
				}
				b.WriteString(f)
				boundaryDone = true
			case huge && r.IntN(4) == 0:
				b.WriteString(strings.Repeat(f+" ", 1+r.IntN(8)))
			case r.IntN(2) == 0:
				b.WriteString(planted(r, f))
			default:
				b.WriteString(piece(r))
			}
		}
		text := b.String()
		out := ss.Clean(text, limit)
		if out == Withheld {
			t.Fatalf("iteration %d: withheld though every secret is long enough to mask\nheaders %q\ntext %q", it, headers, text)
		}
		if l := leaks(out, headers); len(l) > 0 {
			t.Fatalf("iteration %d: limit %d, left %q\nheaders %q\ntext %q\nout  %q", it, limit, l, headers, text, out)
		}
		body, n, cut := splitNote(out)
		// The note (when the masked text did not fit) gives the full length.
		if len(body) > limit || cut && n != len(text) || !utf8.ValidString(body) || huge && !cut {
			t.Fatalf("iteration %d: limit %d, text %d bytes: out %d bytes, note %v %d", it, limit, len(text), len(body), cut, n)
		}
		// With no limit, nothing is cut and nothing is left either.
		if out := ss.Clean(text, 0); len(leaks(out, headers)) > 0 || strings.Contains(out, notePrefix) {
			t.Fatalf("iteration %d: no limit: %q", it, leaks(out, headers))
		}
	}
}

func TestCleanUnchangedWithoutSecrets(t *testing.T) {
	t.Parallel()
	ss := Secrets{NewSet("Bearer s3cret-token/+=", "another-one")}
	for _, text := range []string{
		"", "Unauthorized", `{"error":"bad \"token\"","path":"\/hook","pct":"%41%2F","amp":"&quot;&#47;"}`,
		"héllo wörld", `"{\"nested\":\"json\"}"`, "YWJjZA== dXNlcjpwYXNz",
	} {
		if got := ss.Clean(text, 1000); got != text {
			t.Errorf("Clean(%q) = %q, want it unchanged", text, got)
		}
		if got := ss.Redact(text); got != text {
			t.Errorf("Redact(%q) = %q", text, got)
		}
	}
	if got := (Secrets{}).Clean("anything at all", 100); got != "anything at all" {
		t.Fatalf("no secrets: %q", got)
	}
}

func TestCleanMasksEachForm(t *testing.T) {
	t.Parallel()
	const h = `Bearer ab/c+d"e\f g`
	ss := Secrets{NewSet(h)}
	for _, f := range forms(h) {
		text := "<" + f + ">"
		if got := ss.Clean(text, 1000); got != "<***>" {
			t.Errorf("form %q: %q", f, got)
		}
	}
	// Inside a longer base64 text, at each alignment.
	for k := 0; k < 3; k++ {
		blob := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", k) + h + "tail"))
		if got := ss.Clean(blob, 1000); strings.Contains(got, base64.RawStdEncoding.EncodeToString([]byte(h))[4:20]) || !strings.Contains(got, Mask) {
			t.Errorf("alignment %d: %q from %q", k, got, blob)
		}
	}
	// HTML entities, as an error page may hold the header.
	if got := ss.Clean("<p>Bearer ab&#x2F;c&plus;d&quot;e&bsol;f g</p>", 1000); got != "<p>***</p>" {
		t.Errorf("html: %q", got)
	}
}

// Short secrets are never replaced piecemeal: a text that holds one, in
// any form, is withheld whole; one that does not is left as it is.
func TestShortSecretsWithhold(t *testing.T) {
	t.Parallel()
	ss := Secrets{NewSet("ab", "Bearer q#"), NewSet("long-enough")}
	for text, want := range map[string]bool{
		"nothing here":            false,
		"cab":                     true,
		`\u0061\u0062`:            true,
		"%61%62":                  true,
		"YWI=":                    true, // base64 of "ab"
		"the credentials q#":      true,
		"q%23":                    true,
		"Bearer q#":               false, // masked whole
		"long-enough and nothing": false,
		`"{\"x\":\"\\u0061b\"}"`:  true, // double JSON
	} {
		got := ss.Clean(text, 100) == Withheld
		if got != want {
			t.Errorf("Clean(%q) withheld = %v, want %v", text, got, want)
		}
	}
	if got := ss.Redact("ab q#"); got != "ab q#" {
		t.Errorf("Redact replaced a short value: %q", got)
	}
}

// The 98-of-99-bytes case: a body repeating a long header far past the
// cut keeps no part of it, in the kept bytes or at the cut.
func TestCleanLongRepeatedHeader(t *testing.T) {
	t.Parallel()
	header := "Bearer " + strings.Repeat("Zq9/", 23) // 99 bytes
	ss := Secrets{NewSet(header)}
	for _, body := range []string{
		strings.Repeat(header, 200),
		strings.Repeat(`{"a":"`+jsonEscape(header, true, false)+`"}`, 200),
		strings.Repeat("x", 1000) + strings.Repeat(header, 500), // the rough cut falls inside an echo
	} {
		for _, limit := range []int{1, 50, 1024, 1030} {
			out := ss.Clean(body, limit)
			if l := leaks(out, []string{header}); len(l) > 0 {
				t.Fatalf("limit %d: left %q in %q", limit, l, out)
			}
			if strings.Contains(out, "Zq9/Zq9/") {
				t.Fatalf("limit %d: part of the header left: %q", limit, out)
			}
			if _, n, ok := splitNote(out); !ok || n != len(body) {
				t.Fatalf("limit %d: note %v %d, want %d", limit, ok, n, len(body))
			}
		}
	}
}

func TestCleanCutsOnRunesAndKeepsNote(t *testing.T) {
	t.Parallel()
	ss := Secrets{NewSet("secret-value")}
	text := strings.Repeat("é", 3000)
	out := ss.Clean(text, 101)
	if want := strings.Repeat("é", 50) + note(6000); out != want {
		t.Fatalf("cut %q", out)
	}
	// Cut again (by a smaller limit), it keeps the first length; at a
	// larger limit it is left as it is.
	if again := ss.Clean(out, 10); again != strings.Repeat("é", 5)+note(6000) {
		t.Fatalf("cut twice: %q", again)
	}
	if same := ss.Clean(out, 200); same != out {
		t.Fatalf("re-cleaned at a larger limit: %q", same)
	}
	// Masking first, so that the masked text may fit.
	in := strings.Repeat("secret-value", 10)
	if got := ss.Clean(in, 30); got != strings.Repeat(Mask, 10) {
		t.Fatalf("masked then fitting: %q", got)
	}
}

func TestLiteralForms(t *testing.T) {
	t.Parallel()
	got := LiteralForms(`Bearer a/b "c"`, "xy")
	want := []string{`Bearer a/b "c"`, `a/b "c"`, `Bearer+a%2Fb+%22c%22`, `Bearer a\/b \"c\"`, `a\/b \"c\"`}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("LiteralForms lacks %q: %q", w, got)
		}
	}
	for _, f := range got {
		if len(f) < MinLength {
			t.Errorf("a form too short to mask: %q", f)
		}
	}
}

// A few KiB of text against the largest set the client keeps stays cheap.
func BenchmarkClean(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	var vals []string
	for range 256 {
		vals = append(vals, randomHeader(r))
	}
	ss := Secrets{NewSet(vals...)}
	text := strings.Repeat(`{"error":"nope \u00e9 %41 &amp; \/"}`, 100)
	b.ResetTimer()
	for range b.N {
		ss.Clean(text, 1024)
	}
}
