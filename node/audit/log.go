package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Backend stores the entries, by index, and the anchor pruning leaves.
// The node's store implements it (encrypted at rest); Memory is for tests.
type Backend interface {
	// PutAudit stores entry bytes at index.
	PutAudit(index uint64, entry []byte) error
	// AuditEntries calls fn for each stored entry from index from on, in
	// index order.
	AuditEntries(from uint64, fn func(index uint64, entry []byte) error) error
	// LastAudit returns the entry of the highest index; ok false if none.
	LastAudit() (index uint64, entry []byte, ok bool, err error)
	// PruneAudit deletes every entry below index before and stores
	// anchor, in one transaction.
	PruneAudit(before uint64, anchor []byte) error
	// AuditAnchor returns the stored anchor, nil if none.
	AuditAnchor() ([]byte, error)
}

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	mu       sync.Mutex
	b        Backend
	headPath string
	head     Head // the last entry, or the anchor, or zero
	now      func() time.Time
}

// Open opens the log on b; headPath ("" for none) is the file the chain
// head is written to after every entry.
func Open(b Backend, headPath string) (*Log, error) {
	l := &Log{b: b, headPath: headPath, now: time.Now, head: Head{Hash: zeroHash}}
	idx, raw, ok, err := b.LastAudit()
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	if ok {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("audit log entry %d is unreadable (run concord audit verify): %v", idx, err)
		}
		l.head = Head{Index: idx, Hash: e.Hash}
		return l, nil
	}
	if a, err := l.anchor(); err != nil {
		return nil, err
	} else if a != nil {
		l.head = *a
	}
	return l, nil
}

// anchor returns the head of the pruned part, nil if nothing was pruned.
func (l *Log) anchor() (*Head, error) {
	raw, err := l.b.AuditAnchor()
	if err != nil || raw == nil {
		return nil, err
	}
	var a Head
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("the audit log's anchor is unreadable: %v", err)
	}
	return &a, nil
}

// Append records e, filling its index, time (unless set), Prev and Hash,
// and returns it as stored.
func (l *Log) Append(e Entry) (Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Index, e.Prev = l.head.Index+1, l.head.Hash
	e = e.seal()
	if err := l.b.PutAudit(e.Index, e.Canonical()); err != nil {
		return e, fmt.Errorf("writing audit entry %d: %w", e.Index, err)
	}
	l.head = Head{Index: e.Index, Hash: e.Hash}
	return e, l.writeHead()
}

// Head returns the chain's head.
func (l *Log) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// writeHead replaces the head file, atomically.
func (l *Log) writeHead() error {
	if l.headPath == "" {
		return nil
	}
	b, _ := json.Marshal(l.head)
	tmp := filepath.Join(filepath.Dir(l.headPath), "."+filepath.Base(l.headPath)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the audit head %s: %w", l.headPath, err)
	}
	if err := os.Rename(tmp, l.headPath); err != nil {
		return fmt.Errorf("writing the audit head %s: %w", l.headPath, err)
	}
	return nil
}

// ReadHead reads a head file.
func ReadHead(path string) (Head, error) {
	var h Head
	b, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("audit head %s is not {\"index\":N,\"hash\":\"…\"}: %v", path, err)
	}
	return h, nil
}

// Filter selects entries; zero fields select all.
type Filter struct {
	Since  time.Time
	User   string
	Action string
}

func (f Filter) match(e Entry) bool {
	return (f.Since.IsZero() || !e.Time.Before(f.Since)) &&
		(f.User == "" || e.User == f.User) &&
		(f.Action == "" || e.Action == f.Action)
}

// Entries calls fn for each entry f selects, oldest first. Entries that
// do not decode are skipped: Verify reports them.
func (l *Log) Entries(f Filter, fn func(Entry) error) error {
	return l.b.AuditEntries(0, func(_ uint64, raw []byte) error {
		var e Entry
		if json.Unmarshal(raw, &e) != nil || !f.match(e) {
			return nil
		}
		return fn(e)
	})
}

// errStop ends a walk early.
var errStop = errors.New("stop")

// pruneBatch bounds the entries one PruneAudit drops, to keep a store
// transaction small.
const pruneBatch = 1000

// Prune drops the entries older than cutoff, keeping as anchor the index
// and hash of the last one dropped so that Verify walks on from it. It
// returns how many it dropped.
func (l *Log) Prune(cutoff time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for {
		n, more, err := l.pruneSome(cutoff)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// pruneSome drops up to pruneBatch entries older than cutoff, with their
// anchor in the same transaction; more says whether it stopped at the
// batch's bound.
func (l *Log) pruneSome(cutoff time.Time) (n int, more bool, err error) {
	var last *Head
	err = l.b.AuditEntries(0, func(idx uint64, raw []byte) error {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("audit entry %d is unreadable, pruning stops (run concord audit verify): %v", idx, err)
		}
		if !e.Time.Before(cutoff) {
			return errStop
		}
		if n == pruneBatch {
			more = true
			return errStop
		}
		last, n = &Head{Index: idx, Hash: e.Hash}, n+1
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, false, err
	}
	if last == nil {
		return 0, false, nil
	}
	anchor, _ := json.Marshal(last)
	return n, more, l.b.PruneAudit(last.Index+1, anchor)
}
