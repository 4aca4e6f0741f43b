package store

import (
	"encoding/binary"
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
	return key(pfxIndex, []byte{kind}, value, []byte{0}, createdKey(created), []byte(id))
}

// createdLen is the length of createdKey's encoding.
const createdLen = 12

// createdKey encodes t so that byte order is time order over any year a
// time.Time holds (1 to 9999 included): Unix seconds with the sign bit
// flipped, so times before 1970 sort first, then nanoseconds. Unix
// nanoseconds would wrap past 2262 and before 1970, and one bulletin
// dated 9999 would then sort first forever.
func createdKey(t time.Time) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, createdLen), uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// splitIndexKey splits the part of a list-index key after its index
// prefix into the creation time and bulletin ID.
func splitIndexKey(k []byte) (time.Time, string, bool) {
	if len(k) < createdLen {
		return time.Time{}, "", false
	}
	secs := int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63))
	nanos := int64(binary.BigEndian.Uint32(k[8:createdLen]))
	return time.Unix(secs, nanos).UTC(), string(k[createdLen:]), true
}

// indexKeys returns the list-index keys of a record (see listKeys) and an
// entry in the expiry index while it holds content with a valid_until.
func indexKeys(rec *BulletinRecord) [][]byte {
	keys := listKeys(rec)
	if !rec.Expired && rec.ValidUntil != nil && len(rec.Bulletin) > 0 {
		keys = append(keys, expiryKey(*rec.ValidUntil, rec.ID))
	}
	return keys
}

// listKeys returns the list-index keys of a record: none for an expired
// record (retention takes it out of every listing).
func listKeys(rec *BulletinRecord) [][]byte {
	if rec.Expired {
		return nil
	}
	return [][]byte{
		indexKey(idxAll, nil, rec.Created, rec.ID),
		indexKey(idxTopic, rec.Topic[:], rec.Created, rec.ID),
		indexKey(idxCategory, []byte(rec.Category), rec.Created, rec.ID),
		indexKey(idxOriginator, []byte(rec.Author), rec.Created, rec.ID),
	}
}

// expiryKey orders bulletins by valid_until, in seconds: nanoseconds
// overflow past 2262 and valid_until may be as late as 9999.
func expiryKey(t time.Time, id string) []byte {
	return key(pfxExpiry, u64(uint64(t.Unix())), []byte(id))
}

// index writes rec, replacing old (nil for a new bulletin) and its index
// entries, the search indexes included (indexDoc). Each change moves the record to the head of the change feed,
// so watchers see revisions and revocations; an expired record leaves the
// feed, as retention is local housekeeping, not news. Called inside the
// commit loop, so recvSeq needs no lock.
func (s *Store) index(txn *badger.Txn, old, rec *BulletinRecord) error {
	if err := s.loadRecvSeq(txn); err != nil {
		return err
	}
	if old != nil {
		if err := deleteKeys(txn, staleKeys(old)); err != nil {
			return err
		}
	}
	rec.RecvSeq = 0
	sets := [][2][]byte{}
	if !rec.Expired {
		s.recvSeq++
		rec.RecvSeq = s.recvSeq
		sets = append(sets, [2][]byte{key(pfxRecv, u64(rec.RecvSeq)), []byte(rec.ID)})
	}
	val, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	sets = append(sets, [2][]byte{key(pfxBulletin, []byte(rec.ID)), val})
	for _, k := range indexKeys(rec) {
		sets = append(sets, [2][]byte{k, nil})
	}
	for _, kv := range sets {
		if err := txn.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if s.noIndex.Load() || sameIndexed(old, rec) {
		return nil
	}
	return indexDoc(txn, rec)
}

// sameIndexed reports whether rec's postings are old's: the same version,
// readable in both. The body of a stored record is only in its envelope,
// so postings are rebuilt only from a record made from an envelope (or
// by Reindex, which opens it again).
func sameIndexed(old, rec *BulletinRecord) bool {
	return old != nil && old.Envelope == rec.Envelope && indexable(old) && indexable(rec) &&
		old.Created.Equal(rec.Created) && old.Topic == rec.Topic && old.Category == rec.Category && old.Author == rec.Author
}

// unindex deletes rec, its list indexes, its place in the change feed and
// its search entries.
func (s *Store) unindex(txn *badger.Txn, rec *BulletinRecord) error {
	if err := deleteKeys(txn, append(staleKeys(rec), key(pfxBulletin, []byte(rec.ID)))); err != nil {
		return err
	}
	return unindexDoc(txn, rec.ID)
}

// staleKeys are the keys a record's next version replaces: its index
// entries and its place in the change feed.
func staleKeys(rec *BulletinRecord) [][]byte {
	stale := indexKeys(rec)
	if rec.RecvSeq != 0 {
		stale = append(stale, key(pfxRecv, u64(rec.RecvSeq)))
	}
	return stale
}

func deleteKeys(txn *badger.Txn, keys [][]byte) error {
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// loadRecvSeq reads the last receive sequence once, on the first write.
func (s *Store) loadRecvSeq(txn *badger.Txn) error {
	if !s.recvSeqLoaded {
		s.recvSeq, s.recvSeqLoaded = lastRecvSeq(txn), true
	}
	return nil
}

// LastRecvSeq returns the receive sequence of the newest bulletin in the
// change feed (0 if none): where a watch that wants only news starts.
func (s *Store) LastRecvSeq() (uint64, error) {
	var last uint64
	err := s.View(func(txn *badger.Txn) error {
		last = lastRecvSeq(txn)
		return nil
	})
	return last, err
}

func lastRecvSeq(txn *badger.Txn) uint64 {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxRecv}, Reverse: true})
	defer it.Close()
	it.Seek([]byte{pfxRecv, 0xff})
	if !it.Valid() {
		return 0
	}
	return binary.BigEndian.Uint64(it.Item().Key()[1:])
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
	prefix := q.listPrefix()
	out := []BulletinRecord{}
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte{}, prefix...), 0xff)); it.Valid(); it.Next() {
			created, id, ok := splitIndexKey(it.Item().Key()[len(prefix):])
			if !ok {
				continue // not written by indexKey: nothing to list
			}
			if created.Before(q.Since) {
				return nil
			}
			rec, err := getRecord(txn, id)
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

// listPrefix is the prefix of the most selective list index for q.
func (q Query) listPrefix() []byte {
	switch {
	case q.Topic != nil:
		return key(pfxIndex, []byte{idxTopic}, q.Topic[:], []byte{0})
	case q.Category != "":
		return key(pfxIndex, []byte{idxCategory}, []byte(q.Category), []byte{0})
	case q.Originator != "":
		return key(pfxIndex, []byte{idxOriginator}, []byte(q.Originator), []byte{0})
	default:
		return key(pfxIndex, []byte{idxAll}, []byte{0})
	}
}

func (q Query) matches(r BulletinRecord) bool {
	return (q.Topic == nil || *q.Topic == r.Topic) &&
		(q.Category == "" || q.Category == r.Category) &&
		(q.Originator == "" || q.Originator == r.Author)
}

// findRecord returns the stored record of bulletin id, or nil.
func findRecord(txn *badger.Txn, id string) (*BulletinRecord, error) {
	rec, err := getRecord(txn, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &rec, nil
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
	return rec, decodeRecord(val, &rec)
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
