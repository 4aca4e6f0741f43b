package iso3166

import "sync"

// Alpha2 returns the alpha-2 code of an upper-case alpha-3 code, and
// false if alpha3 is not an assigned ISO 3166-1 code.
func Alpha2(alpha3 string) (string, bool) {
	a, ok := alpha2[alpha3]
	return a, ok
}

// Alpha3 returns the alpha-3 code of an upper-case alpha-2 code, and
// false if alpha2 is not an assigned ISO 3166-1 code.
func Alpha3(alpha2 string) (string, bool) {
	a, ok := alpha3Of()[alpha2]
	return a, ok
}

// IsAlpha2 says whether code is an assigned upper-case alpha-2 code.
func IsAlpha2(code string) bool {
	_, ok := alpha3Of()[code]
	return ok
}

var alpha3Of = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(alpha2))
	for a3, a2 := range alpha2 {
		m[a2] = a3
	}
	return m
})
