package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// EnvelopeRef places an envelope in its author's log.
type EnvelopeRef struct {
	Topic  [32]byte
	Author string
	Seq    uint64
	Prev   []byte // envelope ID of seq-1; empty for seq 1
	ID     [32]byte
}

// BulletinRecord is the indexed, decrypted view of a bulletin: its latest
// version, and the history of every envelope about it. A member outside a
// restricted audience holds a Sealed record: it knows the bulletin exists,
// not its content. A revoked or expired record is a tombstone: its
// content (Bulletin, ValidUntil) is erased, the rest is kept.
type BulletinRecord struct {
	ID         string          `json:"id"`
	Topic      [32]byte        `json:"topic"`
	Category   string          `json:"category"`
	Envelope   [32]byte        `json:"envelope"` // the envelope of the version held
	Author     string          `json:"author"`
	Seq        uint64          `json:"seq"`
	Kind       string          `json:"kind"`
	Version    int             `json:"version,omitempty"`
	Created    time.Time       `json:"created"`
	Modified   time.Time       `json:"modified,omitzero"`
	ValidUntil *time.Time      `json:"valid_until,omitempty"`
	Received   time.Time       `json:"received"`
	RecvSeq    uint64          `json:"recv_seq"`
	Audience   []string        `json:"audience,omitempty"`
	Sealed     bool            `json:"sealed"`
	Bulletin   json.RawMessage `json:"bulletin,omitempty"`

	History   []Revision `json:"history,omitempty"`
	Revoked   bool       `json:"revoked,omitempty"`
	Reason    string     `json:"reason,omitempty"` // the revocation's
	RevokedAt time.Time  `json:"revoked_at,omitzero"`
	Expired   bool       `json:"expired,omitempty"` // erased here by retention
	ExpiredAt time.Time  `json:"expired_at,omitzero"`
}

// PutResult says what PutEnvelope did.
type PutResult int

// Outcomes of PutEnvelope.
const (
	Stored       PutResult = iota // new envelope, stored and indexed
	Duplicate                     // the same envelope was already stored
	Equivocation                  // another envelope holds this (topic, author, seq): kept as evidence only
)

// ErrBrokenChain reports an envelope whose prev does not match the stored
// envelope before it.
var ErrBrokenChain = errors.New("prev does not match the author's stored envelope at seq-1")

// PutEnvelope durably stores an envelope exactly as received, places it in
// its author's log and, when rec is not nil, merges the bulletin record it
// makes alone into the stored record of that bulletin (see merge), all in
// one transaction. When Stored, rec is replaced by the merged record.
func (s *Store) PutEnvelope(ctx context.Context, ref EnvelopeRef, raw []byte, rec *BulletinRecord) (PutResult, error) {
	var result PutResult
	var merged *BulletinRecord
	err := s.Update(ctx, func(txn *badger.Txn) error {
		var err error
		result, merged, err = s.putEnvelope(txn, ref, raw, rec)
		return err
	})
	// Copied only now: a group that is retried runs the function again,
	// which must then merge the envelope's own record, not a merged one.
	if err == nil && merged != nil {
		*rec = *merged
	}
	return result, err
}

func (s *Store) putEnvelope(txn *badger.Txn, ref EnvelopeRef, raw []byte, rec *BulletinRecord) (PutResult, *BulletinRecord, error) {
	logKey := authorKey(ref.Topic, ref.Author, ref.Seq)
	existing, err := getValue(txn, logKey)
	switch {
	case err == nil && bytes.Equal(logID(existing), ref.ID[:]):
		return Duplicate, nil, nil
	case err == nil:
		evidence := key(pfxEquivocated, ref.Topic[:], []byte(ref.Author), u64(ref.Seq), ref.ID[:])
		return Equivocation, nil, txn.Set(evidence, raw)
	case !errors.Is(err, badger.ErrKeyNotFound):
		return 0, nil, err
	}
	// The chain is checked both ways against what is stored: the envelope
	// before must be ours' prev, and the one after must name ours as its
	// prev (entries stored before prev was kept in the log say nothing).
	if ref.Seq > 1 {
		before, err := getValue(txn, authorKey(ref.Topic, ref.Author, ref.Seq-1))
		if err == nil && !bytes.Equal(logID(before), ref.Prev) {
			return 0, nil, ErrBrokenChain
		}
	}
	after, err := getValue(txn, authorKey(ref.Topic, ref.Author, ref.Seq+1))
	if err == nil && len(after) == 64 && !bytes.Equal(after[32:], ref.ID[:]) {
		return 0, nil, ErrBrokenChain
	}
	// Merging may refuse the envelope, so it runs before anything is written.
	var old, merged *BulletinRecord
	if rec != nil {
		if old, err = findRecord(txn, rec.ID); err != nil {
			return 0, nil, err
		}
		if merged, err = merge(old, rec); err != nil {
			return 0, nil, err
		}
	}
	if err := txn.Set(key(pfxEnvelope, ref.ID[:]), raw); err != nil {
		return 0, nil, err
	}
	if err := txn.Set(logKey, logValue(ref)); err != nil {
		return 0, nil, err
	}
	if merged != nil {
		if err := s.index(txn, old, merged); err != nil {
			return 0, nil, err
		}
	}
	return Stored, merged, nil
}

func authorKey(topic [32]byte, author string, seq uint64) []byte {
	return key(pfxAuthorLog, topic[:], []byte(author), u64(seq))
}

// logValue is an author log entry: the envelope ID, then its prev (none
// for seq 1). Entries written before prev was kept hold the ID alone.
func logValue(ref EnvelopeRef) []byte {
	return append(append(make([]byte, 0, 64), ref.ID[:]...), ref.Prev...)
}

// logID returns the envelope ID of an author log entry.
func logID(v []byte) []byte { return v[:min(len(v), 32)] }

func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	item, err := txn.Get(k)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// Envelope returns the stored bytes of an envelope.
func (s *Store) Envelope(id [32]byte) ([]byte, error) {
	var raw []byte
	err := s.View(func(txn *badger.Txn) error {
		var err error
		raw, err = getValue(txn, key(pfxEnvelope, id[:]))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		return err
	})
	return raw, err
}

// AuthorHead is an author's position in a topic: the highest seq stored
// and the envelope ID there.
type AuthorHead struct {
	Seq uint64
	ID  [32]byte
}

// LastOf returns the highest seq stored for author on topic (zero if none).
func (s *Store) LastOf(topic [32]byte, author string) (AuthorHead, error) {
	var h AuthorHead
	prefix := key(pfxAuthorLog, topic[:], []byte(author))
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		it.Seek(append(append([]byte{}, prefix...), 0xff))
		if !it.Valid() {
			return nil
		}
		h.Seq = binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
		return it.Item().Value(func(v []byte) error {
			if len(v) != 32 && len(v) != 64 {
				return fmt.Errorf("corrupt author log entry")
			}
			copy(h.ID[:], v)
			return nil
		})
	})
	return h, err
}

// VersionVector returns, for each author of a topic, the highest seq up to
// which every envelope is stored (no gaps below it).
func (s *Store) VersionVector(topic [32]byte) (map[string]uint64, error) {
	vv, _, err := s.Heads(topic)
	return vv, err
}

// Evidence is proof that an author signed two different envelopes
// with the same sequence number on a topic: Envelope is the one that
// arrived second; the first is in the author's log.
type Evidence struct {
	Topic    [32]byte
	Author   string
	Seq      uint64
	Envelope [32]byte
}

// Equivocations lists the stored equivocation evidence.
func (s *Store) Equivocations() ([]Evidence, error) {
	var out []Evidence
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxEquivocated}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[1:] // topic(32) author seq(8) envelopeID(32)
			if len(k) < 32+8+32 {
				continue
			}
			var e Evidence
			copy(e.Topic[:], k[:32])
			e.Author = string(k[32 : len(k)-40])
			e.Seq = binary.BigEndian.Uint64(k[len(k)-40 : len(k)-32])
			copy(e.Envelope[:], k[len(k)-32:])
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// TopicEnvelopes returns the stored envelopes of a topic, by author and
// sequence number.
func (s *Store) TopicEnvelopes(topic [32]byte) ([][]byte, error) {
	var out [][]byte
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, key(pfxAuthorLog, topic[:]), func(_, v []byte) error {
			raw, err := getValue(txn, key(pfxEnvelope, logID(v)))
			if err != nil {
				return err
			}
			out = append(out, raw)
			return nil
		})
	})
	return out, err
}

// EnvelopeRange returns author's envelopes on a topic with seq from..to
// (to 0: no upper bound), in order, stopping before maxBytes or maxCount;
// more says envelopes were left out.
func (s *Store) EnvelopeRange(topic [32]byte, author string, from, to uint64, maxBytes, maxCount int) (out [][]byte, more bool, err error) {
	prefix := key(pfxAuthorLog, topic[:], []byte(author))
	size := 0
	err = s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(authorKey(topic, author, from)); it.Valid(); it.Next() {
			seq := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
			if to > 0 && seq > to {
				return nil
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			raw, err := getValue(txn, key(pfxEnvelope, logID(v)))
			if err != nil {
				return err
			}
			if len(out) == maxCount || size+len(raw) > maxBytes {
				more = true
				return nil
			}
			out = append(out, raw)
			size += len(raw)
		}
		return nil
	})
	return out, more, err
}

// Heads returns, per author of a topic, the highest contiguous seq held
// (the version vector) and the highest seq held: where they differ, the
// node knows it has a gap.
func (s *Store) Heads(topic [32]byte) (contiguous, highest map[string]uint64, err error) {
	contiguous, highest = map[string]uint64{}, map[string]uint64{}
	prefix := key(pfxAuthorLog, topic[:])
	err = s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			author, seq := string(k[:len(k)-8]), binary.BigEndian.Uint64(k[len(k)-8:])
			if seq == contiguous[author]+1 {
				contiguous[author] = seq
			}
			highest[author] = seq
		}
		return nil
	})
	return contiguous, highest, err
}

// HasHole reports whether author's log on a topic misses a seq below the
// highest one stored. It reads only that author's keys.
func (s *Store) HasHole(topic [32]byte, author string) (bool, error) {
	prefix := key(pfxAuthorLog, topic[:], []byte(author))
	hole := false
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		want := uint64(1)
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(prefix)+8 {
				continue // another author whose ID starts with this one
			}
			if binary.BigEndian.Uint64(k[len(prefix):]) != want {
				hole = true
				return nil
			}
			want++
		}
		return nil
	})
	return hole, err
}

// HasSeq reports whether author's envelope seq is stored for a topic.
func (s *Store) HasSeq(topic [32]byte, author string, seq uint64) (bool, error) {
	found := false
	err := s.View(func(txn *badger.Txn) error {
		_, err := txn.Get(authorKey(topic, author, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}
