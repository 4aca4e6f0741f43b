package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/concordnet/concord/node/audit"
)

// The store keeps the audit chain across a reopen, walks it in batches,
// and prunes it with its anchor.
func TestAuditBackend(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	head := filepath.Join(t.TempDir(), "audit.head")
	l, err := audit.Open(s, head)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	n := auditBatch*2 + 10
	for i := range n {
		if _, err := l.Append(audit.Entry{Time: t0.Add(time.Duration(i) * time.Millisecond), User: "bob", Action: "show", Outcome: audit.OK}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(dir, testKey(), quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, err = audit.Open(s, head); err != nil || l.Head().Index != uint64(n) {
		t.Fatalf("reopened head %+v, %v", l.Head(), err)
	}
	if r, err := l.Verify(); err != nil || !r.OK || r.Entries != n {
		t.Fatalf("verify: %+v %v", r, err)
	}
	if dropped, err := l.Prune(t0.Add(time.Duration(auditBatch) * time.Millisecond)); err != nil || dropped != auditBatch {
		t.Fatalf("prune: %d %v", dropped, err)
	}
	if r, err := l.Verify(); err != nil || !r.OK || r.From != auditBatch+1 {
		t.Fatalf("verify after prune: %+v %v", r, err)
	}
	// One byte edited in a stored entry is found.
	_, raw, _, _ := s.LastAudit()
	raw[len(raw)-3]++
	if err := s.PutAudit(uint64(n), raw); err != nil {
		t.Fatal(err)
	}
	if r, _ := l.Verify(); r.OK || r.BadIndex != uint64(n) {
		t.Fatalf("verify after an edit: %+v", r)
	}
}
