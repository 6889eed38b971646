package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
)

// Plan-time checks. Each error names the attribute (by its path) and shows
// the bad value, so a user can find it in a large config; a sensitive value
// is never shown, only where and why it is wrong. Unknown and null values
// pass: they are checked again once known.

// Limits. They are far above any real value and only catch mistakes (a file
// read into the wrong argument, a runaway template) before they reach the
// API or a receiver.
const (
	// maxURLLength: 2048 is the longest URL that every common browser, proxy
	// and server accepts; the API stores and replays it on every delivery.
	maxURLLength = 2048
	// minHeaderLength: a shorter header cannot be masked in logs and
	// errors (the client masks secrets of at least this many bytes, and
	// withholds a server message quoting a shorter one); it is also no
	// secret, being guessed in a few tries. The API itself takes any string.
	minHeaderLength = client.MinSecretLength
	// maxHeaderLength: servers commonly refuse a header line over 8 KiB
	// (nginx, Apache) and Node.js a header block over 16 KiB, so a longer
	// Authorization value would make every delivery fail.
	maxHeaderLength = 8192
	// maxVersionLength bounds header_wo_version, a label, not a payload.
	maxVersionLength = 256
	// maxSearchLength bounds the batches data source's search text.
	maxSearchLength = 256
	// maxStatusLength bounds one status of a list filter.
	maxStatusLength = 64
	// maxAccessIDLength and maxSecretKeyLength bound the credentials.
	maxAccessIDLength  = 1024
	maxSecretKeyLength = 4096
	// maxShown is how much of a bad (non-secret) value an error quotes.
	maxShown = 120
)

var objectIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// checkObjectID returns "" for an id of 24 lowercase hex digits, or why it
// is not one: an id in upper case is named as such, with its lowercase form.
func checkObjectID(s string) string {
	if objectIDPattern.MatchString(s) {
		return ""
	}
	if lower := strings.ToLower(s); objectIDPattern.MatchString(lower) {
		return "must be a 24-character lowercase hexadecimal Isahit Lab id; this one has upper-case letters: write it in lowercase, " + lower
	}
	return "must be a 24-character lowercase hexadecimal Isahit Lab id, such as 6650c1f2a9b4c3d2e1f00001"
}

// urlRules are what a strict URL check allows beyond the common rules.
type urlRules struct {
	allowQuery bool
	// lowerHTTP refuses a URL that does not begin with a lowercase "http",
	// exactly as the Isahit Lab API refuses a webhook url (400 "url must
	// start with http"), although a scheme is case-insensitive.
	lowerHTTP bool
	// credentialsHint says where credentials go instead of the URL.
	credentialsHint string
	// queryHint says why a query is refused.
	queryHint string
}

// checkWebhookURL is the webhook url check: see webhookURL().
func checkWebhookURL(s string) string {
	return checkStrictURL(s, urlRules{
		allowQuery:      true,
		lowerHTTP:       true,
		credentialsHint: "put the receiver's credentials in header or header_wo, which Isahit Lab sends as the Authorization header",
	})
}

// checkEndpointURL is the provider endpoint check: see endpointURL().
func checkEndpointURL(s string) string {
	return checkStrictURL(s, urlRules{
		credentialsHint: "set access_id and secret_key instead",
		queryHint:       "API paths are resolved against the endpoint, which drops its query",
	})
}

// checkStrictURL returns "" for an absolute http(s) URL that is safe to send
// over HTTP as it is, or why it is not one.
func checkStrictURL(s string, rules urlRules) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > maxURLLength {
		return fmt.Sprintf("is %d characters long; at most %d are allowed", len(s), maxURLLength)
	}
	if i, r, ok := firstRune(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); ok {
		msg := fmt.Sprintf("must not contain whitespace or control characters, and has %s at byte %d", runeName(r, true), i+1)
		if unicode.IsControl(r) {
			return msg + " (a control character is unsafe in an HTTP request: CR and LF would split it)"
		}
		return msg + " (percent-encode a space as %20)"
	}
	if i, r, ok := firstRune(s, func(r rune) bool { return r > unicode.MaxASCII }); ok {
		return fmt.Sprintf("must be ASCII, and has %s at byte %d: percent-encode it, or write an international host name in its xn-- form", runeName(r, true), i+1)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL: " + urlParseError(s, err)
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return "must be an absolute http:// or https:// URL"
	}
	if rules.lowerHTTP && !strings.HasPrefix(s, "http") {
		// u.Scheme is lowercased by url.Parse: quote the scheme as written.
		scheme := s[:len(u.Scheme)]
		return fmt.Sprintf("must start with \"http\" in lowercase: the Isahit Lab API refuses any other url (write %s:// rather than %s://)",
			strings.ToLower(scheme), scheme)
	}
	if u.User != nil {
		return "must not contain credentials (user:password@ before the host): they would be sent in clear and written to logs; " + rules.credentialsHint
	}
	if u.Host == "" || u.Hostname() == "" {
		return "must name a host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %s, out of the range 1-65535", p)
		}
	}
	if strings.Contains(s, "#") {
		return "must not have a fragment (#...): a fragment is never sent over HTTP"
	}
	if !rules.allowQuery && strings.Contains(s, "?") {
		return "must not have a query (?...): " + rules.queryHint
	}
	return ""
}

// urlParseError is url.Parse's reason without its echo of the whole value.
func urlParseError(s string, err error) string {
	msg := err.Error()
	if ue, ok := err.(*url.Error); ok {
		msg = ue.Err.Error()
	}
	return strings.TrimPrefix(msg, "parse "+strconv.Quote(s)+": ")
}

// checkHeaderValue returns "" for a value that can be sent as it is as an
// HTTP Authorization header, or why not, without quoting any of it.
func checkHeaderValue(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) < minHeaderLength {
		// First, so that no message tells the length of so short a value
		// (or where in it a bad character is): it would tell much of it.
		return fmt.Sprintf("must be at least %d bytes long: a shorter value cannot be masked in logs and error messages, and is guessed in a few tries", minHeaderLength)
	}
	if len(s) > maxHeaderLength {
		return fmt.Sprintf("is %d bytes long; at most %d are allowed (servers refuse longer header lines)", len(s), maxHeaderLength)
	}
	if i, r, ok := firstRune(s, unicode.IsControl); ok {
		return fmt.Sprintf("contains %s at byte %d of %d: CR, LF, NUL and other control characters would split or corrupt the Authorization header over HTTP%s",
			runeName(r, false), i+1, len(s), trailingHint(s, i))
	}
	if i, r, ok := firstRune(s, func(r rune) bool { return r > '~' }); ok {
		return fmt.Sprintf("contains %s at byte %d of %d: an HTTP header value must be printable ASCII (a curly quote pasted from a document?)",
			runeName(r, false), i+1, len(s))
	}
	if s[0] == ' ' {
		return "begins with a space, which HTTP strips: the receiver would get another value"
	}
	if s[len(s)-1] == ' ' {
		return "ends with a space, which HTTP strips: the receiver would get another value"
	}
	return ""
}

// checkPlainText returns "" for text free of control characters and at
// most max bytes long, or why it is not. Secret text is never quoted.
func checkPlainText(s string, limit int) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > limit {
		return fmt.Sprintf("is %d bytes long; at most %d are allowed", len(s), limit)
	}
	if i, r, ok := firstRune(s, unicode.IsControl); ok {
		return fmt.Sprintf("contains %s at byte %d of %d; control characters are not allowed%s", runeName(r, false), i+1, len(s), trailingHint(s, i))
	}
	return ""
}

var statusPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// checkStatus returns "" for a status word such as complete or toBeDeleted.
func checkStatus(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > maxStatusLength {
		return fmt.Sprintf("is %d characters long; at most %d are allowed", len(s), maxStatusLength)
	}
	if !statusPattern.MatchString(s) {
		return "must be a status word such as pending or complete: a letter, then letters, digits, - or _"
	}
	return ""
}

// checkDuration returns "" for a Go duration within [lo, hi].
func checkDuration(s string, lo, hi time.Duration) string {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return "is not a duration; use a number with a unit, such as 30s, 2m or 1m30s"
	case d <= 0:
		return "must be greater than zero"
	case d < lo:
		return "must be at least " + shortDuration(lo)
	case d > hi:
		return "must be at most " + shortDuration(hi)
	}
	return ""
}

// shortDuration prints 10m rather than time's 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// firstRune returns the byte offset of the first rune of s that bad
// accepts, and that rune. (Terraform strings are always UTF-8.)
func firstRune(s string, bad func(rune) bool) (int, rune, bool) {
	for i, r := range s {
		if bad(r) {
			return i, r, true
		}
	}
	return 0, 0, false
}

// runeName names a character for an error message. showCode adds its code
// point, which a secret's message leaves out.
func runeName(r rune, showCode bool) string {
	switch r {
	case 0:
		return "a NUL byte"
	case '\n':
		return "a line feed"
	case '\r':
		return "a carriage return"
	case '\t':
		return "a tab"
	case ' ':
		return "a space"
	case 0x1b:
		return "an escape character"
	case 0x7f:
		return "a DEL character"
	case 0xa0:
		return "a non-breaking space"
	}
	var kind string
	switch {
	case unicode.IsControl(r):
		kind = "a control character"
	case unicode.IsSpace(r):
		kind = "a whitespace character"
	case r > unicode.MaxASCII:
		kind = "a non-ASCII character"
	default:
		kind = "a character"
	}
	if showCode {
		return fmt.Sprintf("%s (U+%04X)", kind, r)
	}
	return kind
}

// trailingHint points at the usual cause of a line break at the very end.
func trailingHint(s string, i int) string {
	if strings.TrimRight(s[i:], "\r\n") == "" {
		return " (a value read with file() keeps its final newline: wrap it in trimspace())"
	}
	return ""
}

// shown is a non-secret value as an error quotes it: credentials in a URL
// masked, and a long value cut.
func shown(s string) string {
	s = maskUserinfo(s)
	if len(s) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// maskUserinfo replaces what precedes "@" in a URL's authority with xxxxx,
// even when the rest is not a valid URL: it may be a password or a token.
func maskUserinfo(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	} else if strings.HasPrefix(s, "//") {
		start = 2
	}
	rest := s[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	return s[:start] + "xxxxx" + rest[at:]
}

// stringCheck is a validator.String made of a check function: "" when the
// value is good, else why not. A secret check never shows the value.
type stringCheck struct {
	description string
	check       func(string) string
	secret      bool
}

func (v stringCheck) Description(context.Context) string         { return v.description }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	value := req.ConfigValue.ValueString()
	msg := v.check(value)
	if msg == "" {
		return
	}
	var detail string
	switch {
	case !v.secret:
		detail = fmt.Sprintf("%s = %s: %s.", req.Path, shown(value), msg)
	case value == "":
		// An empty value holds no secret.
		detail = fmt.Sprintf("%s = \"\": %s.", req.Path, msg)
	default:
		detail = fmt.Sprintf("%s (sensitive, not shown): %s.", req.Path, msg)
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(), detail)
}

// objectID checks an Isahit Lab id: 24 lowercase hexadecimal digits.
func objectID() validator.String {
	return stringCheck{description: "value must be an Isahit Lab id: 24 lowercase hex digits", check: checkObjectID}
}

// webhookURL checks a webhook url: an absolute http(s) URL with a host,
// starting with a lowercase "http" as the API requires, at most 2048
// characters, without whitespace, control or non-ASCII characters,
// credentials (user:password@) or a fragment. A query is allowed.
func webhookURL() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be an absolute http or https URL starting with a lowercase \"http\", of at most %d ASCII characters, without whitespace, credentials or fragment", maxURLLength),
		check:       checkWebhookURL,
	}
}

// endpointURL checks the provider's endpoint: as webhookURL(), and without a
// query either.
func endpointURL() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be an absolute http or https URL of at most %d ASCII characters, without whitespace, credentials, query or fragment", maxURLLength),
		check:       checkEndpointURL,
	}
}

// headerValue checks header and header_wo, the Authorization value of each
// delivery: at least 4 bytes (a shorter one cannot be masked) and at most
// 8192, printable ASCII only (no CR, LF, NUL, tab or other control
// character) and no space at either end. The value is never shown, nor the
// length of a value too short.
func headerValue() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be printable ASCII of %d to %d bytes, without spaces at either end", minHeaderLength, maxHeaderLength),
		check:       checkHeaderValue,
		secret:      true,
	}
}

// headerWOVersion checks header_wo_version: not empty, no control
// characters, at most 256 bytes.
func headerWOVersion() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be non-empty text of at most %d bytes without control characters", maxVersionLength),
		check:       func(s string) string { return checkPlainText(s, maxVersionLength) },
	}
}

// accessIDText checks the provider's access_id: not empty, no control
// characters, at most 1024 bytes.
func accessIDText() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be non-empty text of at most %d bytes without control characters", maxAccessIDLength),
		check:       func(s string) string { return checkPlainText(s, maxAccessIDLength) },
	}
}

// secretKeyText checks the provider's secret_key as accessIDText() does, at most
// 4096 bytes, never showing the value.
func secretKeyText() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be non-empty text of at most %d bytes without control characters", maxSecretKeyLength),
		check:       func(s string) string { return checkPlainText(s, maxSecretKeyLength) },
		secret:      true,
	}
}

// searchText checks a search filter: not empty, no control characters, at
// most 256 bytes.
func searchText() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be non-empty text of at most %d bytes without control characters", maxSearchLength),
		check:       func(s string) string { return checkPlainText(s, maxSearchLength) },
	}
}

// statusWord checks one status of a list filter: a letter, then letters,
// digits, - or _, at most 64 characters.
func statusWord() validator.String {
	return stringCheck{description: "value must be a status word such as pending or complete", check: checkStatus}
}

// requestTimeout checks a Go duration from 1s to 10m.
func maxRetryAfter() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be a duration from %s to %s, such as 5m", shortDuration(minMaxRetryAfter), shortDuration(maxMaxRetryAfter)),
		check:       func(s string) string { return checkDuration(s, minMaxRetryAfter, maxMaxRetryAfter) },
	}
}

func requestTimeout() validator.String {
	return stringCheck{
		description: fmt.Sprintf("value must be a duration from %s to %s, such as 30s", shortDuration(minRequestTimeout), shortDuration(maxRequestTimeout)),
		check:       func(s string) string { return checkDuration(s, minRequestTimeout, maxRequestTimeout) },
	}
}
