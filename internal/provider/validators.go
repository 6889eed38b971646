package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// Plan-time checks. Each error names the attribute (the framework adds its
// path) and shows the bad value, so a user can find it in a large config.
// Unknown and null values pass: they are checked again once known.

var objectIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// checkObjectID returns "" for a 24-hex-digit id, or why it is not one.
func checkObjectID(s string) string {
	if objectIDPattern.MatchString(s) {
		return ""
	}
	return "must be a 24-character lowercase hexadecimal Isahit Lab id, such as 6650c1f2a9b4c3d2e1f00001"
}

// checkHTTPURL returns "" for an absolute http(s) URL with a host and no
// whitespace, or why it is not one.
func checkHTTPURL(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "must not contain whitespace"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL: " + strings.TrimPrefix(err.Error(), "parse "+fmt.Sprintf("%q", s)+": ")
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return "must be an absolute http:// or https:// URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "must name a host"
	}
	return ""
}

type stringCheck struct {
	description string
	check       func(string) string
}

func (v stringCheck) Description(context.Context) string         { return v.description }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.description }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	value := req.ConfigValue.ValueString()
	if msg := v.check(value); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+req.Path.String(),
			fmt.Sprintf("%s = %q: %s.", req.Path, value, msg))
	}
}

// objectID checks an Isahit Lab id.
func objectID() validator.String {
	return stringCheck{description: "value must be a 24-hex-digit Isahit Lab id", check: checkObjectID}
}

// httpURL checks an absolute http(s) URL.
func httpURL() validator.String {
	return stringCheck{description: "value must be an absolute http or https URL without whitespace", check: checkHTTPURL}
}

// positiveDuration checks a Go duration string greater than zero.
func positiveDuration() validator.String {
	return stringCheck{description: "value must be a positive duration such as 30s", check: func(s string) string {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			return "is not a duration; use a number with a unit, such as 30s, 2m or 1m30s"
		case d <= 0:
			return "must be greater than zero"
		}
		return ""
	}}
}

// nonEmpty refuses "".
func nonEmpty() validator.String {
	return stringCheck{description: "value must not be empty", check: func(s string) string {
		if s == "" {
			return "must not be empty"
		}
		return ""
	}}
}
