package store

import (
	"context"
	"errors"
	"testing"
)

// TestImports checks the record that keeps an import from publishing
// twice: absent, then found, and it survives a reopen.
func TestImports(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := "report--0c8d7a5e-7d2e-4c4f-9b7e-5f3c2a1b0d9e"
	if _, err := s.Import(src); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Import before PutImport: %v, want ErrNotFound", err)
	}
	if err := s.PutImport(ctx, src, "abcdefghijklmnopqrstuvwxyz"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutImport(ctx, "", "abcdefghijklmnopqrstuvwxyz"); err == nil {
		t.Fatal("PutImport accepted an empty source")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, testKey(), quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.Import(src)
	if err != nil || id != "abcdefghijklmnopqrstuvwxyz" {
		t.Fatalf("Import after reopen = %q, %v", id, err)
	}
	if _, err := s.Import("misp-event:other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Import of another source: %v, want ErrNotFound", err)
	}
}
