package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Bad input is refused at plan time, naming the argument and the value, and
// before any API call. docs/guides/ carries the same table for users.
func TestAccValidation_planTimeErrors(t *testing.T) {
	if os.Getenv(envAccessID) != "" || os.Getenv(envSecretKey) != "" {
		t.Skip("credentials in the environment would hide the missing-credentials case")
	}
	const (
		p = "6650c1f2a9b4000000000001"
		b = "6650c1f2a9b4000000000002"
		w = "6650c1f2a9b4000000000003"
	)
	webhook := func(body string) string {
		return fmt.Sprintf("resource \"isahitlab_webhook\" \"test\" {\n  project_id = %q\n%s\n}\n", p, body)
	}
	cases := []struct {
		name, provider, config, want string
	}{
		{"url other scheme", "", webhook(`url = "ftp://files.example.com/hook"`),
			`url = "ftp://files.example.com/hook": must be an absolute http:// or https:// URL`},
		{"url with spaces", "", webhook(`url = "https://hooks.example.com/a b"`),
			`url = "https://hooks.example.com/a b": must not contain whitespace`},
		{"url without host", "", webhook(`url = "https:///hook"`), `url = "https:///hook": must name a host`},
		{"url relative", "", webhook(`url = "hooks.example.com/hook"`),
			`url = "hooks.example.com/hook": must be an absolute http:// or https:// URL`},
		{"url empty", "", webhook(`url = ""`), `url = "": must not be empty`},
		{"project id not hex", "", `resource "isahitlab_webhook" "test" {
  project_id = "my-project"
  url        = "https://hooks.example.com/"
}`, `project_id = "my-project": must be a 24-character lowercase hexadecimal Isahit Lab id`},
		{"batch id wrong length", "", webhook(`batch_id = "6650c1f2"` + "\n" + `url = "https://h.example.com/"`),
			`batch_id = "6650c1f2": must be a 24-character`},
		{"batch and workflow", "", webhook(fmt.Sprintf("batch_id = %q\nworkflow_id = %q\nurl = \"https://h.example.com/\"", b, w)),
			`These attributes cannot be configured together: [batch_id,workflow_id]`},
		{"header and header_wo", "", webhook(`url = "https://h.example.com/"` + "\nheader = \"a\"\nheader_wo = \"b\""),
			`These attributes cannot be configured together: [header,header_wo]`},
		{"header_wo_version alone", "", webhook(`url = "https://h.example.com/"` + "\nheader_wo_version = \"1\""),
			`Attribute "header_wo" must be specified when "header_wo_version" is specified`},
		{"header empty", "", webhook(`url = "https://h.example.com/"` + "\nheader = \"\""), `header = "": must not be empty`},
		{"on_destroy unknown", "", webhook(`url = "https://h.example.com/"` + "\non_destroy = \"delete\""),
			`on_destroy value must be one of: ["clear" "keep"], got: "delete"`},
		{"max_concurrency zero", "max_concurrency = 0", webhook(`url = "https://h.example.com/"`),
			`max_concurrency value must be at least 1, got: 0`},
		{"max_concurrency negative", "max_concurrency = -4", webhook(`url = "https://h.example.com/"`),
			`max_concurrency value must be at least 1, got: -4`},
		{"max_retries negative", "max_retries = -1", webhook(`url = "https://h.example.com/"`),
			`max_retries value must be at least 0, got: -1`},
		{"request_timeout unparsable", `request_timeout = "thirty"`, webhook(`url = "https://h.example.com/"`),
			`request_timeout = "thirty": is not a duration`},
		{"request_timeout negative", `request_timeout = "-5s"`, webhook(`url = "https://h.example.com/"`),
			`request_timeout = "-5s": must be greater than zero`},
		{"endpoint not a url", `endpoint = "localhost:8080"`, webhook(`url = "https://h.example.com/"`),
			`endpoint = "localhost:8080": must be an absolute http:// or https:// URL`},
		{"missing credentials", "", webhook(`url = "https://h.example.com/"`),
			`access_id (or the ISAHIT_LAB_API_ACCESS_ID environment variable) and secret_key (or the ISAHIT_LAB_API_SECRET_KEY environment variable)`},
		{"batches project id", "", fmt.Sprintf(`data "isahitlab_batches" "x" { project_id = %q }`, "0000"),
			`project_id = "0000": must be a 24-character`},
		{"batches empty statuses", "", fmt.Sprintf(`data "isahitlab_batches" "x" {
  project_id = %q
  statuses   = []
}`, p), `statuses list must contain at least 1 elements, got: 0`},
		{"batches empty search", "", fmt.Sprintf("data \"isahitlab_batches\" \"x\" {\n project_id = %q\n search = \"\"\n}", p),
			`search = "": must not be empty`},
		{"webhook data source bad workflow", "", fmt.Sprintf("data \"isahitlab_webhook\" \"x\" {\n project_id = %q\n workflow_id = \"WF\"\n}", p),
			`workflow_id = "WF": must be a 24-character`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, 0)
			prov := env.providerWith(tc.provider)
			if tc.provider != "" {
				prov = env.providerWith(tc.provider, strings.Fields(tc.provider)[0])
			}
			if tc.name == "missing credentials" {
				prov = env.providerWith("", "access_id", "secret_key")
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      prov + tc.config,
					PlanOnly:    true,
					ExpectError: wrapped(tc.want),
				}},
				CheckDestroy: func(*terraform.State) error {
					if n := env.emu.TotalCalls(); n != 0 {
						return fmt.Errorf("bad input reached the API: %d calls", n)
					}
					return nil
				},
			})
		})
	}
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
