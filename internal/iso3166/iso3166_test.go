package iso3166

import "testing"

func TestAlpha2(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{{"NGA", "NG", true}, {"FRA", "FR", true}, {"ALA", "AX", true}, {"nga", "", false}, {"XYZ", "", false}, {"", "", false}} {
		if got, ok := Alpha2(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("Alpha2(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if !IsAlpha2("NG") || IsAlpha2("NGA") || IsAlpha2("XX") {
		t.Error("IsAlpha2 disagrees with the table")
	}
}

func TestAlpha3RoundTrip(t *testing.T) {
	if len(alpha2) != 249 {
		t.Fatalf("table has %d codes, want the 249 of ISO 3166-1", len(alpha2))
	}
	for a3, a2 := range alpha2 {
		if got, ok := Alpha3(a2); !ok || got != a3 {
			t.Errorf("Alpha3(%q) = %q, %v; want %q", a2, got, ok, a3)
		}
	}
}
