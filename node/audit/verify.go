package audit

import (
	"errors"
	"fmt"
	"io/fs"
)

// Report is what Verify found. OK is true when every stored entry is
// intact and in place; otherwise BadIndex is the first entry altered,
// missing or out of place, and Problem says which.
type Report struct {
	OK       bool   `json:"ok"`
	Entries  int    `json:"entries"` // entries walked
	From     uint64 `json:"from"`    // the first index walked (after the anchor)
	Head     Head   `json:"head"`    // the last intact entry
	BadIndex uint64 `json:"bad_index,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Verify walks the chain from the anchor (or the start) and checks each
// entry's bytes, hash, index and link to the one before, then that the
// chain reaches the head file's entry.
func (l *Log) Verify() (Report, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	want := Head{Hash: zeroHash}
	a, err := l.anchor()
	if err != nil {
		return Report{}, err
	}
	if a != nil {
		want = *a
	}
	r := Report{From: want.Index + 1, Head: want}
	bad := func(idx uint64, format string, args ...any) error {
		r.BadIndex, r.Problem = idx, fmt.Sprintf("entry %d: ", idx)+fmt.Sprintf(format, args...)
		return errStop
	}
	err = l.b.AuditEntries(0, func(idx uint64, raw []byte) error {
		next := r.Head.Index + 1
		switch {
		case idx < next:
			return bad(idx, "stored below the anchor (entry %d), where pruning left none", r.Head.Index)
		case idx > next:
			return bad(next, "missing (the next stored entry is %d)", idx)
		}
		e, err := decode(raw)
		switch {
		case err != nil:
			return bad(idx, "altered: %v", err)
		case e.Index != idx:
			return bad(idx, "holds entry %d: entries were reordered", e.Index)
		case e.Prev != r.Head.Hash:
			return bad(idx, "does not follow entry %d: an entry before it was replaced, removed or reordered", r.Head.Index)
		}
		r.Head, r.Entries = Head{Index: idx, Hash: e.Hash}, r.Entries+1
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return r, err
	}
	if r.Problem == "" {
		r.checkHead(l)
	}
	r.OK = r.Problem == ""
	return r, nil
}

// checkHead compares the walked chain with the head the log wrote last:
// the stored tail may have been cut or rewritten.
func (r *Report) checkHead(l *Log) {
	if l.headPath == "" {
		return
	}
	h, err := ReadHead(l.headPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return // no entry written yet
	case err != nil:
		r.BadIndex, r.Problem = r.Head.Index+1, err.Error()
	case h.Index > r.Head.Index:
		r.BadIndex, r.Problem = r.Head.Index+1, fmt.Sprintf("entry %d: missing (the head file %s names entry %d)", r.Head.Index+1, l.headPath, h.Index)
	case h.Index == r.Head.Index && h.Hash != r.Head.Hash:
		r.BadIndex, r.Problem = h.Index, fmt.Sprintf("entry %d: its hash differs from the head file %s: the log was rewritten", h.Index, l.headPath)
	}
}
