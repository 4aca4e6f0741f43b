package protocol

import (
	"strings"
	"testing"
)

func TestCategoriesFollowTheDesign(t *testing.T) {
	want := []string{"organized-crime", "drug-trafficking", "arms-trafficking", "illicit-goods-smuggling",
		"human-trafficking", "migrant-smuggling", "terrorism", "money-laundering", "corruption",
		"wmd-materials", "document-fraud"}
	got := Categories()
	if len(got) != len(want) {
		t.Fatalf("%d categories, want %d", len(got), len(want))
	}
	for i, c := range got {
		if c.Slug != want[i] {
			t.Errorf("category %d is %q, want %q", i, c.Slug, want[i])
		}
		if c.Title == "" || !strings.HasPrefix(c.Articles, "Art. ") {
			t.Errorf("category %q lacks a title or articles: %+v", c.Slug, c)
		}
	}
	if c, _ := LookupCategory("drug-trafficking"); c.Title != "Illicit drug trafficking" || c.Articles != "Art. 1, 6" {
		t.Errorf("drug-trafficking is %+v", c)
	}
}

func TestCategoriesIsACopy(t *testing.T) {
	Categories()[0].Slug = "changed"
	if Categories()[0].Slug != "organized-crime" {
		t.Fatal("Categories exposes the taxonomy to modification")
	}
}

func TestLookupUnknownCategoryListsValidSlugs(t *testing.T) {
	_, err := LookupCategory("drugs")
	if err == nil {
		t.Fatal("unknown slug accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, `"drugs"`) {
		t.Errorf("error does not name the slug: %s", msg)
	}
	for _, slug := range CategorySlugs() {
		if !strings.Contains(msg, slug) {
			t.Errorf("error does not list %q: %s", slug, msg)
		}
	}
}
