package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TopicRecord is what the node keeps about a topic besides its log.
type TopicRecord struct {
	ID     [32]byte  `json:"id"`
	Joined time.Time `json:"joined"`
}

// PendingInvitation is an invitation this node issued and that has not
// been used yet.
type PendingInvitation struct {
	Topic   [32]byte  `json:"topic"`
	Invitee string    `json:"invitee"`
	Peer    string    `json:"peer"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
	// History overrides the topic's history policy for this invitee;
	// empty: the policy in force when the invitee joins.
	History string `json:"history,omitempty"`
}

// SaveTopic records a topic with its log entries and epoch keys in one
// durable write. Entries already stored are rewritten unchanged.
func (s *Store) SaveTopic(ctx context.Context, rec TopicRecord, entries map[uint64][]byte, keys map[uint64]string) error {
	return s.Update(ctx, func(txn *badger.Txn) error {
		return putTopic(txn, rec, maps.All(entries), keys)
	})
}

// putTopic writes a topic's record, log entries (by index) and epoch keys.
func putTopic[I int | uint64](txn *badger.Txn, rec TopicRecord, entries iter.Seq2[I, []byte], keys map[uint64]string) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := txn.Set(key(pfxTopic, rec.ID[:]), val); err != nil {
		return err
	}
	for i, raw := range entries {
		if err := txn.Set(key(pfxLog, rec.ID[:], u64(uint64(i))), raw); err != nil {
			return err
		}
	}
	for epoch, k := range keys {
		if err := txn.Set(key(pfxEpochKey, rec.ID[:], u64(epoch)), []byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// Topics returns every topic record.
func (s *Store) Topics() ([]TopicRecord, error) {
	var out []TopicRecord
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, []byte{pfxTopic}, func(_ []byte, val []byte) error {
			var r TopicRecord
			if err := json.Unmarshal(val, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// LogEntries returns a topic's log entries in index order.
func (s *Store) LogEntries(topic [32]byte) ([][]byte, error) {
	var out [][]byte
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, key(pfxLog, topic[:]), func(_ []byte, val []byte) error {
			out = append(out, val)
			return nil
		})
	})
	return out, err
}

// EpochKeys returns the epoch identities held for a topic.
func (s *Store) EpochKeys(topic [32]byte) (map[uint64]string, error) {
	out := map[uint64]string{}
	prefix := key(pfxEpochKey, topic[:])
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, prefix, func(k []byte, val []byte) error {
			out[binary.BigEndian.Uint64(k[len(prefix):])] = string(val)
			return nil
		})
	})
	return out, err
}

// PutPending records an issued invitation under its nonce.
func (s *Store) PutPending(ctx context.Context, nonce []byte, p PendingInvitation) error {
	val, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Update(ctx, func(txn *badger.Txn) error { return txn.Set(key(pfxPending, nonce), val) })
}

// ErrNotFound reports a missing record.
var ErrNotFound = errors.New("not found")

// Pending returns the pending invitation with this nonce.
func (s *Store) Pending(nonce []byte) (PendingInvitation, error) {
	var p PendingInvitation
	err := s.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key(pfxPending, nonce))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &p) })
	})
	return p, err
}

// AllPending returns every pending invitation by nonce.
func (s *Store) AllPending() (map[string]PendingInvitation, error) {
	out := map[string]PendingInvitation{}
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, []byte{pfxPending}, func(k []byte, val []byte) error {
			var p PendingInvitation
			if err := json.Unmarshal(val, &p); err != nil {
				return err
			}
			out[string(k[1:])] = p
			return nil
		})
	})
	return out, err
}

// DeletePending forgets an invitation (used, revoked or expired).
func (s *Store) DeletePending(ctx context.Context, nonce []byte) error {
	return s.Update(ctx, func(txn *badger.Txn) error { return txn.Delete(key(pfxPending, nonce)) })
}

// each calls fn with every key (copied) and value under prefix.
func each(txn *badger.Txn, prefix []byte, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		k := item.KeyCopy(nil)
		if err := item.Value(func(v []byte) error { return fn(k, v) }); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceTopic replaces a topic's whole log and epoch keys in one durable
// write: after a log fork is resolved against the branch this node held.
func (s *Store) ReplaceTopic(ctx context.Context, rec TopicRecord, entries [][]byte, keys map[uint64]string) error {
	return s.Update(ctx, func(txn *badger.Txn) error {
		for _, prefix := range [][]byte{key(pfxLog, rec.ID[:]), key(pfxEpochKey, rec.ID[:])} {
			var old [][]byte
			if err := each(txn, prefix, func(k, _ []byte) error { old = append(old, k); return nil }); err != nil {
				return err
			}
			for _, k := range old {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		return putTopic(txn, rec, slices.All(entries), keys)
	})
}
