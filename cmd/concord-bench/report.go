package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Report is the JSON written by -out. Its shape is fixed by the benchmark
// issue so that runs can be compared over time; only Skipped is extra, and
// only on a scenario that could not be measured.
type Report struct {
	Machine   Machine    `json:"machine"`
	Scenarios []Scenario `json:"scenarios"`

	// notes are printed under the Markdown table (details the fixed JSON
	// shape has no room for: max latency, RssAnon, ...).
	notes []string
}

// Machine describes where the numbers were measured.
type Machine struct {
	Cores int    `json:"cores"`
	Go    string `json:"go"`
	OS    string `json:"os"`
}

// Scenario is one row: ratio is always concord / baseline; the unit says
// which way is better (ms, bytes, MiB: lower; per_s, ratio: higher).
// Numbers are pointers so that a skipped scenario holds null, not a
// made-up zero.
type Scenario struct {
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	Concord  *float64 `json:"concord"`
	Baseline *float64 `json:"baseline"`
	Ratio    *float64 `json:"ratio"`
	Skipped  string   `json:"skipped,omitempty"`
}

// Units of the report.
const (
	unitMs    = "ms"
	unitMiB   = "MiB"
	unitPerS  = "per_s"
	unitRatio = "ratio"
)

func newReport() *Report {
	return &Report{Machine: Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS}}
}

// add records a measured scenario. A zero baseline leaves the ratio null
// rather than infinite, which JSON cannot hold.
func (r *Report) add(name, unit string, concord, baseline float64) {
	s := Scenario{Name: name, Unit: unit, Concord: num(concord), Baseline: num(baseline)}
	if baseline != 0 {
		s.Ratio = num(concord / baseline)
	}
	r.Scenarios = append(r.Scenarios, s)
}

// addAlone records a measurement that has no baseline (a rotation, a
// partition repaired: plain GossipSub does neither): baseline and ratio
// are null.
func (r *Report) addAlone(name, unit string, concord float64) {
	r.Scenarios = append(r.Scenarios, Scenario{Name: name, Unit: unit, Concord: num(concord)})
}

// skip records a scenario that could not be measured, and why.
func (r *Report) skip(name, unit, why string) {
	r.Scenarios = append(r.Scenarios, Scenario{Name: name, Unit: unit, Skipped: why})
}

func (r *Report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// num rounds to four significant digits: more is noise on this kind of
// measurement, and it keeps the JSON readable.
func num(v float64) *float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		z := 0.0
		return &z
	}
	scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	r := math.Round(v*scale) / scale
	return &r
}

func (r *Report) writeJSON(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.writeJSONTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (r *Report) writeJSONTo(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeMarkdown prints the table and the notes.
func (r *Report) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Machine: %d cores, %s, %s\n\n", r.Machine.Cores, r.Machine.Go, r.Machine.OS)
	fmt.Fprintln(w, "| scenario | unit | concord | baseline | ratio | better |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
	for _, s := range r.Scenarios {
		if s.Skipped != "" {
			fmt.Fprintf(w, "| %s | %s | – | – | – | skipped: %s |\n", s.Name, s.Unit, s.Skipped)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", s.Name, s.Unit, show(s.Concord), show(s.Baseline), show(s.Ratio), better(s.Unit))
	}
	if len(r.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func show(v *float64) string {
	if v == nil {
		return "–"
	}
	if *v == math.Trunc(*v) && math.Abs(*v) < 1e15 {
		return strconv.FormatInt(int64(*v), 10) // counts print whole, not as 4.8e+08
	}
	return strings.TrimSuffix(fmt.Sprintf("%g", *v), ".0")
}

func better(unit string) string {
	if unit == unitPerS || unit == unitRatio {
		return "higher"
	}
	return "lower"
}
