package stix

import (
	"os"
	"testing"
)

// FuzzImport checks that no input panics Import and that every draft it
// returns is a valid bulletin draft.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"testdata/infrastructure.json"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(miniBundle))
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"x-thing","id":"x-thing--5d0092c5-5f74-4287-9642-33f4c354e56d"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		drafts, err := Import(data)
		if err != nil {
			return
		}
		for _, d := range drafts {
			if err := d.Draft.Validate(); err != nil {
				t.Fatalf("draft from %s is invalid: %v", d.Source, err)
			}
		}
	})
}
