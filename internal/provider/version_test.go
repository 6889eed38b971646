package provider

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestUserAgent(t *testing.T) {
	for _, c := range []struct{ version, commit, want string }{
		{"0.1.0", "", "terraform-provider-isahitlab/0.1.0"},
		{"0.1.0", "abc1234", "terraform-provider-isahitlab/0.1.0 (commit abc1234)"},
		{"0.1.0", "0123456789abcdef0123456789abcdef01234567", "terraform-provider-isahitlab/0.1.0 (commit 0123456789ab)"},
		{"dev", "0123456789abcdef0123456789abcdef01234567-dirty", "terraform-provider-isahitlab/dev (commit 0123456789ab-dirty)"},
	} {
		if got := userAgent(c.version, c.commit); got != c.want {
			t.Errorf("userAgent(%q, %q) = %q, want %q", c.version, c.commit, got, c.want)
		}
	}
}

// The version and commit main.go passes reach the API in the User-Agent of every call, the login
// included.
func TestUserAgentSentToAPI(t *testing.T) {
	env := newTestEnv(t, 1)
	var mu sync.Mutex
	agents := map[string]int{}
	record := func(_ http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		agents[r.UserAgent()]++
		mu.Unlock()
		return false // the emulator answers
	}
	env.intercept.Store(&record)

	ctx := context.Background()
	p := NewWithCommit("1.2.3", "0123456789abcdef0123456789abcdef01234567")()
	var sch provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sch)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	cfg := tfsdk.Config{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), map[string]tftypes.Value{
		"endpoint":        str(env.url),
		"access_id":       str(testAccessID),
		"secret_key":      str(testSecretKey),
		"max_concurrency": tftypes.NewValue(tftypes.Number, nil),
		"max_retries":     tftypes.NewValue(tftypes.Number, nil),
		"request_timeout": tftypes.NewValue(tftypes.String, nil),

		"requests_per_second": tftypes.NewValue(tftypes.Number, nil),
		"max_retry_after":     tftypes.NewValue(tftypes.String, nil),
	})}
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: cfg}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	data, ok := resp.ResourceData.(*providerData)
	if !ok || data.client == nil {
		t.Fatalf("Configure gave no client: %#v", resp.ResourceData)
	}
	if _, err := data.client.GetBatch(ctx, env.batches[0]); err != nil {
		t.Fatal(err)
	}

	const want = "terraform-provider-isahitlab/1.2.3 (commit 0123456789ab)"
	mu.Lock()
	defer mu.Unlock()
	if len(agents) != 1 || agents[want] < 2 { // the login and the read at least
		t.Errorf("user agents sent: %v, want only %q (login and read)", agents, want)
	}
}
