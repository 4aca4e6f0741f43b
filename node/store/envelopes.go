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
// version without its body and attachment bytes (light.go), and the
// history of every envelope about it. A member outside a
// restricted audience holds a Sealed record: it knows the bulletin exists,
// not its content. A revoked or expired record is a tombstone: its
// content (Bulletin, ValidUntil) is erased, the rest is kept.
type BulletinRecord struct {
	ID         string          `json:"id" cbor:"1,keyasint"`
	Topic      [32]byte        `json:"topic" cbor:"2,keyasint"`
	Category   string          `json:"category" cbor:"3,keyasint"`
	Envelope   [32]byte        `json:"envelope" cbor:"4,keyasint"` // the envelope of the version held
	Author     string          `json:"author" cbor:"5,keyasint"`
	Seq        uint64          `json:"seq" cbor:"6,keyasint"`
	Kind       string          `json:"kind" cbor:"7,keyasint"`
	Version    int             `json:"version,omitempty" cbor:"8,keyasint,omitempty"`
	Created    time.Time       `json:"created" cbor:"9,keyasint"`
	Modified   time.Time       `json:"modified,omitzero" cbor:"10,keyasint,omitzero"`
	ValidUntil *time.Time      `json:"valid_until,omitempty" cbor:"11,keyasint,omitempty"`
	Received   time.Time       `json:"received" cbor:"12,keyasint"`
	RecvSeq    uint64          `json:"recv_seq" cbor:"13,keyasint"`
	Audience   []string        `json:"audience,omitempty" cbor:"14,keyasint,omitempty"`
	Sealed     bool            `json:"sealed" cbor:"15,keyasint"`
	Bulletin   json.RawMessage `json:"bulletin,omitempty" cbor:"16,keyasint,omitempty"` // without body and attachment bytes (LightBulletin), or whole in records of older stores
	// BodySize is the size of the body Bulletin leaves in the envelope.
	BodySize int `json:"body_size,omitempty" cbor:"17,keyasint,omitempty"`
	// Body is the body of a record just made from its envelope: indexed,
	// never stored.
	Body string `json:"-" cbor:"-"`

	History   []Revision `json:"history,omitempty" cbor:"18,keyasint,omitempty"`
	Revoked   bool       `json:"revoked,omitempty" cbor:"19,keyasint,omitempty"`
	Reason    string     `json:"reason,omitempty" cbor:"20,keyasint,omitempty"` // the revocation's
	RevokedAt time.Time  `json:"revoked_at,omitzero" cbor:"21,keyasint,omitzero"`
	Expired   bool       `json:"expired,omitempty" cbor:"22,keyasint,omitempty"` // erased here by retention
	ExpiredAt time.Time  `json:"expired_at,omitzero" cbor:"23,keyasint,omitzero"`
}

// PutResult says what PutEnvelope did.
type PutResult int

// Outcomes of PutEnvelope.
const (
	Stored       PutResult = iota // new envelope, stored and indexed
	Duplicate                     // the same envelope was already stored
	Equivocation                  // another envelope holds this (topic, author, seq): kept as evidence if it is the first such, else dropped
	Chained                       // stored in its author's chain; its bulletin was refused: see the error
)

// ErrBrokenChain reports an envelope whose prev does not match the stored
// envelope before it.
var ErrBrokenChain = errors.New("prev does not match the author's stored envelope at seq-1")

// PutEnvelope durably stores an envelope exactly as received, places it in
// its author's log and, when rec is not nil, merges the bulletin record it
// makes alone into the stored record of that bulletin (see merge), all in
// one transaction. When Stored, rec is replaced by the merged record.
//
// When merge refuses the record (ErrNotOriginator, ErrBadRevision), the
// envelope still enters its author's chain, so that the author's version
// vector moves past it and sync stops fetching it again; the bulletin's
// record is left as it was. PutEnvelope then returns Chained with the
// refusal. ErrQuota stores nothing, nor ErrDiskFull (below the reserve).
func (s *Store) PutEnvelope(ctx context.Context, ref EnvelopeRef, raw []byte, rec *BulletinRecord) (PutResult, error) {
	var out putOutcome
	// Sized for the envelope and its record, which may be as large.
	err := s.update(ctx, 2*len(raw), func(txn *badger.Txn) error {
		var err error
		out, err = s.putEnvelope(txn, ref, raw, rec)
		return err
	})
	if err != nil {
		return 0, err
	}
	// Copied only now: a group that is retried runs the function again,
	// which must then merge the envelope's own record, not a merged one.
	if out.result == Stored && out.merged != nil {
		*rec = *out.merged
	}
	return out.result, out.refused
}

// putOutcome is what putEnvelope did in its transaction.
type putOutcome struct {
	result  PutResult
	merged  *BulletinRecord // the record as stored, when Stored
	refused error           // why merge refused the record, when Chained
}

func (s *Store) putEnvelope(txn *badger.Txn, ref EnvelopeRef, raw []byte, rec *BulletinRecord) (putOutcome, error) {
	existing, err := getValue(txn, authorKey(ref.Topic, ref.Author, ref.Seq))
	switch {
	case err == nil && bytes.Equal(logID(existing), ref.ID[:]):
		return putOutcome{result: Duplicate}, nil
	case err == nil:
		return putOutcome{result: Equivocation}, s.putEvidence(txn, ref, raw)
	case !errors.Is(err, badger.ErrKeyNotFound):
		return putOutcome{}, err
	}
	if err := checkChain(txn, ref); err != nil {
		return putOutcome{}, err
	}
	// Merging and the quota may refuse the envelope, so they run before
	// anything is written.
	out := putOutcome{result: Stored}
	var old *BulletinRecord
	if rec != nil {
		if old, err = findRecord(txn, rec.ID); err != nil {
			return putOutcome{}, err
		}
		out.merged, err = merge(old, rec)
		switch {
		case errors.Is(err, ErrNotOriginator) || errors.Is(err, ErrBadRevision):
			out.result, out.merged, out.refused = Chained, nil, err
		case err != nil:
			return putOutcome{}, err
		}
	}
	if err := s.charge(txn, ref.Topic, ref.Author, len(raw)); err != nil {
		return putOutcome{}, err
	}
	if err := txn.Set(key(pfxEnvelope, ref.ID[:]), raw); err != nil {
		return putOutcome{}, err
	}
	if err := txn.Set(authorKey(ref.Topic, ref.Author, ref.Seq), logValue(ref)); err != nil {
		return putOutcome{}, err
	}
	if out.merged != nil {
		if err := s.index(txn, old, out.merged); err != nil {
			return putOutcome{}, err
		}
	}
	return out, nil
}

// checkChain checks ref both ways against what is stored: the envelope
// before must be ref's prev, and the one after must name ref as its prev
// (entries stored before prev was kept in the log say nothing).
func checkChain(txn *badger.Txn, ref EnvelopeRef) error {
	if ref.Seq > 1 {
		before, err := getValue(txn, authorKey(ref.Topic, ref.Author, ref.Seq-1))
		if err == nil && !bytes.Equal(logID(before), ref.Prev) {
			return ErrBrokenChain
		}
	}
	after, err := getValue(txn, authorKey(ref.Topic, ref.Author, ref.Seq+1))
	if err == nil && len(after) == 64 && !bytes.Equal(after[32:], ref.ID[:]) {
		return ErrBrokenChain
	}
	return nil
}

// putEvidence keeps raw as proof that its author equivocated at ref.Seq,
// unless evidence for that seq is already held: one second envelope
// proves it, and a hostile member could otherwise sign any number of
// them, each stored in full.
func (s *Store) putEvidence(txn *badger.Txn, ref EnvelopeRef, raw []byte) error {
	prefix := evidenceKey(ref.Topic, ref.Author, ref.Seq, nil)
	held := false
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	for it.Rewind(); it.Valid() && !held; it.Next() {
		held = len(it.Item().Key()) == len(prefix)+32
	}
	it.Close()
	if held {
		return nil
	}
	if err := s.charge(txn, ref.Topic, ref.Author, len(raw)); err != nil {
		return err
	}
	return txn.Set(evidenceKey(ref.Topic, ref.Author, ref.Seq, ref.ID[:]), raw)
}

func evidenceKey(topic [32]byte, author string, seq uint64, id []byte) []byte {
	return key(pfxEquivocated, topic[:], []byte(author), u64(seq), id)
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

// getUint64 reads an 8-byte big-endian value; found is false when k is
// absent. A value of another length is errCorrupt's to name.
func getUint64(txn *badger.Txn, k []byte, errCorrupt func(v []byte) error) (n uint64, found bool, err error) {
	v, err := getValue(txn, k)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case len(v) != 8:
		return 0, false, errCorrupt(v)
	}
	return binary.BigEndian.Uint64(v), true, nil
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
// with the same sequence number on a topic: Envelope is the first
// different one that arrived (later ones are dropped); the envelope
// held at that seq is in the author's log.
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
