// Package provider is the Isahit Lab Terraform provider: its configuration,
// the isahitlab_webhook resource and the data sources. It knows Terraform;
// every API call goes through package client.
package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/isahit/terraform-provider-isahitlab/internal/client"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// Environment variables, named as the Python SDK names them so existing
// setups keep working.
const (
	envEndpoint  = "ISAHIT_LAB_API_ENDPOINT"
	envAccessID  = "ISAHIT_LAB_API_ACCESS_ID"
	envSecretKey = "ISAHIT_LAB_API_SECRET_KEY"
	// envPaceDir overrides where the pace learned from 429 answers is kept
	// between provider processes (default: the user's cache directory).
	envPaceDir = "ISAHIT_LAB_PACE_DIR"
)

const (
	defaultMaxConcurrency = 16
	defaultMaxRetries     = 5
	defaultRequestTimeout = 30 * time.Second
)

// Bounds of the numeric arguments. They catch typos (a timeout of 30h, a
// concurrency of 16000) before they do harm; no real setup needs more.
const (
	// maxMaxConcurrency: each call in flight holds a connection and a
	// goroutine. Beyond a few hundred the API's rate limit, not the
	// provider, sets the pace (the provider slows down on 429 on its own),
	// and thousands of connections to one host look like an attack.
	maxMaxConcurrency = 256
	// maxMaxRetries: with backoff capped at 30 s, 20 retries already wait
	// about ten minutes for one call; more would only hide an outage.
	maxMaxRetries = 20
	// minRequestTimeout and maxRequestTimeout: under a second no call
	// survives a slow network; over ten minutes a hung call stalls the run
	// with no sign of life.
	minRequestTimeout = time.Second
	maxRequestTimeout = 10 * time.Minute
	// minRequestsPerSecond and maxRequestsPerSecond: below one request in
	// ten seconds a project walk never ends; above 100,000 no API answers.
	minRequestsPerSecond = 0.1
	maxRequestsPerSecond = 100000
	// minMaxRetryAfter and maxMaxRetryAfter: Retry-After counts whole
	// seconds; an API that asks for more than an hour is down, and a run
	// that sits that long looks hung.
	minMaxRetryAfter = time.Second
	maxMaxRetryAfter = time.Hour
)

var (
	_ provider.ProviderWithListResources      = (*isahitlabProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*isahitlabProvider)(nil)
)

type isahitlabProvider struct {
	version string
	commit  string // of the build, "" when unknown (see NewWithCommit)
}

// New returns a factory for the provider, as providerserver expects.
func New(version string) func() provider.Provider {
	return NewWithCommit(version, "")
}

type providerModel struct {
	Endpoint       types.String `tfsdk:"endpoint"`
	AccessID       types.String `tfsdk:"access_id"`
	SecretKey      types.String `tfsdk:"secret_key"`
	MaxConcurrency types.Int64  `tfsdk:"max_concurrency"`
	MaxRetries     types.Int64  `tfsdk:"max_retries"`
	RequestTimeout types.String `tfsdk:"request_timeout"`
	// RequestsPerSecond and MaxRetryAfter: see Schema.
	RequestsPerSecond types.Float64 `tfsdk:"requests_per_second"`
	MaxRetryAfter     types.String  `tfsdk:"max_retry_after"`
}

// providerData is what resources and data sources receive from Configure.
type providerData struct {
	client      *client.Client
	concurrency int
	// unknown names the provider arguments unknown at plan time; client is
	// nil then.
	unknown []string
}

// unknownArguments names the arguments whose values are unknown (they come
// from objects not created yet), in the order of the documentation.
func (m *providerModel) unknownArguments() []string {
	var out []string
	for _, a := range []struct {
		name string
		v    attr.Value
	}{
		{"endpoint", m.Endpoint}, {"access_id", m.AccessID}, {"secret_key", m.SecretKey},
		{"max_concurrency", m.MaxConcurrency}, {"max_retries", m.MaxRetries}, {"request_timeout", m.RequestTimeout},
		{"requests_per_second", m.RequestsPerSecond}, {"max_retry_after", m.MaxRetryAfter},
	} {
		if a.v.IsUnknown() {
			out = append(out, a.name)
		}
	}
	return out
}

func (p *isahitlabProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "isahitlab"
	resp.Version = p.version
}

func (p *isahitlabProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages [Isahit Lab](https://www.isahit.com/) webhooks: the URL Isahit Lab calls when a task finishes an annotation or review job.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Base URL of the Isahit Lab API: an absolute `http://` or `https://` URL, without credentials, query or fragment. Defaults to the `" + envEndpoint + "` environment variable, then to `" + client.DefaultEndpoint + "`.",
				Optional:            true,
				Validators:          []validator.String{endpointURL()},
			},
			"access_id": schema.StringAttribute{
				MarkdownDescription: "API access id. Defaults to the `" + envAccessID + "` environment variable.",
				Optional:            true,
				Validators:          []validator.String{accessIDText()},
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "API secret key. Defaults to the `" + envSecretKey + "` environment variable.",
				Optional:            true,
				Sensitive:           true,
				Validators:          []validator.String{secretKeyText()},
			},
			"max_concurrency": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most API calls in flight at once for project-wide work, from 1 to %d. Defaults to %d; the provider also slows down on its own when the API answers 429.", maxMaxConcurrency, defaultMaxConcurrency),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1), int64validator.AtMost(maxMaxConcurrency)},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Retries of an API call after a 429, a 5xx answer or a connection error, with exponential backoff, from 0 to %d. Defaults to %d.", maxMaxRetries, defaultMaxRetries),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(0), int64validator.AtMost(maxMaxRetries)},
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Timeout of one API call, as a Go duration such as `30s` or `1m`, from `%s` to `%s`. Defaults to `30s`.", shortDuration(minRequestTimeout), shortDuration(maxRequestTimeout)),
				Optional:            true,
				Validators:          []validator.String{requestTimeout()},
			},
			"requests_per_second": schema.Float64Attribute{
				MarkdownDescription: fmt.Sprintf("Most API requests per second, from %g to %d: the quota of the access id, when you know it. The provider then paces its requests from the first one and never goes faster; it still slows down if the API answers 429. Unset, the provider learns the pace from the API's 429 answers and keeps it for `%s` in the user's cache directory (or the `%s` environment variable's), so the next run starts at it.", minRequestsPerSecond, maxRequestsPerSecond, shortDuration(client.PaceTTL), envPaceDir),
				Optional:            true,
				Validators:          []validator.Float64{float64validator.Between(minRequestsPerSecond, maxRequestsPerSecond)},
			},
			"max_retry_after": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Longest wait the provider sits out when the API answers 429 or 503 with a `Retry-After` header, as a Go duration from `%s` to `%s`. Defaults to `%s`. When the API asks for a longer wait, the call fails at once with an error that says so, rather than retrying before the API allows.", shortDuration(minMaxRetryAfter), shortDuration(maxMaxRetryAfter), shortDuration(client.DefaultMaxRetryAfter)),
				Optional:            true,
				Validators:          []validator.String{maxRetryAfter()},
			},
		},
	}
}

func (p *isahitlabProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// A value that comes from another resource is unknown during plan. No
	// client is built from a half-known configuration: where Terraform can
	// take it, the framework defers every object of this provider to a later
	// run; elsewhere a resource or data source that needs the API says which
	// arguments are unknown (ready), and what needs no API call still plans.
	if unknown := cfg.unknownArguments(); len(unknown) > 0 {
		data := &providerData{unknown: unknown}
		resp.ResourceData, resp.DataSourceData, resp.ListResourceData, resp.EphemeralResourceData = data, data, data, data
		if req.ClientCapabilities.DeferralAllowed {
			resp.Deferred = &provider.Deferred{Reason: provider.DeferredReasonProviderConfigUnknown}
		}
		tflog.Debug(ctx, "provider configuration not known yet; no API call until it is",
			map[string]any{"unknown": unknown, "deferred": resp.Deferred != nil})
		return
	}

	endpoint := firstSet(cfg.Endpoint, envEndpoint)
	accessID := firstSet(cfg.AccessID, envAccessID)
	secretKey := firstSet(cfg.SecretKey, envSecretKey)
	if secretKey != "" {
		ctx = tflog.MaskMessageStrings(ctx, secretKey)
		ctx = tflog.MaskAllFieldValuesStrings(ctx, secretKey)
	}
	// Values from the environment get the checks the attributes' validators
	// make on configured ones (an empty variable counts as unset).
	checkEnv(&resp.Diagnostics, cfg.Endpoint, "endpoint", envEndpoint, endpoint, checkEndpointURL, false)
	checkEnv(&resp.Diagnostics, cfg.AccessID, "access_id", envAccessID, accessID,
		func(s string) string { return checkPlainText(s, maxAccessIDLength) }, false)
	checkEnv(&resp.Diagnostics, cfg.SecretKey, "secret_key", envSecretKey, secretKey,
		func(s string) string { return checkPlainText(s, maxSecretKeyLength) }, true)
	if endpoint == "" {
		endpoint = client.DefaultEndpoint
	}

	var missing []string
	if accessID == "" {
		missing = append(missing, fmt.Sprintf("access_id (or the %s environment variable)", envAccessID))
	}
	if secretKey == "" {
		missing = append(missing, fmt.Sprintf("secret_key (or the %s environment variable)", envSecretKey))
	}
	if len(missing) > 0 {
		resp.Diagnostics.AddError("Missing Isahit Lab credentials",
			"The provider needs "+strings.Join(missing, " and ")+" to call the Isahit Lab API. "+
				"Set them in the provider block or the environment.")
	}

	concurrency := intOr(cfg.MaxConcurrency, defaultMaxConcurrency)
	retries := intOr(cfg.MaxRetries, defaultMaxRetries)
	timeout := durationOr(cfg.RequestTimeout, defaultRequestTimeout)
	retryAfter := durationOr(cfg.MaxRetryAfter, client.DefaultMaxRetryAfter)
	if resp.Diagnostics.HasError() {
		return
	}

	c, err := client.New(client.Config{
		Endpoint:       endpoint,
		AccessID:       accessID,
		SecretKey:      secretKey,
		UserAgent:      userAgent(p.version, p.commit),
		RequestTimeout: timeout,
		MaxRetries:     retries,
		MaxConcurrency: concurrency,

		RequestsPerSecond: cfg.RequestsPerSecond.ValueFloat64(), // 0 when unset
		MaxRetryAfter:     retryAfter,
		MaxRetryAfterName: "max_retry_after",
		PaceDir:           paceDir(),
	})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid Isahit Lab endpoint", err.Error())
		return
	}
	data := &providerData{client: c, concurrency: concurrency}
	resp.ResourceData, resp.DataSourceData, resp.ListResourceData, resp.EphemeralResourceData = data, data, data, data
	tflog.Debug(ctx, "provider configured", map[string]any{"endpoint": endpoint, "max_concurrency": concurrency, "max_retries": retries})
}

func (p *isahitlabProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewWebhookResource}
}

// ListResources are for `terraform query` (Terraform 1.14 or later).
func (p *isahitlabProvider) ListResources(context.Context) []func() list.ListResource {
	return []func() list.ListResource{NewWebhookListResource}
}

// EphemeralResources are read for one run and never saved (Terraform 1.10,
// OpenTofu 1.11 or later): where a secret may be read back.
func (p *isahitlabProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{NewWebhookEphemeralResource}
}

func (p *isahitlabProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewWebhookDataSource, NewBatchesDataSource, NewProjectsDataSource, NewWebhookHealthDataSource}
}

// checkEnv reports a bad value read from the environment variable env
// because attribute attr is not set, naming the variable; a secret value is
// never shown.
func checkEnv(diags *diag.Diagnostics, v types.String, attr, env, value string, check func(string) string, secret bool) {
	if !v.IsNull() || value == "" {
		return
	}
	msg := check(value)
	if msg == "" {
		return
	}
	what := env + " = " + shown(value)
	if secret {
		what = env + " (sensitive, not shown)"
	}
	diags.AddAttributeError(path.Root(attr), "Invalid "+env,
		fmt.Sprintf("%s: %s.\n\nThe provider block does not set %s, so the provider read the %s environment variable.", what, msg, attr, env))
}

func firstSet(v types.String, env string) string {
	if !v.IsNull() {
		return v.ValueString()
	}
	return os.Getenv(env)
}

// durationOr is a validated duration argument's value, or def when unset.
func durationOr(v types.String, def time.Duration) time.Duration {
	if v.IsNull() {
		return def
	}
	d, _ := time.ParseDuration(v.ValueString())
	return d
}

// paceDir is where the client keeps the pace it learned, for the next
// provider process: the environment's choice, else the user's cache
// directory; "" (keep nothing) when there is none.
func paceDir() string {
	if d := os.Getenv(envPaceDir); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "terraform-provider-isahitlab", "pace")
}

func intOr(v types.Int64, def int) int {
	if v.IsNull() {
		return def
	}
	return int(v.ValueInt64())
}

// describe is an API error as users should read it: refused credentials
// name where they come from.
func describe(err error) string {
	if errors.Is(err, client.ErrUnauthorized) {
		return err.Error() + fmt.Sprintf("\n\nThe Isahit Lab API refused the credentials. Check access_id and secret_key in the provider block, or the %s and %s environment variables.", envAccessID, envSecretKey)
	}
	return err.Error()
}

// configuredData takes the provider's data in a resource's or data source's
// Configure; it is nil before the provider is configured.
func configuredData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	data, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", raw))
		return nil
	}
	return data
}

// ready reports whether API calls can be made, and says why not otherwise.
func (d *providerData) ready(diags *diag.Diagnostics) bool {
	if d != nil && len(d.unknown) > 0 {
		diags.AddError("Provider configuration unknown at plan time", unknownConfigDetail(d.unknown))
		return false
	}
	if d == nil || d.client == nil {
		diags.AddError("Provider not configured",
			"The isahitlab provider has not been configured, so the Isahit Lab API cannot be called. Please report this issue to the provider developers.")
		return false
	}
	return true
}

// unknownConfigDetail is the error for an object that needs the API while
// the provider arguments named are unknown (Terraform without deferral).
func unknownConfigDetail(args []string) string {
	what := args[0] + " is"
	if n := len(args); n > 1 {
		what = strings.Join(args[:n-1], ", ") + " and " + args[n-1] + " are"
	}
	return "The isahitlab provider's " + what + " unknown at plan time: set from a value known only after apply " +
		"(an attribute of a resource not created yet). The provider does not call the Isahit Lab API with a " +
		"half-known configuration, and this object needs the API to be planned or read.\n\n" +
		"Apply the objects the provider configuration depends on first (for example with -target), or set " +
		"the argument from a value known at plan time. A Terraform that supports deferred changes (HCP " +
		"Terraform Stacks, or an experimental build run with -allow-deferral) defers such objects to a later " +
		"run instead of failing."
}

func (d *providerData) engineOptions() webhooks.Options {
	return webhooks.Options{Concurrency: d.concurrency}
}
