package iso3166

import (
	"slices"
	"testing"
)

// Every code once, sorted, enough for the 193 Member States.
func TestAlpha3Codes(t *testing.T) {
	codes := Alpha3Codes()
	if len(codes) != len(alpha2) || !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
		t.Fatalf("%d codes, sorted %v, want the %d codes of the table once each, sorted", len(codes), slices.IsSorted(codes), len(alpha2))
	}
	for _, c := range codes {
		if _, ok := Alpha2(c); !ok {
			t.Fatalf("%q is not an alpha-3 code of the table", c)
		}
	}
}
