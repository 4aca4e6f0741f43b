package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// PrevAt returns the prev (the envelope ID of seq-1) of author's envelope
// seq on a topic, as its author log entry keeps it. It is ErrNotFound when
// seq is not stored, and an error when the entry predates prev being kept.
func (s *Store) PrevAt(topic [32]byte, author string, seq uint64) ([32]byte, error) {
	var prev [32]byte
	err := s.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, authorKey(topic, author, seq))
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			return ErrNotFound
		case err != nil:
			return err
		case len(v) != 64:
			return fmt.Errorf("the author log entry of seq %d keeps no prev", seq)
		}
		copy(prev[:], v[32:])
		return nil
	})
	return prev, err
}

// EnvelopeAt returns the envelope ID of author's envelope seq on a topic.
func (s *Store) EnvelopeAt(topic [32]byte, author string, seq uint64) ([32]byte, error) {
	var id [32]byte
	err := s.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, authorKey(topic, author, seq))
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			return ErrNotFound
		case err != nil:
			return err
		}
		copy(id[:], logID(v))
		return nil
	})
	return id, err
}
