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
	v, err := s.authorEntry(topic, author, seq)
	if err == nil && len(v) != 64 {
		err = fmt.Errorf("the author log entry of seq %d keeps no prev", seq)
	}
	if err != nil {
		return [32]byte{}, err
	}
	return [32]byte(v[32:]), nil
}

// EnvelopeAt returns the envelope ID of author's envelope seq on a topic.
func (s *Store) EnvelopeAt(topic [32]byte, author string, seq uint64) ([32]byte, error) {
	v, err := s.authorEntry(topic, author, seq)
	if err == nil && len(v) < 32 {
		err = fmt.Errorf("corrupt author log entry of seq %d", seq)
	}
	if err != nil {
		return [32]byte{}, err
	}
	return [32]byte(logID(v)), nil
}

// authorEntry returns author's log entry at seq (see logValue).
func (s *Store) authorEntry(topic [32]byte, author string, seq uint64) ([]byte, error) {
	var v []byte
	err := s.View(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, authorKey(topic, author, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		return err
	})
	return v, err
}
