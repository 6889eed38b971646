package provider

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// Tests here hold the documentation to what a user copies from it: the
// examples/ directory is validated by `make validate-examples`; these cover
// the Terraform snippets written into README.md and templates/, the index of
// the docs, and the images the docs show.

// docSnippet is one ```terraform block of a Markdown file.
type docSnippet struct {
	where string // file:line of its opening fence
	code  string
}

var fence = regexp.MustCompile("(?m)^```(terraform|hcl)[ \t]*\n((?s:.*?))^```[ \t]*$")

// docSnippets returns the Terraform blocks of README.md and of every
// template under templates/.
func docSnippets(t *testing.T, root string) []docSnippet {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "templates"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmpl") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []docSnippet
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, m := range fence.FindAllSubmatchIndex(b, -1) {
			line := 1 + strings.Count(string(b[:m[0]]), "\n")
			out = append(out, docSnippet{where: rel + ":" + strconv.Itoa(line), code: string(b[m[4]:m[5]])})
		}
	}
	return out
}

// Every Terraform block of the README and the templates is a configuration
// that `terraform validate` accepts alone, as a user pastes it (with the
// provider's required_providers when the block has none, as their
// configuration would): no undeclared variable, resource or argument.
func TestExamples_docSnippetsValidate(t *testing.T) {
	root, err := tfrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	snippets := docSnippets(t, root)
	if len(snippets) < 3 {
		t.Fatalf("found %d Terraform blocks in README.md and templates/, want the README's and the guides' (at least 3)", len(snippets))
	}
	for _, s := range snippets {
		t.Run(s.where, func(t *testing.T) {
			ws := cliWorkspace(t)
			code := s.code
			if !strings.Contains(code, "required_providers") {
				code = "terraform {\n  required_providers {\n    isahitlab = { source = \"" + tfrun.ProviderSource + "\" }\n  }\n}\n\n" + code
			}
			if err := os.WriteFile(filepath.Join(ws.Dir, "main.tf"), []byte(code), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ws.Run(context.Background(), "validate", "-no-color"); err != nil {
				t.Errorf("the block at %s does not validate alone:\n%s\n%v", s.where, s.code, err)
			}
		})
	}
}

// The docs' index (templates/index.md.tmpl) links every object the provider
// serves and every guide.
func TestExamples_indexListsEverything(t *testing.T) {
	root, err := tfrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(root, "templates", "index.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := New("test")()
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	// The doc page of each object, as tfplugindocs names it: its kind's
	// directory and the type name without the provider's prefix.
	var want []string
	page := func(dir, typeName string) {
		want = append(want, "]("+dir+"/"+strings.TrimPrefix(typeName, meta.TypeName+"_")+".md)")
	}
	for _, f := range p.Resources(ctx) {
		var r resource.MetadataResponse
		f().Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
		page("resources", r.TypeName)
	}
	for _, f := range p.DataSources(ctx) {
		var r datasource.MetadataResponse
		f().Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
		page("data-sources", r.TypeName)
	}
	if pl, ok := p.(provider.ProviderWithListResources); ok {
		for _, f := range pl.ListResources(ctx) {
			var r resource.MetadataResponse
			f().Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
			page("list-resources", r.TypeName)
		}
	}
	if pe, ok := p.(provider.ProviderWithEphemeralResources); ok {
		for _, f := range pe.EphemeralResources(ctx) {
			var r ephemeral.MetadataResponse
			f().Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: meta.TypeName}, &r)
			page("ephemeral-resources", r.TypeName)
		}
	}
	guides, err := filepath.Glob(filepath.Join(root, "templates", "guides", "*.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guides {
		want = append(want, "](guides/"+strings.TrimSuffix(filepath.Base(g), ".tmpl")+")")
	}
	if len(want) < 8 {
		t.Fatalf("found %d objects and guides, want at least 8: %v", len(want), want)
	}
	for _, w := range want {
		if !strings.Contains(string(index), w) {
			t.Errorf("templates/index.md.tmpl lacks a link %q", strings.TrimPrefix(w, "]"))
		}
	}
}

var imageLink = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+)\)`)

// Every image the docs show is a file inside docs/, the only directory the
// Terraform Registry publishes, at the path the rendered page links. The
// templates are checked as the pages they become (templates/X.md.tmpl is
// docs/X.md), so that a link is right before `make docs` runs.
func TestExamples_docImagesInsideDocs(t *testing.T) {
	root, err := tfrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join(root, "docs")
	images := 0
	err = filepath.WalkDir(filepath.Join(root, "templates"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md.tmpl") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "templates"), p)
		page := filepath.Join(docs, strings.TrimSuffix(rel, ".tmpl"))
		for _, m := range imageLink.FindAllStringSubmatch(string(b), -1) {
			link := m[1]
			if strings.Contains(link, "://") {
				continue
			}
			images++
			target := filepath.Join(filepath.Dir(page), filepath.FromSlash(link))
			if r, err := filepath.Rel(docs, target); err != nil || !filepath.IsLocal(r) {
				t.Errorf("templates/%s shows %s, which is outside docs/: the Registry would not find it", rel, link)
				continue
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("templates/%s shows %s: %v", rel, link, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if images == 0 {
		t.Fatal("no image found in templates/: the performance guide shows three")
	}
}

// An id in upper case is refused with a message that says ids are lowercase
// and gives the lowercase form: at plan time (the validator) and on import.
func TestUpperCaseIDsSayLowercase(t *testing.T) {
	const lower = "6650c1f2a9b4c3d2e1f00001"
	upper := strings.ToUpper(lower)
	for _, c := range []struct{ name, msg string }{
		{"validator", checkObjectID(upper)},
		{"import id", errString(parseWebhookID(upper))},
		{"import id, batch part", errString(parseWebhookID(lower + "/" + upper))},
		{"import id, workflow part", errString(parseWebhookID(lower + "/workflow/" + "6650c1f2a9B4c3d2e1f00001"))},
	} {
		if !strings.Contains(c.msg, "lowercase") || !strings.Contains(c.msg, "upper-case") || !strings.Contains(c.msg, lower) {
			t.Errorf("%s: %q should say the id has upper-case letters and give it in lowercase (%s)", c.name, c.msg, lower)
		}
	}
	// Not hex at all: no lowercase form to offer.
	for _, msg := range []string{checkObjectID("not-an-id"), errString(parseWebhookID("not-an-id"))} {
		if strings.Contains(msg, "upper-case") || !strings.Contains(msg, "lowercase hex") {
			t.Errorf("%q should say ids are lowercase hex digits, without the upper-case hint", msg)
		}
	}
}

func errString(_ webhooks.Target, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
