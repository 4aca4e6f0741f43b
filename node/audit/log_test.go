package audit

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fill opens a log on a fresh Memory and appends n entries, one a minute
// from t0.
func fill(t *testing.T, n int) (*Log, *Memory, time.Time) {
	t.Helper()
	m := NewMemory()
	l, err := Open(m, filepath.Join(t.TempDir(), "audit.head"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if _, err := l.Append(Entry{Time: t0.Add(time.Duration(i) * time.Minute), User: "bob", UID: 1001, Action: "show", Bulletin: "b1", Outcome: OK}); err != nil {
			t.Fatal(err)
		}
	}
	return l, m, t0
}

func verify(t *testing.T, l *Log) Report {
	t.Helper()
	r, err := l.Verify()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantBad(t *testing.T, l *Log, idx uint64, problem string) {
	t.Helper()
	r := verify(t, l)
	if r.OK || r.BadIndex != idx || !strings.Contains(r.Problem, problem) {
		t.Fatalf("verify = %+v, want entry %d %q", r, idx, problem)
	}
}

func TestChainIntact(t *testing.T) {
	l, m, _ := fill(t, 5)
	r := verify(t, l)
	if !r.OK || r.Entries != 5 || r.Head != l.Head() || r.From != 1 {
		t.Fatalf("verify = %+v, head %+v", r, l.Head())
	}
	var prev string
	for i := uint64(1); i <= 5; i++ {
		e, err := decode(m.Stored[i])
		if err != nil || e.Index != i || (i > 1 && e.Prev != prev) || (i == 1 && e.Prev != zeroHash) {
			t.Fatalf("entry %d: %+v %v", i, e, err)
		}
		prev = e.Hash
	}
	h, err := ReadHead(l.headPath)
	if err != nil || h != l.Head() {
		t.Fatalf("head file %+v %v, want %+v", h, err, l.Head())
	}
	// A reopened log continues the chain.
	l2, err := Open(m, l.headPath)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := l2.Append(Entry{User: "alice", Action: "list", Outcome: OK}); err != nil || e.Index != 6 || e.Prev != prev {
		t.Fatalf("append after reopen: %+v %v", e, err)
	}
	if r := verify(t, l2); !r.OK || r.Entries != 6 {
		t.Fatalf("verify after reopen: %+v", r)
	}
}

func TestVerifyFindsOneByteEdited(t *testing.T) {
	for _, pos := range []string{`"bob"`, `"show"`, `"prev"`, `"hash"`} {
		l, m, _ := fill(t, 5)
		b := m.Stored[3]
		i := strings.Index(string(b), pos) + len(pos) + 2
		b[i]++
		wantBad(t, l, 3, "altered")
	}
}

func TestVerifyFindsDeletedEntry(t *testing.T) {
	l, m, _ := fill(t, 5)
	delete(m.Stored, 2)
	wantBad(t, l, 2, "missing")
}

func TestVerifyFindsDeletedTail(t *testing.T) {
	l, m, _ := fill(t, 5)
	delete(m.Stored, 5)
	wantBad(t, l, 5, "missing")
}

func TestVerifyFindsReorderedEntries(t *testing.T) {
	l, m, _ := fill(t, 5)
	m.Stored[2], m.Stored[4] = m.Stored[4], m.Stored[2]
	wantBad(t, l, 2, "reordered")
}

// An entry rewritten with a fresh hash breaks the link of the next one.
func TestVerifyFindsRehashedEntry(t *testing.T) {
	l, m, _ := fill(t, 5)
	e, _ := decode(m.Stored[2])
	e.User = "mallory"
	m.Stored[2] = e.seal().Canonical()
	wantBad(t, l, 3, "does not follow entry 2")
}

// A whole chain rewritten from some entry on differs from the head file.
func TestVerifyFindsRewrittenTail(t *testing.T) {
	l, m, _ := fill(t, 5)
	e, _ := decode(m.Stored[5])
	e.User = "mallory"
	m.Stored[5] = e.seal().Canonical()
	wantBad(t, l, 5, "head file")
}

func TestRetentionKeepsVerifyWorking(t *testing.T) {
	l, m, t0 := fill(t, 10)
	n, err := l.Prune(t0.Add(4*time.Minute + time.Second))
	if err != nil || n != 5 {
		t.Fatalf("prune = %d, %v; want 5", n, err)
	}
	if len(m.Stored) != 5 || m.Stored[5] != nil || m.Stored[6] == nil {
		t.Fatalf("stored after prune: %d entries", len(m.Stored))
	}
	if r := verify(t, l); !r.OK || r.From != 6 || r.Entries != 5 {
		t.Fatalf("verify after prune: %+v", r)
	}
	l2, err := Open(m, l.headPath)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := l2.Append(Entry{User: "bob", Action: "list", Outcome: OK}); err != nil || e.Index != 11 {
		t.Fatalf("append after prune: %+v %v", e, err)
	}
	delete(m.Stored, 6)
	wantBad(t, l2, 6, "missing")

	// Pruning everything leaves the anchor, which the next entry follows.
	l3, m3, t3 := fill(t, 3)
	if n, err := l3.Prune(t3.Add(time.Hour)); err != nil || n != 3 || len(m3.Stored) != 0 {
		t.Fatalf("prune all = %d, %v, %d left", n, err, len(m3.Stored))
	}
	l4, _ := Open(m3, l3.headPath)
	if e, _ := l4.Append(Entry{User: "bob", Action: "list", Outcome: OK}); e.Index != 4 {
		t.Fatalf("append after pruning all: index %d", e.Index)
	}
	if r := verify(t, l4); !r.OK || r.From != 4 || r.Entries != 1 {
		t.Fatalf("verify after pruning all: %+v", r)
	}
}

func TestEntriesFilter(t *testing.T) {
	l, _, t0 := fill(t, 4)
	l.Append(Entry{User: "alice", Action: "publish", Outcome: Refused, Class: "forbidden"})
	count := func(f Filter) int {
		n := 0
		l.Entries(f, func(Entry) error { n++; return nil })
		return n
	}
	if a, u, s, all := count(Filter{Action: "publish"}), count(Filter{User: "bob"}), count(Filter{Since: t0.Add(2 * time.Minute)}), count(Filter{}); a != 1 || u != 4 || s != 3 || all != 5 {
		t.Fatalf("filters: action %d user %d since %d all %d", a, u, s, all)
	}
}

// FuzzDecode: stored bytes are read back by verify; nothing panics, and
// what decodes re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	e := Entry{Index: 1, User: "bob", Action: "show", Outcome: OK, Prev: zeroHash}.seal()
	f.Add(e.Canonical())
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decode(b); err == nil && string(e.Canonical()) != string(b) {
			t.Fatalf("decoded %q re-encodes differently", b)
		}
	})
}
