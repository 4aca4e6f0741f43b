package store

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// Beyond is what a node holds of a former member's log on a topic past
// the seq its removal (or leave) pinned: envelopes it accepted before it
// knew of the removal, which the members that learnt of it first refused.
type Beyond struct {
	Envelopes map[[32]byte]uint64 // envelope ID → seq, every one above the pin
	Records   []BulletinRecord    // records whose history names one of them
}

// Beyond returns author's envelopes on topic above pin and the records
// they touched. Records are found through the originator index, which
// holds every record the author made that retention has not erased
// (an expired record has no content left to correct).
func (s *Store) Beyond(topic [32]byte, author string, pin uint64) (*Beyond, error) {
	out := &Beyond{Envelopes: map[[32]byte]uint64{}}
	err := s.View(func(txn *badger.Txn) error {
		if err := eachAbove(txn, topic, author, pin, func(seq uint64, v []byte) error {
			out.Envelopes[[32]byte(logID(v))] = seq
			return nil
		}); err != nil || len(out.Envelopes) == 0 {
			return err
		}
		recs, err := recordsTouching(txn, topic, author, out.Envelopes)
		out.Records = recs
		return err
	})
	return out, err
}

// eachAbove calls fn with every author log entry of author on topic above
// seq pin, in seq order.
func eachAbove(txn *badger.Txn, topic [32]byte, author string, pin uint64, fn func(seq uint64, v []byte) error) error {
	prefix := key(pfxAuthorLog, topic[:], []byte(author))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(authorKey(topic, author, pin+1)); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+8 {
			continue // another author whose ID starts with this one
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := fn(binary.BigEndian.Uint64(k[len(prefix):]), v); err != nil {
			return err
		}
	}
	return nil
}

// recordsTouching returns author's records on topic whose history names
// an envelope in ids.
func recordsTouching(txn *badger.Txn, topic [32]byte, author string, ids map[[32]byte]uint64) ([]BulletinRecord, error) {
	prefix := key(pfxIndex, []byte{idxOriginator}, []byte(author), []byte{0})
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	var out []BulletinRecord
	for it.Rewind(); it.Valid(); it.Next() {
		_, id, ok := splitIndexKey(it.Item().Key()[len(prefix):])
		if !ok {
			continue
		}
		rec, err := getRecord(txn, id)
		if err != nil {
			return nil, err
		}
		if rec.Topic == topic && slices.ContainsFunc(rec.History, func(r Revision) bool { _, gone := ids[r.Envelope]; return gone }) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// Purge deletes author's envelopes on topic above pin (their bytes, their
// place in the author's log and any equivocation evidence, and their
// charge to the author's usage), and replaces each record named in
// rebuilt by the merge of the records listed for it: the single-envelope
// records of the versions and revocations it keeps. A record listed with
// none is deleted with its indexes. All of it is one transaction; it
// returns the number of envelopes deleted.
func (s *Store) Purge(ctx context.Context, topic [32]byte, author string, pin uint64, rebuilt map[string][]*BulletinRecord) (int, error) {
	var n int
	err := s.update(ctx, 0, func(txn *badger.Txn) error {
		var err error
		if n, err = s.purgeEnvelopes(txn, topic, author, pin); err != nil {
			return err
		}
		for id, parts := range rebuilt {
			if err := s.rebuild(txn, id, parts); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// purgeEnvelopes deletes author's envelopes above pin and uncharges them.
func (s *Store) purgeEnvelopes(txn *badger.Txn, topic [32]byte, author string, pin uint64) (int, error) {
	var keys [][]byte
	var count, size uint64
	drop := func(k []byte, bytes int) {
		keys = append(keys, k)
		count, size = count+1, size+uint64(bytes)
	}
	err := eachAbove(txn, topic, author, pin, func(seq uint64, v []byte) error {
		envKey := key(pfxEnvelope, logID(v))
		raw, err := getValue(txn, envKey)
		if err != nil {
			return err
		}
		drop(envKey, len(raw))
		keys = append(keys, authorKey(topic, author, seq))
		return eachEvidence(txn, topic, author, seq, drop)
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), s.uncharge(txn, topic, author, count, size)
}

// eachEvidence calls drop with the key and size of the equivocation
// evidence held for author's seq.
func eachEvidence(txn *badger.Txn, topic [32]byte, author string, seq uint64, drop func(k []byte, size int)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: evidenceKey(topic, author, seq, nil)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		drop(it.Item().KeyCopy(nil), int(it.Item().ValueSize()))
	}
	return nil
}

// uncharge takes count envelopes of size bytes off author's usage.
func (s *Store) uncharge(txn *badger.Txn, topic [32]byte, author string, count, size uint64) error {
	c, used, err := readUsage(txn, topic, author)
	if err != nil {
		return err
	}
	return txn.Set(usageKey(topic, author), usageValue(c-min(c, count), used-min(used, size)))
}

// rebuild replaces record id by the merge of parts, or deletes it when
// parts is empty.
func (s *Store) rebuild(txn *badger.Txn, id string, parts []*BulletinRecord) error {
	old, err := findRecord(txn, id)
	if err != nil || old == nil {
		return err
	}
	var rec *BulletinRecord
	for _, p := range parts {
		next, err := merge(rec, p)
		switch {
		case errors.Is(err, ErrNotOriginator) || errors.Is(err, ErrBadRevision):
			continue // refused when it arrived too (see PutEnvelope)
		case err != nil:
			return err
		}
		rec = next
	}
	if rec == nil {
		return s.unindex(txn, old)
	}
	return s.index(txn, old, rec)
}
