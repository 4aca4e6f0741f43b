package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// List indexes, one byte each after the 'x' prefix.
const (
	idxAll        = 'a'
	idxTopic      = 't'
	idxCategory   = 'c'
	idxOriginator = 'o'
)

func indexKey(kind byte, value []byte, created time.Time, id string) []byte {
	return key(pfxIndex, []byte{kind}, value, []byte{0}, u64(uint64(created.UnixNano())), []byte(id))
}

// index writes a bulletin record with its list indexes and change-feed
// entry. Called inside the commit loop, so recvSeq needs no lock.
func (s *Store) index(txn *badger.Txn, rec *BulletinRecord) error {
	if err := s.loadRecvSeq(txn); err != nil {
		return err
	}
	s.recvSeq++
	rec.RecvSeq = s.recvSeq
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sets := [][2][]byte{
		{key(pfxBulletin, []byte(rec.ID)), val},
		{key(pfxRecv, u64(rec.RecvSeq)), []byte(rec.ID)},
		{indexKey(idxAll, nil, rec.Created, rec.ID), nil},
		{indexKey(idxTopic, rec.Topic[:], rec.Created, rec.ID), nil},
		{indexKey(idxCategory, []byte(rec.Category), rec.Created, rec.ID), nil},
		{indexKey(idxOriginator, []byte(rec.Author), rec.Created, rec.ID), nil},
	}
	for _, kv := range sets {
		if err := txn.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// loadRecvSeq reads the last receive sequence once, on the first write.
func (s *Store) loadRecvSeq(txn *badger.Txn) error {
	if s.recvSeqLoaded {
		return nil
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxRecv}, Reverse: true})
	defer it.Close()
	it.Seek([]byte{pfxRecv, 0xff})
	if it.Valid() {
		s.recvSeq = binary.BigEndian.Uint64(it.Item().Key()[1:])
	}
	s.recvSeqLoaded = true
	return nil
}

// Query selects bulletins for listing, newest created first.
type Query struct {
	Topic      *[32]byte
	Category   string
	Originator string
	Since      time.Time // created at or after
	Limit      int       // 0: no limit
}

// List returns the bulletins matching q, newest created first. It walks
// the most selective index and filters by the other criteria.
func (s *Store) List(q Query) ([]BulletinRecord, error) {
	var prefix []byte
	switch {
	case q.Topic != nil:
		prefix = key(pfxIndex, []byte{idxTopic}, q.Topic[:], []byte{0})
	case q.Category != "":
		prefix = key(pfxIndex, []byte{idxCategory}, []byte(q.Category), []byte{0})
	case q.Originator != "":
		prefix = key(pfxIndex, []byte{idxOriginator}, []byte(q.Originator), []byte{0})
	default:
		prefix = key(pfxIndex, []byte{idxAll}, []byte{0})
	}
	out := []BulletinRecord{}
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			created := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
			if created.Before(q.Since) {
				return nil
			}
			rec, err := getRecord(txn, string(k[8:]))
			if err != nil {
				return err
			}
			if !q.matches(rec) {
				continue
			}
			out = append(out, rec)
			if q.Limit > 0 && len(out) >= q.Limit {
				return nil
			}
		}
		return nil
	})
	return out, err
}

func (q Query) matches(r BulletinRecord) bool {
	return (q.Topic == nil || *q.Topic == r.Topic) &&
		(q.Category == "" || q.Category == r.Category) &&
		(q.Originator == "" || q.Originator == r.Author)
}

func getRecord(txn *badger.Txn, id string) (BulletinRecord, error) {
	var rec BulletinRecord
	val, err := getValue(txn, key(pfxBulletin, []byte(id)))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return rec, ErrNotFound
	}
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(val, &rec)
}

// ErrAmbiguous reports a bulletin ID prefix that matches several bulletins.
var ErrAmbiguous = errors.New("ambiguous")

// Bulletin returns the record whose ID is id or starts with it.
func (s *Store) Bulletin(id string) (BulletinRecord, error) {
	var rec BulletinRecord
	err := s.View(func(txn *badger.Txn) error {
		var matches []string
		it := txn.NewIterator(badger.IteratorOptions{Prefix: key(pfxBulletin, []byte(id))})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(matches) < 3; it.Next() {
			matches = append(matches, string(it.Item().Key()[1:]))
		}
		switch len(matches) {
		case 0:
			return ErrNotFound
		case 1:
			var err error
			rec, err = getRecord(txn, matches[0])
			return err
		default:
			return fmt.Errorf("%w: %q matches %s…", ErrAmbiguous, id, strings.Join(matches, ", "))
		}
	})
	return rec, err
}

// Since returns up to limit records received after receive sequence
// after, in receive order: the change feed behind watch.
func (s *Store) Since(after uint64, limit int) ([]BulletinRecord, error) {
	var out []BulletinRecord
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxRecv}})
		defer it.Close()
		for it.Seek(key(pfxRecv, u64(after+1))); it.Valid() && len(out) < limit; it.Next() {
			id, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			rec, err := getRecord(txn, string(id))
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// CountBulletins counts indexed bulletins.
func (s *Store) CountBulletins() (int, error) {
	n := 0
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxBulletin}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}
