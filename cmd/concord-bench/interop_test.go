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
	var stdout, stderr bytes.Buffer
	if err := execute(context.Background(), []string{"-scenarios", "interop", "-interop-bulletins", "60"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	report := stdout.Bytes()[bytes.IndexByte(stdout.Bytes(), '{'):]
	var rep struct {
		Scenarios []map[string]any `json:"scenarios"`
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	want := map[string]bool{"interop-export-stix": true, "interop-import-stix": true, "interop-export-misp": true, "interop-import-misp": true}
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
}
