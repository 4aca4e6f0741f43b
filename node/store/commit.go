package store

import (
	"context"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// ErrClosed reports a write to a closed store.
var ErrClosed = errors.New("store is closed")

// A write is one caller's transaction function and where to answer it.
type write struct {
	fn   func(txn *badger.Txn) error
	done chan error
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 256

// Update runs fn in a read-write transaction and returns once the result
// is durably committed. fn must do all its checks before it writes: if it
// returns an error, its group is retried without it.
func (s *Store) Update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
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
			s.commitGroup(s.gather(w))
		case <-s.stop:
			s.drain()
			return
		}
	}
}

// gather takes w and whatever else is already queued, up to maxGroup.
func (s *Store) gather(w *write) []*write {
	group := []*write{w}
	for len(group) < maxGroup {
		select {
		case next := <-s.writes:
			group = append(group, next)
		default:
			return group
		}
	}
	return group
}

// drain commits what was queued before Close.
func (s *Store) drain() {
	for {
		select {
		case w := <-s.writes:
			s.commitGroup(s.gather(w))
		default:
			return
		}
	}
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
