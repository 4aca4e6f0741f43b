package iso3166

import (
	"maps"
	"slices"
)

// Alpha3Codes returns every alpha-3 code, sorted.
func Alpha3Codes() []string {
	return slices.Sorted(maps.Keys(alpha2))
}
