package store

import (
	"context"
	"encoding/binary"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Due reports whether retention erases rec at now: it is past its
// valid_until, or older than maxAge (0: no limit) since it was created.
func (rec *BulletinRecord) Due(now time.Time, maxAge time.Duration) bool {
	if rec.ValidUntil != nil && !now.Before(*rec.ValidUntil) {
		return true
	}
	return maxAge > 0 && now.Sub(rec.Created) > maxAge
}

// Expire erases rec's content as retention does, keeping the tombstone.
func (rec *BulletinRecord) Expire(now time.Time) {
	rec.Expired, rec.ExpiredAt = true, now.UTC()
	rec.Bulletin, rec.ValidUntil, rec.BodySize, rec.Body = nil, nil, 0, ""
}

// expireBatch bounds the records erased in one transaction.
const expireBatch = 64

// Expire turns into tombstones the records due at now (see Due), maxAge
// giving each topic's limit, and returns how many it erased. Envelopes and
// author logs are kept, so that sync never fetches an erased bulletin
// again; the records stay as tombstones, out of every index.
func (s *Store) Expire(ctx context.Context, now time.Time, maxAge map[[32]byte]time.Duration) (int, error) {
	ids, err := s.expiryCandidates(now, maxAge)
	if err != nil {
		return 0, err
	}
	erased := 0
	for batch := range slices.Chunk(ids, expireBatch) {
		var n int
		err := s.Update(ctx, func(txn *badger.Txn) error {
			n = 0 // the function runs again if its group is retried
			for _, id := range batch {
				done, err := s.expireOne(txn, id, now, maxAge)
				if err != nil {
					return err
				}
				if done {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return erased, err
		}
		erased += n
	}
	return erased, nil
}

// expireOne erases one record if it is still due: the indexes only
// suggest candidates, the record decides.
func (s *Store) expireOne(txn *badger.Txn, id string, now time.Time, maxAge map[[32]byte]time.Duration) (bool, error) {
	old, err := findRecord(txn, id)
	if err != nil || old == nil || old.Expired || !old.Due(now, maxAge[old.Topic]) {
		return false, err
	}
	rec := *old
	rec.Expire(now)
	return true, s.index(txn, old, &rec)
}

// expiryCandidates walks the expiry index up to now and each limited
// topic's index up to its age limit, reading keys only.
func (s *Store) expiryCandidates(now time.Time, maxAge map[[32]byte]time.Duration) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	err := s.View(func(txn *badger.Txn) error {
		scan(txn, []byte{pfxExpiry}, func(k []byte) bool {
			if int64(binary.BigEndian.Uint64(k[:8])) > now.Unix() {
				return false
			}
			add(string(k[8:]))
			return true
		})
		for topic, age := range maxAge {
			if age <= 0 {
				continue
			}
			cutoff := now.Add(-age)
			scan(txn, key(pfxIndex, []byte{idxTopic}, topic[:], []byte{0}), func(k []byte) bool {
				created, id, ok := splitIndexKey(k)
				if ok && !created.Before(cutoff) {
					return false
				}
				if ok {
					add(id)
				}
				return true
			})
		}
		return nil
	})
	return ids, err
}

// scan calls fn with each key under prefix, without the prefix, in order,
// until fn returns false.
func scan(txn *badger.Txn, prefix []byte, fn func(k []byte) bool) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if !fn(it.Item().KeyCopy(nil)[len(prefix):]) {
			return
		}
	}
}
