package entity

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/concordnet/concord/protocol"
)

// FuzzKeys checks, for any entity: Keys never panics, gives non-empty
// values of the entity's type without duplicates, Normalize is its first
// key, and each unflagged key's String() parses back to itself.
func FuzzKeys(f *testing.F) {
	for _, tc := range normalizeCases {
		f.Add(tc.e.Type, tc.e.Value, tc.e.Fields["imo"]+tc.e.Fields["country"]+tc.e.Fields["plate"], tc.region)
	}
	types := protocol.EntityTypes()
	f.Fuzz(func(t *testing.T, typ, value, field, region string) {
		if !slices.Contains(types, typ) {
			typ = types[len(typ+value)%len(types)]
		}
		e := protocol.Entity{Type: typ, Value: value, Fields: map[string]string{
			"imo": field, "mmsi": field, "country": field, "issuer": field, "plate": field, "serial": field, "registration": field}}
		keys := Keys(e, region)
		for i, k := range keys {
			if k.Type != typ || k.Value == "" || !utf8.ValidString(k.Value) && utf8.ValidString(value+field) {
				t.Fatalf("Keys(%+v) key %d = %+v", e, i, k)
			}
			if slices.ContainsFunc(keys[:i], func(o Key) bool { return o.Value == k.Value }) {
				t.Fatalf("Keys(%+v) repeats %q", e, k.Value)
			}
			if k.Flagged || !utf8.ValidString(k.Value) || strings.ContainsAny(k.Value, "\r\n") {
				continue
			}
			if got, ok := ParseTerm(k.String(), region); !ok || got != k {
				t.Fatalf("Keys(%+v): ParseTerm(%q) = %+v, %v", e, k.String(), got, ok)
			}
		}
		if n := Normalize(e, region); len(keys) > 0 && n != keys[0] || len(keys) == 0 && n != (Key{Type: typ}) {
			t.Fatalf("Normalize(%+v) = %+v, Keys %+v", e, n, keys)
		}
	})
}

// FuzzWords checks that words are non-empty, already folded, and split
// no further, so a query word meets the indexed word it came from.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"GARCÍA LOPEZ, Juan", "x²½", "東京タワー", "नमस्ते दुनिया", "Straße ﬁsh \u212A", "a\u0301\u0301b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(s) {
			if w == "" || Fold(w) != w {
				t.Fatalf("Words(%q) has %q, which folds to %q", s, w, Fold(w))
			}
			if again := Words(w); len(again) != 1 || again[0] != w {
				t.Fatalf("Words(%q) has %q, which splits into %q", s, w, again)
			}
		}
	})
}
