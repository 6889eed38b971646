// Package redact removes secrets from text that a server returns (error
// messages, a webhook receiver's answer) before the provider shows it in
// state, plan, diagnostics or logs.
//
// A server may echo a secret raw or escaped: JSON (`\/`, `\u00XX`, a JSON
// string inside a JSON string), percent-encoded (either hex case, `+` for a
// space), as HTML entities, or base64 (standard or URL alphabet, padded or
// not, of a whole "Scheme credentials" header or of its credentials alone).
// Rather than list every encoded form of every secret, the text is searched
// through decoded views of itself (each decoder, and each pair of them, applied
// to the whole text), and each match is mapped back to the bytes of the
// original text it came from. Mixes of escapes in one secret are thus found
// without naming each mix.
//
// Secrets shorter than MinLength bytes cannot be masked: replacing every
// "ab" would garble a text while showing where the secret was. A text that
// holds one, in any form, is withheld whole.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MinLength is the shortest secret that is masked; a shorter one withholds
// the text that holds it.
const MinLength = 4

// Mask replaces each secret found.
const Mask = "***"

// Withheld replaces a text that holds a secret too short to mask (or that
// still held a secret after masking, which should not happen).
var Withheld = fmt.Sprintf("(withheld: the text may quote a secret too short to mask, "+
	"such as a webhook header of fewer than %d bytes)", MinLength)

// depth is how many decoders are stacked in a view: two covers a JSON
// string inside a JSON string, and one escape of another kind (a JSON body
// quoting a url-encoded form).
const depth = 2

// expansion bounds how many bytes of text one byte of a secret becomes
// through one decoder's escaping (an HTML numeric reference such as
// "&#x0002F;" is the longest); a secret of n bytes covers at most
// n*expansion^depth bytes of text.
const expansion = 10

// Set is an immutable set of secrets prepared for searching; build it once
// and share it.
type Set struct {
	long   [][]byte           // needles to mask, each at least MinLength bytes
	index  map[uint32][]int32 // needles by their first four bytes
	filter *[1024]uint64      // a bit per hash of four bytes: most positions skip the map
	short  []string           // forms too short to mask: they withhold a text
	maxLen int                // longest needle (long or short)
}

// NewSet prepares values (a secret key, a token, a header value) and their
// forms. Empty values are ignored.
func NewSet(values ...string) *Set {
	s := &Set{index: map[uint32][]int32{}, filter: new([1024]uint64)}
	seenLong, seenShort := map[string]bool{}, map[string]bool{}
	addShort := func(f string) {
		if f != "" && !seenShort[f] {
			seenShort[f] = true
			s.short = append(s.short, f)
			s.maxLen = max(s.maxLen, len(f))
		}
	}
	for _, v := range values {
		for _, raw := range parts(v) {
			if len(raw) < MinLength {
				// Its base64 forms are kept too: whole only, since a shifted
				// core of one or two bytes would be a character or two.
				addShort(raw)
				for _, enc := range encodings {
					addShort(enc.EncodeToString([]byte(raw)))
				}
				continue
			}
			for _, f := range append([]string{raw}, base64Forms(raw)...) {
				if len(f) < MinLength || seenLong[f] {
					continue
				}
				seenLong[f] = true
				i := int32(len(s.long))
				s.long = append(s.long, []byte(f))
				k := key4([]byte(f))
				s.index[k] = append(s.index[k], i)
				h := hash4(k)
				s.filter[h>>6] |= 1 << (h & 63)
				s.maxLen = max(s.maxLen, len(f))
			}
		}
	}
	return s
}

// parts is a value and, for "Scheme credentials", the credentials alone.
func parts(v string) []string {
	if v == "" {
		return nil
	}
	out := []string{v}
	if i := strings.IndexByte(v, ' '); i > 0 {
		if cred := strings.TrimSpace(v[i+1:]); cred != "" && cred != v {
			out = append(out, cred)
		}
	}
	return out
}

var encodings = []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}

// base64Forms is v in base64, standalone (padded or not, both alphabets),
// and as it reads inside a longer base64 text at each of the three byte
// alignments: the characters that depend on v's bits alone.
func base64Forms(v string) []string {
	var out []string
	for _, enc := range encodings {
		out = append(out, enc.EncodeToString([]byte(v)))
	}
	for k := 0; k < 3; k++ {
		buf := make([]byte, k+len(v))
		copy(buf[k:], v)
		full := base64.RawStdEncoding.EncodeToString(buf)
		first := (8*k + 5) / 6         // first character starting at or after v's first bit
		last := (8 * (k + len(v))) / 6 // characters ending at or before v's last bit
		if last-first < MinLength {
			continue
		}
		core := full[first:last]
		out = append(out, core, strings.NewReplacer("+", "-", "/", "_").Replace(core))
	}
	return out
}

func key4(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func hash4(k uint32) uint32 { return (k * 2654435761) >> 16 }

// Secrets is what a text is cleaned of: one or more sets (say, the client's
// and one workflow's header). Nil sets are skipped.
type Secrets []*Set

// maxNeedle is the longest form of any secret.
func (ss Secrets) maxNeedle() int {
	n := 0
	for _, s := range ss {
		if s != nil {
			n = max(n, s.maxLen)
		}
	}
	return n
}

// Margin is how far past a position an escaped secret that starts there
// may reach: a text cut that far past a limit keeps every secret that
// starts before the limit whole.
func (ss Secrets) Margin() int {
	m := ss.maxNeedle()
	for i := 0; i < depth; i++ {
		m *= expansion
	}
	return m + 16
}

// Redact masks every secret found, in any form, with Mask. It neither cuts
// nor withholds (see Clean): it is for text that must keep its shape, such
// as a transport error.
func (ss Secrets) Redact(text string) string {
	out, _ := ss.mask(text, len(text))
	return out
}

// Withholds reports whether text holds, in any form, a secret too short to
// mask (or a secret at all: after Redact, that is a short one).
func (ss Secrets) Withholds(text string) bool {
	return ss.found(text)
}

// Clean makes a server's text safe to show: every secret masked, then the
// text cut to limit bytes (limit <= 0: no cut) on a rune boundary with a note
// of its full length; the whole text is Withheld when a secret too short to
// mask is in it. Masking comes before cutting, so a cut never leaves part of
// a secret. A text Clean already cut keeps its note's length when cut again.
func (ss Secrets) Clean(text string, limit int) string {
	total := len(text)
	if body, n, ok := splitNote(text); ok && limit > 0 {
		text, total = body, n
	}
	out, cut := ss.clean(text, limit)
	switch {
	case out == Withheld:
		return out
	case cut || total != len(text):
		return out + note(total)
	}
	return out
}

func (ss Secrets) clean(text string, limit int) (string, bool) {
	origin, rough := len(text), false
	if m := ss.Margin(); limit > 0 && len(text) > limit+m {
		// What lies this far past the limit is dropped unread, so that a
		// huge page costs little; of the rest, only what comes from before
		// the limit is kept, so a secret cut at the margin is never shown.
		text, origin, rough = text[:limit+m], limit, true
	}
	full, kept := ss.mask(text, origin)
	if ss.found(full[:kept]) {
		return Withheld, false
	}
	if limit <= 0 || !rough && len(full) <= limit {
		return full, false
	}
	end := min(limit, kept)
	for end > 0 && end < len(full) && !utf8.RuneStart(full[end]) {
		end--
	}
	return full[:end], true
}

const notePrefix, noteSuffix = "...(cut, ", " bytes in all)"

func note(n int) string { return notePrefix + strconv.Itoa(n) + noteSuffix }

// splitNote reads the note Clean appends to a text it cut.
func splitNote(s string) (string, int, bool) {
	if !strings.HasSuffix(s, noteSuffix) {
		return s, 0, false
	}
	head := strings.TrimSuffix(s, noteSuffix)
	i := strings.LastIndex(head, notePrefix)
	if i < 0 {
		return s, 0, false
	}
	n, err := strconv.Atoi(head[i+len(notePrefix):])
	if err != nil || n < i {
		return s, 0, false
	}
	return head[:i], n, true
}

// mask replaces every span of text that holds a secret with Mask. kept is
// the length of the result that comes from text[:origin] (a span that
// starts before origin counts whole).
func (ss Secrets) mask(text string, origin int) (string, int) {
	var spans []span
	for _, v := range views(text) {
		for _, s := range ss {
			if s != nil {
				spans = s.search(v, spans)
			}
		}
	}
	if len(spans) == 0 {
		return text, min(origin, len(text))
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	var b strings.Builder
	b.Grow(len(text))
	at, kept := 0, -1
	for i := 0; i < len(spans); {
		lo, hi := spans[i].lo, spans[i].hi
		for i++; i < len(spans) && spans[i].lo < hi; i++ {
			hi = max(hi, spans[i].hi)
		}
		if kept < 0 && origin <= lo {
			kept = b.Len() + max(origin-at, 0)
		}
		b.WriteString(text[at:lo])
		b.WriteString(Mask)
		at = hi
	}
	if kept < 0 {
		kept = b.Len() + max(origin-at, 0)
	}
	b.WriteString(text[at:])
	return b.String(), kept
}

// found reports whether any view of text holds a short secret or a long one.
func (ss Secrets) found(text string) bool {
	for _, v := range views(text) {
		for _, s := range ss {
			if s == nil {
				continue
			}
			for _, f := range s.short {
				if bytes.Contains(v.b, []byte(f)) {
					return true
				}
			}
			if len(s.search(v, nil)) > 0 {
				return true
			}
		}
	}
	return false
}

// span is a range of the original text, [lo, hi).
type span struct{ lo, hi int }

// search appends the original spans of the needles found in v.
func (s *Set) search(v *view, spans []span) []span {
	if len(s.long) == 0 {
		return spans
	}
	b := v.b
	for i := 0; i+MinLength <= len(b); i++ {
		k := key4(b[i:])
		h := hash4(k)
		if s.filter[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, n := range s.index[k] {
			needle := s.long[n]
			if bytes.HasPrefix(b[i:], needle) {
				spans = append(spans, span{int(v.lo[i]), int(v.hi[i+len(needle)-1])})
			}
		}
	}
	return spans
}

// view is a text as one stack of decoders reads it; lo and hi give, for
// each byte, the range of the original text it was decoded from.
type view struct {
	b      []byte
	lo, hi []int32
}

func identity(s string) *view {
	v := &view{b: []byte(s), lo: make([]int32, len(s)), hi: make([]int32, len(s))}
	for i := range v.lo {
		v.lo[i], v.hi[i] = int32(i), int32(i+1)
	}
	return v
}

// decoder decodes the escape at b[i:]: it appends the bytes it stands for
// to out and returns how many bytes it took, 0 when b[i] starts none.
type decoder struct {
	trigger byte // a view without it is left as it is
	step    func(b []byte, i int, out []byte) ([]byte, int)
}

var decoders = []decoder{
	{'\\', jsonStep},
	{'%', percentStep(false)},
	{'+', percentStep(true)},
	{'&', htmlStep},
}

// views is the text as-is and through every stack of up to depth decoders
// that changes it.
func views(s string) []*view {
	all := []*view{identity(s)}
	level := all
	for d := 0; d < depth; d++ {
		var next []*view
		for _, v := range level {
			for _, dec := range decoders {
				if w := v.decode(dec); w != nil {
					next = append(next, w)
				}
			}
		}
		all = append(all, next...)
		level = next
	}
	return all
}

// decode returns v through dec, nil when dec changes nothing.
func (v *view) decode(dec decoder) *view {
	if bytes.IndexByte(v.b, dec.trigger) < 0 {
		return nil
	}
	w := &view{b: make([]byte, 0, len(v.b)), lo: make([]int32, 0, len(v.b)), hi: make([]int32, 0, len(v.b))}
	changed := false
	for i := 0; i < len(v.b); {
		before := len(w.b)
		var n int
		w.b, n = dec.step(v.b, i, w.b)
		if n == 0 {
			w.b = append(w.b, v.b[i])
			w.lo, w.hi = append(w.lo, v.lo[i]), append(w.hi, v.hi[i])
			i++
			continue
		}
		changed = true
		for range len(w.b) - before {
			w.lo, w.hi = append(w.lo, v.lo[i]), append(w.hi, v.hi[i+n-1])
		}
		i += n
	}
	if !changed {
		return nil
	}
	return w
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// jsonStep decodes a JSON string escape.
func jsonStep(b []byte, i int, out []byte) ([]byte, int) {
	if b[i] != '\\' || i+1 >= len(b) {
		return out, 0
	}
	switch c := b[i+1]; c {
	case '"', '\\', '/':
		return append(out, c), 2
	case 'b':
		return append(out, '\b'), 2
	case 'f':
		return append(out, '\f'), 2
	case 'n':
		return append(out, '\n'), 2
	case 'r':
		return append(out, '\r'), 2
	case 't':
		return append(out, '\t'), 2
	case 'u':
		r, ok := hex4(b, i+2)
		if !ok {
			return out, 0
		}
		if 0xD800 <= r && r < 0xDC00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if r2, ok := hex4(b, i+8); ok && 0xDC00 <= r2 && r2 < 0xE000 {
				return utf8.AppendRune(out, 0x10000+(r-0xD800)<<10+(r2-0xDC00)), 12
			}
		}
		if 0xD800 <= r && r < 0xE000 {
			return out, 0 // a lone surrogate stands for no text
		}
		return utf8.AppendRune(out, r), 6
	}
	return out, 0
}

// percentStep decodes %XX, and with plus a "+" as a space (forms).
func percentStep(plus bool) func([]byte, int, []byte) ([]byte, int) {
	return func(b []byte, i int, out []byte) ([]byte, int) {
		switch {
		case plus && b[i] == '+':
			return append(out, ' '), 1
		case b[i] == '%' && i+2 < len(b):
			h, ok1 := unhex(b[i+1])
			l, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				return append(out, h<<4|l), 3
			}
		}
		return out, 0
	}
}

// htmlNames are the named references of the ASCII characters an HTML page
// may escape (HTML5 names every punctuation character).
var htmlNames = map[string]byte{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "sol": '/', "bsol": '\\',
	"plus": '+', "equals": '=', "colon": ':', "semi": ';', "comma": ',', "period": '.',
	"excl": '!', "quest": '?', "num": '#', "dollar": '$', "percnt": '%', "ast": '*',
	"lpar": '(', "rpar": ')', "lsqb": '[', "rsqb": ']', "lcub": '{', "rcub": '}',
	"verbar": '|', "grave": '`', "Hat": '^', "lowbar": '_', "tilde": '~', "commat": '@',
	"hyphen": '-', "nbsp": ' ',
}

// htmlStep decodes an HTML character reference: named (above), decimal
// "&#47;" or hex "&#x2F;", each ended by ";" and at most ten bytes long.
func htmlStep(b []byte, i int, out []byte) ([]byte, int) {
	if b[i] != '&' {
		return out, 0
	}
	end := bytes.IndexByte(b[i:min(len(b), i+expansion)], ';')
	if end < 2 {
		return out, 0
	}
	ref := b[i+1 : i+end]
	if ref[0] != '#' {
		if c, ok := htmlNames[string(ref)]; ok {
			return append(out, c), end + 1
		}
		return out, 0
	}
	num, base := ref[1:], 10
	if len(num) > 0 && (num[0] == 'x' || num[0] == 'X') {
		num, base = num[1:], 16
	}
	if len(num) == 0 {
		return out, 0
	}
	r, err := strconv.ParseUint(string(num), base, 32)
	if err != nil || r > utf8.MaxRune || (0xD800 <= r && r < 0xE000) || num[0] == '+' || num[0] == '-' {
		return out, 0
	}
	return utf8.AppendRune(out, rune(r)), end + 1
}

// LiteralForms is each value in the forms a log line may hold it verbatim
// (whole and its credentials; query-, path- and JSON-escaped; base64), at
// least MinLength bytes long: for a logger that can only mask literal
// strings. Clean and Redact do not need them.
func LiteralForms(values ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if len(f) >= MinLength && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, v := range values {
		for _, p := range parts(v) {
			add(p)
			add(url.QueryEscape(p))
			add(url.PathEscape(p))
			if j, err := json.Marshal(p); err == nil {
				inner := string(j[1 : len(j)-1])
				add(inner)
				add(strings.ReplaceAll(inner, "/", `\/`))
			}
			if len(p) >= MinLength {
				for _, f := range base64Forms(p) {
					add(f)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
