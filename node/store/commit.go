package store

import (
	"context"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// ErrClosed reports a write to a closed store.
var ErrClosed = errors.New("store is closed")

// A write is one caller's transaction function, the bytes it is expected
// to write (0: small) and where to answer it.
type write struct {
	fn   func(txn *badger.Txn) error
	size int
	done chan error
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 256

// Update runs fn in a read-write transaction and returns once the result
// is durably committed. fn must do all its checks before it writes: if it
// returns an error, its group is retried without it. It fails with
// ErrDiskFull, writing nothing, while the disk is below the reserve.
func (s *Store) Update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	return s.update(ctx, 0, fn)
}

// update is Update for a write of about size bytes: groups are cut at
// MaxGroupBytes so that the disk reserve covers one whole group.
func (s *Store) update(ctx context.Context, size int, fn func(txn *badger.Txn) error) error {
	w := &write{fn: fn, size: size, done: make(chan error, 1)}
	// The read lock keeps Close from finishing while a write is being
	// queued, so every queued write is committed by the loop's final drain.
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		return ErrClosed
	}
	select {
	case s.writes <- w:
		s.closing.RUnlock()
	case <-ctx.Done():
		s.closing.RUnlock()
		return ctx.Err()
	}
	// Once queued, the write is committed or failed whatever ctx does:
	// wait for the answer so that an acknowledged write is never in doubt.
	return <-w.done
}

func (s *Store) commitLoop() {
	defer s.done.Done()
	for {
		select {
		case w := <-s.writes:
			s.run(w)
		case <-s.stop:
			s.drain()
			return
		}
	}
}

// run commits w and whatever else is already queued, group by group.
func (s *Store) run(w *write) {
	for w != nil {
		var group []*write
		group, w = s.gather(w)
		s.commit(group)
	}
}

// gather takes w and whatever else is already queued, up to maxGroup
// writes and MaxGroupBytes; it returns the write taken that did not fit.
func (s *Store) gather(w *write) (group []*write, next *write) {
	group, bytes := []*write{w}, w.size
	for len(group) < maxGroup {
		select {
		case next := <-s.writes:
			if bytes+next.size > MaxGroupBytes {
				return group, next
			}
			group, bytes = append(group, next), bytes+next.size
		default:
			return group, nil
		}
	}
	return group, nil
}

// drain commits what was queued before Close.
func (s *Store) drain() {
	for {
		select {
		case w := <-s.writes:
			s.run(w)
		default:
			return
		}
	}
}

// commit checks the free space once for a whole group, then commits it:
// below the reserve every write of the group fails and Badger writes
// nothing.
func (s *Store) commit(group []*write) {
	if err := s.checkDisk(); err != nil {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	s.commitGroup(group)
}

// commitGroup applies a group in one synced transaction. A write whose fn
// fails is answered with its error and the rest are retried without it; a
// group too big for one transaction is split.
func (s *Store) commitGroup(group []*write) {
	for len(group) > 0 {
		txn := s.db.NewTransaction(true)
		failed := -1
		var ferr error
		for i, w := range group {
			if err := w.fn(txn); err != nil {
				failed, ferr = i, err
				break
			}
		}
		if failed >= 0 {
			txn.Discard()
			if errors.Is(ferr, badger.ErrTxnTooBig) && failed > 0 {
				s.commitGroup(group[:failed])
				group = group[failed:]
				continue
			}
			group[failed].done <- ferr
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		err := txn.Commit()
		for _, w := range group {
			w.done <- err
		}
		return
	}
}
