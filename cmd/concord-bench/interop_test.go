package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// TestInteropScenarios runs the interop group alone on a few bulletins:
// every export and import row is measured (not skipped) with the usual
// shape, so a library error cannot hide behind a skipped row.
func TestInteropScenarios(t *testing.T) {
	runGroup(t, []string{"-scenarios", "interop", "-interop-bulletins", "60"},
		"interop-export-stix", "interop-import-stix", "interop-export-misp", "interop-import-misp")
}

// runGroup runs concord-bench with args and checks that every named row
// is in the report, measured (not skipped) and of the usual shape. It
// returns the printed output (table, notes and report).
func runGroup(t *testing.T, args []string, names ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.Bytes()
	var rep struct {
		Scenarios []map[string]any `json:"scenarios"`
	}
	if err := json.Unmarshal(out[bytes.IndexByte(out, '{'):], &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
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
	return string(out)
}
