package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the memory-baseline child
// process, as the real binary does.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestQuickReport runs the harness in quick mode, a little smaller still,
// and checks the report: valid JSON of the fixed shape, every scenario,
// finite numbers. Timings are never asserted: this is what keeps the
// harness from rotting, not a performance test.
func TestQuickReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	args := []string{"-quick", "-out", out, "-msgs", "20", "-tp-max", "200", "-missed", "200", "-rss-bulletins", "500",
		"-scenarios", strings.Join(groups, ","), "-un-nodes", "6", "-un-topics", "4", "-un-msgs", "10", "-un-missed", "30", "-un-split-msgs", "3"}
	if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Machine   map[string]any   `json:"machine"`
		Scenarios []map[string]any `json:"scenarios"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report is not valid JSON of the fixed shape: %v\n%s", err, data)
	}
	for _, k := range []string{"cores", "go", "os"} {
		if rep.Machine[k] == nil {
			t.Errorf("machine.%s missing", k)
		}
	}
	seen := map[string]bool{}
	for _, s := range rep.Scenarios {
		name, _ := s["name"].(string)
		seen[name] = true
		checkScenario(t, name, s)
		if !strings.Contains(stdout.String(), "| "+name+" |") {
			t.Errorf("Markdown table lacks %s", name)
		}
	}
	for _, want := range []string{"latency-p50-n5", "latency-p99-n5", "delivery-ratio-n5", "latency-p50-n5-floor", "latency-p99-n5-floor",
		"cpu-per-bulletin-n5", "throughput", "throughput-floor", "ingest",
		"crypto-4k", "crypto-256k", "catchup-10k", "join-1k", "rss-idle", "rss-100k",
		"disk-per-bulletin-4k", "disk-per-bulletin-256k",
		"un-delivery-ratio", "un-latency-p50", "un-latency-p99", "un-cpu-per-delivery", "un-connections-mean", "un-connections-max",
		"un-memory-per-node", "un-bytes-per-delivery", "un-rotate-bytes", "un-rotate-epoch", "un-catchup-1k", "un-converge"} {
		if !seen[want] {
			t.Errorf("scenario %s missing from the report", want)
		}
	}
}

// noBaseline are the rows that have no baseline (Report.addAlone).
var noBaseline = map[string]bool{"un-rotate-bytes": true, "un-rotate-epoch": true, "un-converge": true}

// checkScenario requires a unit and either finite numbers with ratio =
// concord / baseline, or a reason for skipping. The rows of noBaseline
// must hold a finite number and null baseline and ratio.
func checkScenario(t *testing.T, name string, s map[string]any) {
	t.Helper()
	if u, _ := s["unit"].(string); u == "" {
		t.Errorf("%s: no unit", name)
	}
	if why, _ := s["skipped"].(string); why != "" {
		return
	}
	if noBaseline[name] {
		if f, ok := s["concord"].(float64); !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			t.Errorf("%s: concord is %v, not a finite number", name, s["concord"])
		}
		if s["baseline"] != nil || s["ratio"] != nil {
			t.Errorf("%s: baseline %v and ratio %v, want null: it has no baseline", name, s["baseline"], s["ratio"])
		}
		return
	}
	var v [3]float64
	for i, k := range []string{"concord", "baseline", "ratio"} {
		f, ok := s[k].(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			t.Errorf("%s: %s is %v, not a finite number", name, k, s[k])
		}
		v[i] = f
	}
	if v[1] != 0 && math.Abs(v[0]/v[1]-v[2]) > 0.01*math.Abs(v[2])+1e-3 {
		t.Errorf("%s: ratio %g is not concord/baseline = %g/%g", name, v[2], v[0], v[1])
	}
}
