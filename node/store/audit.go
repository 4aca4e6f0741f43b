package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// The audit log (node/audit) is kept here, encrypted at rest with the
// rest, never synced. The Store is its audit.Backend.
//
//	'U' index(8)          → audit entry (canonical JSON)
//	'm' "audit-anchor"    → the last pruned entry's index and hash (JSON)
const pfxAudit = 'U'

var auditAnchorKey = key(pfxMeta, []byte("audit-anchor"))

// auditBatch bounds the entries one read transaction walks.
const auditBatch = 256

// PutAudit stores audit entry bytes at index.
func (s *Store) PutAudit(index uint64, entry []byte) error {
	return s.Update(context.Background(), func(txn *badger.Txn) error {
		return txn.Set(key(pfxAudit, u64(index)), entry)
	})
}

// AuditEntries calls fn for each audit entry from index from on, in
// order, a batch of entries per read transaction.
func (s *Store) AuditEntries(from uint64, fn func(index uint64, entry []byte) error) error {
	for {
		var idx []uint64
		var vals [][]byte
		err := s.View(func(txn *badger.Txn) error {
			return eachFrom(txn, []byte{pfxAudit}, key(pfxAudit, u64(from)), auditBatch, func(k, v []byte) error {
				idx, vals = append(idx, binary.BigEndian.Uint64(k[1:])), append(vals, bytes.Clone(v))
				return nil
			})
		})
		if err != nil {
			return err
		}
		for i := range idx {
			if err := fn(idx[i], vals[i]); err != nil {
				return err
			}
		}
		if len(idx) < auditBatch {
			return nil
		}
		from = idx[len(idx)-1] + 1
	}
}

// LastAudit returns the audit entry of the highest index.
func (s *Store) LastAudit() (index uint64, entry []byte, ok bool, err error) {
	err = s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxAudit}, Reverse: true})
		defer it.Close()
		it.Seek(key(pfxAudit, u64(^uint64(0))))
		if !it.Valid() {
			return nil
		}
		index, ok = binary.BigEndian.Uint64(it.Item().Key()[1:]), true
		entry, err = it.Item().ValueCopy(nil)
		return err
	})
	return
}

// PruneAudit deletes the audit entries below index before and stores
// anchor, in one transaction.
func (s *Store) PruneAudit(before uint64, anchor []byte) error {
	return s.Update(context.Background(), func(txn *badger.Txn) error {
		var doomed [][]byte
		err := eachFrom(txn, []byte{pfxAudit}, []byte{pfxAudit}, int(min(before, 1<<20)), func(k, _ []byte) error {
			if binary.BigEndian.Uint64(k[1:]) >= before {
				return errStopWalk
			}
			doomed = append(doomed, k)
			return nil
		})
		if err != nil && !errors.Is(err, errStopWalk) {
			return err
		}
		for _, k := range doomed {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(auditAnchorKey, anchor)
	})
}

var errStopWalk = errors.New("stop")

// AuditAnchor returns the stored audit anchor, nil if none.
func (s *Store) AuditAnchor() ([]byte, error) {
	var v []byte
	err := s.View(func(txn *badger.Txn) error {
		item, err := txn.Get(auditAnchorKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	return v, err
}
