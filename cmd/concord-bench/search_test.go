package main

import (
	"strings"
	"testing"
)

// TestSearchScenarios runs the search group alone on a few hundred
// bulletins: every row is measured with the usual shape (the scenario
// itself fails if a query finds nothing the corpus holds, or if the
// baseline store indexed its records), and each goal has its verdict.
func TestSearchScenarios(t *testing.T) {
	out := runGroup(t, []string{"-scenarios", "search", "-search-bulletins", "300", "-ingest-workers", "8"},
		"search-index-build", "search-index-build-raw", "search-index-bytes",
		"search-entity-p50", "search-entity-p99", "search-text-p50", "search-text-p99",
		"search-related-p50", "search-related-p99", "search-heap", "search-correlations")
	for _, goal := range []string{"30% of ingest throughput", "entity p50", "text p50", "related p50"} {
		if !strings.Contains(out, "search goal, ") || !strings.Contains(out, goal) {
			t.Errorf("no verdict on the goal %q in the notes:\n%s", goal, out)
		}
	}
}
