package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/tfrun"
)

var chartLink = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+\.svg)\)`)

// results.md links the charts where they are written, when -images is not
// -out; and the performance guide links the charts where -merge writes them
// by default (guideImages, inside docs/), each of which exists.
func TestChartsLinkedWhereWritten(t *testing.T) {
	out, images := t.TempDir(), filepath.Join(t.TempDir(), "charts")
	rep := &Report{Runs: []Run{{N: 1000, Mode: modeWith}, {N: 1000, Mode: modeWithout}}}
	if err := writeFiles(out, images, rep); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	links := chartLink.FindAllStringSubmatch(string(md), -1)
	if len(links) != 3 {
		t.Fatalf("results.md links %d charts, want 3:\n%s", len(links), md)
	}
	for _, l := range links {
		if got := filepath.Join(out, filepath.FromSlash(l[1])); filepath.Dir(got) != images {
			t.Errorf("results.md links %s, which is %s: not in %s", l[1], got, images)
		}
	}

	root, err := tfrun.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile(filepath.Join(root, "templates", "guides", "performance.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	links = chartLink.FindAllStringSubmatch(string(guide), -1)
	if len(links) != 3 {
		t.Fatalf("the performance guide links %d charts, want 3", len(links))
	}
	for _, l := range links {
		// The guide is rendered to docs/guides/performance.md.
		got := filepath.Join(root, "docs", "guides", filepath.FromSlash(l[1]))
		if filepath.Dir(got) != filepath.Join(root, filepath.FromSlash(guideImages)) {
			t.Errorf("the performance guide links %s, which is %s: not where -merge writes the charts (%s)", l[1], got, guideImages)
		}
		if _, err := os.Stat(got); err != nil {
			t.Errorf("the performance guide links %s: %v", l[1], err)
		}
	}
}
