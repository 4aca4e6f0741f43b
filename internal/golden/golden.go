// Package golden reads and writes the test vectors of the byte-exact
// formats (docs/protocol.md, Appendix C) for the tests of crypto and
// protocol: JSON files under testdata, the bytes as hex beside their
// CBOR read as the spec's reader sees it (canon.Diagnostic).
package golden

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/concordnet/concord/internal/canon"
)

// Read decodes the JSON file at path into v; any test reading JSON
// fixtures may use it.
func Read(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Write writes v as indented JSON to testdata/name when update is set.
func Write(t testing.TB, update bool, name string, v any) {
	t.Helper()
	if !update {
		return
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Diag is data's CBOR read as the spec's reader sees it, as JSON.
func Diag(t testing.TB, data []byte) json.RawMessage {
	t.Helper()
	v, err := canon.Diagnostic(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SameFields reports an error when data's CBOR does not read as the
// fields a vector stores.
func SameFields(t testing.TB, what string, data []byte, want json.RawMessage) {
	t.Helper()
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	norm, _ := json.Marshal(w)
	if got := Diag(t, data); string(got) != string(norm) {
		t.Errorf("%s: decoded fields differ\n got %s\nwant %s", what, got, norm)
	}
}

// Unhex decodes a vector's hex.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
