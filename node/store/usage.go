package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ErrQuota reports an envelope refused because its author has used its
// share of this node's disk on the topic.
var ErrQuota = errors.New("storage quota exceeded")

// SetAuthorQuota bounds the bytes of envelopes (equivocation evidence
// included) stored per author and topic; 0 removes the bound. Envelopes
// already stored are kept: the quota refuses only new ones.
func (s *Store) SetAuthorQuota(maxBytes uint64) { s.quota.Store(maxBytes) }

// AuthorUsage returns how many envelopes of author are stored for a topic
// (equivocation evidence included) and their bytes.
func (s *Store) AuthorUsage(topic [32]byte, author string) (count, bytes uint64, err error) {
	err = s.View(func(txn *badger.Txn) error {
		count, bytes, err = readUsage(txn, topic, author)
		return err
	})
	return count, bytes, err
}

func usageKey(topic [32]byte, author string) []byte {
	return key(pfxUsage, topic[:], []byte(author))
}

// readUsage reads a counter in txn: the group committer may run a write
// again in a new transaction, so a counter is never cached outside one.
func readUsage(txn *badger.Txn, topic [32]byte, author string) (count, bytes uint64, err error) {
	return readPair(txn, usageKey(topic, author), func() error {
		return fmt.Errorf("corrupt usage counter of member %s on topic %x: the store is damaged: restore it from a backup (concord restore)", author, topic)
	})
}

// usageValue encodes two counters; readPair reads them back.
func usageValue(count, bytes uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), count), bytes)
}

// readPair reads the two counters of usageValue at k, both 0 if k is
// absent; corrupt makes the error for a value of another size.
func readPair(txn *badger.Txn, k []byte, corrupt func() error) (a, b uint64, err error) {
	v, err := getValue(txn, k)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return 0, 0, nil
	case err != nil:
		return 0, 0, err
	case len(v) != 16:
		return 0, 0, corrupt()
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), nil
}

// charge counts an envelope of size bytes against its author, in the
// transaction that stores it, or returns ErrQuota if it does not fit.
func (s *Store) charge(txn *badger.Txn, topic [32]byte, author string, size int) error {
	count, used, err := readUsage(txn, topic, author)
	if err != nil {
		return err
	}
	if quota := s.quota.Load(); quota > 0 && used+uint64(size) > quota {
		return fmt.Errorf("%w: member %s has used %d of its %d bytes on topic %x; its envelope of %d bytes is not stored (raise the per-member quota, or remove the member from the topic)",
			ErrQuota, author, used, quota, topic, size)
	}
	return txn.Set(usageKey(topic, author), usageValue(count+1, used+uint64(size)))
}
