package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestSearchScenarios runs the search group alone on a few hundred
// bulletins: every row is measured with the usual shape (the scenario
// itself fails if a query finds nothing the corpus holds, or if the
// baseline store indexed its records), and each goal has its verdict.
func TestSearchScenarios(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-scenarios", "search", "-search-bulletins", "300", "-ingest-workers", "8"}
	if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	var rep struct {
		Scenarios []map[string]any `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(out[strings.IndexByte(out, '{'):]), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	want := map[string]bool{}
	for _, name := range []string{"search-index-build", "search-index-build-raw", "search-index-bytes",
		"search-entity-p50", "search-entity-p99", "search-text-p50", "search-text-p99",
		"search-related-p50", "search-related-p99", "search-heap", "search-correlations"} {
		want[name] = true
	}
	for _, s := range rep.Scenarios {
		name, _ := s["name"].(string)
		if why, _ := s["skipped"].(string); why != "" {
			t.Errorf("%s skipped: %s", name, why)
		}
		checkScenario(t, name, s)
		delete(want, name)
	}
	for name := range want {
		t.Errorf("scenario %s missing", name)
	}
	for _, goal := range []string{"30% of ingest throughput", "entity p50", "text p50", "related p50"} {
		if !strings.Contains(out, "search goal, ") || !strings.Contains(out, goal) {
			t.Errorf("no verdict on the goal %q in the notes:\n%s", goal, out)
		}
	}
}
