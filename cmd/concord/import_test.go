package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

func TestDetectFormat(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{`{"type": "bundle", "id": "bundle--x", "objects": []}`, "stix", ""},
		{` {"Event": {"info": "x"}}`, "misp", ""},
		{`{"response": [{"Event": {}}]}`, "misp", ""},
		{`[{"Event": {}}, {"Event": {}}]`, "misp", ""},
		{`[{"Event": {}}, {"type": "report"}]`, "", "not all MISP events"},
		{`{"type": "report"}`, "", "unknown format"},
		{`[]`, "", "unknown format"},
		{`"bundle"`, "", "unknown format"},
		{`{"type": "bundle"`, "", "not JSON"},
		{``, "", "not JSON"},
	} {
		got, err := detectFormat([]byte(c.in))
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("detectFormat(%q) = %q, %v; want %q, error containing %q", c.in, got, err, c.want, c.err)
		}
	}
}

func TestDraftNames(t *testing.T) {
	drafts := []interop.Draft{
		{Draft: protocol.BulletinDraft{Title: "Cocaine shipment expected at Lagos port"}},
		{Draft: protocol.BulletinDraft{Title: "Cocaine shipment: expected at LAGOS port!"}},
		{Draft: protocol.BulletinDraft{Title: "../../etc/passwd"}},
		{Draft: protocol.BulletinDraft{Title: "«» —"}},
		{Draft: protocol.BulletinDraft{Title: "Équipe d'Abidjan " + strings.Repeat("x", 100)}},
	}
	got := draftNames(drafts)
	want := []string{"cocaine-shipment-expected-at-lagos-port", "cocaine-shipment-expected-at-lagos-port-2", "etc-passwd", "draft"}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("name %d = %q, want %q", i, got[i], w)
		}
	}
	if !strings.HasPrefix(got[4], "équipe-d-abidjan-x") || len(got[4]) > 62 {
		t.Errorf("long title named %q: want a prefix of about 60 bytes", got[4])
	}
}

// TestReadBounded refuses a file over the limit from its size, without
// reading it: the sparse file here would take 100 MiB to read.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := readBounded(big, maxImportBytes); err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("readBounded(100 MiB) = %v, want a size error", err)
	}
	small := filepath.Join(dir, "small.json")
	os.WriteFile(small, []byte(`{}`), 0o600)
	if data, err := readBounded(small, maxImportBytes); err != nil || string(data) != "{}" {
		t.Fatalf("readBounded(small) = %q, %v", data, err)
	}
	if _, err := readBounded(dir, maxImportBytes); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("readBounded(directory) = %v, want a not-regular error", err)
	}
}
