package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// TaxonomyVersion numbers the crime-category taxonomy. Slugs are part of
// the protocol: a later version may add categories but never renames or
// reuses a slug, so every bulletin and topic ever written stays readable.
const TaxonomyVersion = 1

// Category is one crime category of the taxonomy, taken from the United
// Nations Declaration on Crime and Public Security (1996).
type Category struct {
	Slug     string `json:"slug"`     // protocol identifier, e.g. "drug-trafficking"
	Title    string `json:"title"`    // human-readable name
	Articles string `json:"articles"` // the Declaration's articles, e.g. "Art. 1, 6"
}

var categories = []Category{
	{"organized-crime", "Organized crime", "Art. 1, 3"},
	{"drug-trafficking", "Illicit drug trafficking", "Art. 1, 6"},
	{"arms-trafficking", "Illicit trafficking in arms and firearms", "Art. 1, 7(c)"},
	{"illicit-goods-smuggling", "Smuggling of other illicit articles", "Art. 1"},
	{"human-trafficking", "Organized trafficking in persons", "Art. 1"},
	{"migrant-smuggling", "Organized smuggling of persons across borders", "Art. 7(d)"},
	{"terrorism", "Terrorist crimes", "Art. 1, 5"},
	{"money-laundering", "Laundering of the proceeds of crime", "Art. 1, 8"},
	{"corruption", "Corruption and bribery", "Art. 10"},
	{"wmd-materials", "Explosives and nuclear, biological or chemical weapons materials", "Art. 7(a)"},
	{"document-fraud", "Passport tampering and counterfeiting", "Art. 7(b)"},
}

// Categories returns the taxonomy in its fixed order. The slice is a copy.
func Categories() []Category { return slices.Clone(categories) }

// CategorySlugs returns every valid slug in taxonomy order.
func CategorySlugs() []string {
	slugs := make([]string, len(categories))
	for i, c := range categories {
		slugs[i] = c.Slug
	}
	return slugs
}

// LookupCategory returns the category with the given slug. Its error names
// the unknown slug and lists the valid ones.
func LookupCategory(slug string) (Category, error) {
	for _, c := range categories {
		if c.Slug == slug {
			return c, nil
		}
	}
	return Category{}, fmt.Errorf("%q is not a crime category; valid categories: %s",
		slug, strings.Join(CategorySlugs(), ", "))
}
