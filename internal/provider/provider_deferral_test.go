package provider

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// protoServer drives the provider as Terraform does, RPC by RPC, without a
// CLI: no CLI here sends DeferralAllowed (see TestAccDeferral_*).
type protoServer struct {
	t       *testing.T
	srv     tfprotov6.ProviderServer
	schemas *tfprotov6.GetProviderSchemaResponse
}

func newProtoServer(t *testing.T) *protoServer {
	t.Helper()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	failOnErrors(t, "GetProviderSchema", schemas.Diagnostics)
	return &protoServer{t: t, srv: srv, schemas: schemas}
}

// value is an object of schema s with the attributes set, the others null.
func (p *protoServer) value(s *tfprotov6.Schema, set map[string]tftypes.Value) *tfprotov6.DynamicValue {
	p.t.Helper()
	typ, ok := s.ValueType().(tftypes.Object)
	if !ok {
		p.t.Fatalf("schema type %s is not an object", s.ValueType())
	}
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range set {
		if _, ok := typ.AttributeTypes[name]; !ok {
			p.t.Fatalf("schema has no attribute %q", name)
		}
		vals[name] = v
	}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		p.t.Fatal(err)
	}
	return &dv
}

func (p *protoServer) null(s *tfprotov6.Schema) *tfprotov6.DynamicValue {
	p.t.Helper()
	dv, err := tfprotov6.NewDynamicValue(s.ValueType(), tftypes.NewValue(s.ValueType(), nil))
	if err != nil {
		p.t.Fatal(err)
	}
	return &dv
}

func failOnErrors(t *testing.T, rpc string, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Fatalf("%s: unexpected error: %s: %s", rpc, d.Summary, d.Detail)
		}
	}
}

// errorDetail is the detail of the one error among diags, failing otherwise.
func errorDetail(t *testing.T, rpc string, diags []*tfprotov6.Diagnostic) string {
	t.Helper()
	var details []string
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			details = append(details, d.Summary+": "+d.Detail)
		}
	}
	if len(details) != 1 {
		t.Fatalf("%s: want one error, got %d: %q", rpc, len(details), details)
	}
	return details[0]
}

func wantDeferred(t *testing.T, rpc string, got *tfprotov6.Deferred, diags []*tfprotov6.Diagnostic) {
	t.Helper()
	failOnErrors(t, rpc, diags)
	if got == nil {
		t.Fatalf("%s: not deferred", rpc)
	}
	if got.Reason != tfprotov6.DeferredReasonProviderConfigUnknown {
		t.Fatalf("%s: deferred for %s, want %s", rpc, got.Reason, tfprotov6.DeferredReasonProviderConfigUnknown)
	}
}

// Every provider argument, unknown at plan time, with and without a client
// that takes deferred changes: deferral where allowed, else an error naming
// the argument where the API is needed, and a plan where it is not; never an
// API call (the known arguments point at the emulator, so a client built
// from a half-known configuration would reach it).
func TestDeferral_unknownProviderArgument(t *testing.T) {
	known := func(env *testEnv) map[string]tftypes.Value {
		return map[string]tftypes.Value{
			"endpoint":        tftypes.NewValue(tftypes.String, env.url),
			"access_id":       tftypes.NewValue(tftypes.String, testAccessID),
			"secret_key":      tftypes.NewValue(tftypes.String, testSecretKey),
			"max_concurrency": tftypes.NewValue(tftypes.Number, big.NewFloat(4)),
			"max_retries":     tftypes.NewValue(tftypes.Number, big.NewFloat(0)),
			"request_timeout": tftypes.NewValue(tftypes.String, "5s"),

			"requests_per_second": tftypes.NewValue(tftypes.Number, big.NewFloat(200)),
			"max_retry_after":     tftypes.NewValue(tftypes.String, "1m"),
		}
	}
	args := []string{"endpoint", "access_id", "secret_key", "max_concurrency", "max_retries", "request_timeout", "requests_per_second", "max_retry_after"}
	for _, arg := range args {
		for _, allowed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/deferral_allowed=%t", arg, allowed), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				env := newTestEnv(t, 1)
				p := newProtoServer(t)
				cfg := known(env)
				cfg[arg] = tftypes.NewValue(cfg[arg].Type(), tftypes.UnknownValue)

				// terraform validate: no provider configuration, no API call,
				// no error.
				vp, err := p.srv.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: p.value(p.schemas.Provider, cfg)})
				if err != nil {
					t.Fatal(err)
				}
				failOnErrors(t, "ValidateProviderConfig", vp.Diagnostics)
				dsSchema := p.schemas.DataSourceSchemas["isahitlab_batches"]
				dsConfig := p.value(dsSchema, map[string]tftypes.Value{"project_id": tftypes.NewValue(tftypes.String, env.project)})
				vd, err := p.srv.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: "isahitlab_batches", Config: dsConfig})
				if err != nil {
					t.Fatal(err)
				}
				failOnErrors(t, "ValidateDataResourceConfig", vd.Diagnostics)

				cp, err := p.srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
					Config:             p.value(p.schemas.Provider, cfg),
					ClientCapabilities: &tfprotov6.ConfigureProviderClientCapabilities{DeferralAllowed: allowed},
				})
				if err != nil {
					t.Fatal(err)
				}
				failOnErrors(t, "ConfigureProvider", cp.Diagnostics)

				// A data source needs the API to be read.
				rd, err := p.srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{
					TypeName: "isahitlab_batches", Config: dsConfig,
					ClientCapabilities: &tfprotov6.ReadDataSourceClientCapabilities{DeferralAllowed: allowed},
				})
				if err != nil {
					t.Fatal(err)
				}

				// So does an ephemeral resource, to be opened.
				eSchema := p.schemas.EphemeralResourceSchemas["isahitlab_webhook"]
				oe, err := p.srv.OpenEphemeralResource(ctx, &tfprotov6.OpenEphemeralResourceRequest{
					TypeName: "isahitlab_webhook",
					Config: p.value(eSchema, map[string]tftypes.Value{
						"project_id": tftypes.NewValue(tftypes.String, env.project),
						"batch_id":   tftypes.NewValue(tftypes.String, env.batches[0]),
					}),
					ClientCapabilities: &tfprotov6.OpenEphemeralResourceClientCapabilities{DeferralAllowed: allowed},
				})
				if err != nil {
					t.Fatal(err)
				}

				// A new webhook is planned from its configuration alone.
				rSchema := p.schemas.ResourceSchemas["isahitlab_webhook"]
				rConfig := p.value(rSchema, map[string]tftypes.Value{
					"project_id": tftypes.NewValue(tftypes.String, env.project),
					"batch_id":   tftypes.NewValue(tftypes.String, env.batches[0]),
					"url":        tftypes.NewValue(tftypes.String, "https://hooks.example.com/d"),
				})
				pr, err := p.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
					TypeName: "isahitlab_webhook", PriorState: p.null(rSchema), ProposedNewState: rConfig, Config: rConfig,
					ClientCapabilities: &tfprotov6.PlanResourceChangeClientCapabilities{DeferralAllowed: allowed},
				})
				if err != nil {
					t.Fatal(err)
				}

				if n := env.emu.TotalCalls(); n != 0 {
					t.Errorf("a half-known configuration reached the API: %d calls %v", n, env.emu.Calls())
				}

				if allowed {
					wantDeferred(t, "ReadDataSource", rd.Deferred, rd.Diagnostics)
					wantDeferred(t, "OpenEphemeralResource", oe.Deferred, oe.Diagnostics)
					wantDeferred(t, "PlanResourceChange", pr.Deferred, pr.Diagnostics)
				} else {
					want := "The isahitlab provider's " + arg + " is unknown at plan time"
					for rpc, diags := range map[string][]*tfprotov6.Diagnostic{"ReadDataSource": rd.Diagnostics, "OpenEphemeralResource": oe.Diagnostics} {
						if got := errorDetail(t, rpc, diags); !strings.Contains(got, want) {
							t.Errorf("%s: error %q does not say %q", rpc, got, want)
						}
					}
					if rd.Deferred != nil || oe.Deferred != nil || pr.Deferred != nil {
						t.Errorf("deferred although the client does not allow it")
					}
					failOnErrors(t, "PlanResourceChange", pr.Diagnostics)
				}
			})
		}
	}

	// The control: known arguments are neither deferred nor refused, and the
	// emulator counts the calls the cases above must not make.
	t.Run("all known", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		env := newTestEnv(t, 1)
		p := newProtoServer(t)
		cp, err := p.srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{
			Config:             p.value(p.schemas.Provider, known(env)),
			ClientCapabilities: &tfprotov6.ConfigureProviderClientCapabilities{DeferralAllowed: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		failOnErrors(t, "ConfigureProvider", cp.Diagnostics)
		rd, err := p.srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{
			TypeName:           "isahitlab_batches",
			Config:             p.value(p.schemas.DataSourceSchemas["isahitlab_batches"], map[string]tftypes.Value{"project_id": tftypes.NewValue(tftypes.String, env.project)}),
			ClientCapabilities: &tfprotov6.ReadDataSourceClientCapabilities{DeferralAllowed: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		failOnErrors(t, "ReadDataSource", rd.Diagnostics)
		if rd.Deferred != nil {
			t.Fatalf("deferred (%s) with a known configuration", rd.Deferred.Reason)
		}
		if env.emu.TotalCalls() == 0 {
			t.Fatal("the data source was read without an API call")
		}
	})
}

// Several unknown arguments are all named.
func TestDeferral_unknownArgumentsNamed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoint"}, "The isahitlab provider's endpoint is unknown at plan time:"},
		{[]string{"endpoint", "secret_key"}, "The isahitlab provider's endpoint and secret_key are unknown at plan time:"},
		{[]string{"access_id", "secret_key", "max_retries"}, "The isahitlab provider's access_id, secret_key and max_retries are unknown at plan time:"},
	} {
		if got := unknownConfigDetail(tc.args); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v: got %q, want it to start with %q", tc.args, got, tc.want)
		}
	}
}

// The CLIs of the test matrix send no DeferralAllowed (Terraform accepts
// -allow-deferral only in experimental builds; see the provider docs): a data
// source read at plan time while the provider's endpoint, or another
// argument, is known only after apply fails with an error naming the
// argument, and the API is never called.
func TestAccDeferral_unknownArgumentWithoutDeferral(t *testing.T) {
	for _, tc := range []struct{ name, input, provider, drop, want string }{
		{name: "endpoint", input: "ENDPOINT",
			provider: `endpoint = terraform_data.late.output`, drop: "endpoint",
			want: `The isahitlab provider's endpoint is unknown at plan time`},
		// The endpoint and the credentials are known and good: a client built
		// from the rest would reach the emulator.
		{name: "max_retries", input: "2",
			provider: `max_retries = terraform_data.late.output`,
			want:     `The isahitlab provider's max_retries is unknown at plan time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 1)
			input := strings.ReplaceAll(tc.input, "ENDPOINT", env.url)
			providerBlock := env.providerWith(tc.provider, strings.Fields(tc.drop)...)
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: fmt.Sprintf(`
resource "terraform_data" "late" {
  input = %q
}
%s
data "isahitlab_batches" "x" {
  project_id = %q
}
`, input, providerBlock, env.project),
					ExpectError: regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(tc.want), " ", `\s+`)),
				}},
			})
			// Checked once every command has run: the plan fails, the state
			// stays empty, and the harness skips CheckDestroy then.
			if n := env.emu.TotalCalls(); n != 0 {
				t.Fatalf("a half-known configuration reached the API: %d calls %v", n, env.emu.Calls())
			}
		})
	}
}
