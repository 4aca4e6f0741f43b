package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/entity"
)

// textStatsKey holds the full-text totals: indexed bulletins and their
// words, for ranking.
var textStatsKey = key(pfxMeta, []byte("text"))

// SetIndexing turns the search indexes on (the default) or off. Off is
// for benchmarks that measure what indexing costs: bulletins written
// while it is off have no postings until Reindex.
func (s *Store) SetIndexing(on bool) { s.noIndex.Store(!on) }

// entityPrefix is the prefix of k's postings.
func entityPrefix(k entity.Key) []byte {
	return key(pfxEntity, []byte(k.Type), []byte{0}, []byte(clipValue(k.Value, maxValueBytes)), []byte{0})
}

func entityPosting(k entity.Key, created []byte, id string) []byte {
	return append(append(entityPrefix(k), created...), id...)
}

func entityCountKey(k entity.Key) []byte {
	return key(pfxEntityCount, []byte(k.Type), []byte{0}, []byte(clipValue(k.Value, maxValueBytes)))
}

func wordPrefix(w string) []byte { return key(pfxWord, []byte(w), []byte{0}) }

func wordPosting(w, id string) []byte { return append(wordPrefix(w), id...) }

func docKey(id string) []byte { return key(pfxDoc, []byte(id)) }

// indexDoc makes the postings of rec's bulletin those of rec: the stored
// ones (read from its reverse entry) are removed, and rec's written if it
// is readable here. Counters are read in txn: the group committer may run
// a write again in a new transaction.
func indexDoc(txn *badger.Txn, rec *BulletinRecord) error {
	if err := unindexDoc(txn, rec.ID); err != nil {
		return err
	}
	doc, err := buildDoc(rec)
	if err != nil || doc == nil {
		return err
	}
	return writeDoc(txn, rec.ID, doc)
}

// readDoc returns the reverse entry of bulletin id, nil if it has none.
func readDoc(txn *badger.Txn, id string) (*docInfo, error) {
	v, err := getValue(txn, docKey(id))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	doc, err := decodeDoc(v)
	if err != nil {
		return nil, fmt.Errorf("bulletin %s: %w", id, err)
	}
	return doc, nil
}

func unindexDoc(txn *badger.Txn, id string) error {
	doc, err := readDoc(txn, id)
	if err != nil || doc == nil {
		return err
	}
	created := createdKey(doc.Created)
	for _, k := range doc.Entities {
		if err := txn.Delete(entityPosting(k, created, id)); err != nil {
			return err
		}
		if err := addCount(txn, entityCountKey(k), -1); err != nil {
			return err
		}
	}
	for _, w := range doc.Words {
		if err := txn.Delete(wordPosting(w.Word, id)); err != nil {
			return err
		}
	}
	if err := addTextStats(txn, -1, -doc.Length); err != nil {
		return err
	}
	return txn.Delete(docKey(id))
}

func writeDoc(txn *badger.Txn, id string, doc *docInfo) error {
	created := createdKey(doc.Created)
	for _, k := range doc.Entities {
		if err := txn.Set(entityPosting(k, created, id), nil); err != nil {
			return err
		}
		if err := addCount(txn, entityCountKey(k), 1); err != nil {
			return err
		}
	}
	for _, w := range doc.Words {
		if err := txn.Set(wordPosting(w.Word, id), binary.AppendUvarint(nil, uint64(w.TF))); err != nil {
			return err
		}
	}
	if err := addTextStats(txn, 1, doc.Length); err != nil {
		return err
	}
	return txn.Set(docKey(id), doc.encode())
}

// readCount reads an 8-byte counter, 0 if absent.
func readCount(txn *badger.Txn, k []byte) (uint64, error) {
	n, _, err := getUint64(txn, k, func([]byte) error {
		return fmt.Errorf("corrupt search index counter %q: run concord reindex", k)
	})
	return n, err
}

// addCount adds delta to a counter, deleting it at zero (never below).
func addCount(txn *badger.Txn, k []byte, delta int64) error {
	n, err := readCount(txn, k)
	if err != nil {
		return err
	}
	next := max(int64(n)+delta, 0)
	if next == 0 {
		return txn.Delete(k)
	}
	return txn.Set(k, u64(uint64(next)))
}

// readTextStats returns how many bulletins the full-text index holds and
// their words in all.
func readTextStats(txn *badger.Txn) (docs, words uint64, err error) {
	return readPair(txn, textStatsKey, func() error {
		return fmt.Errorf("corrupt full-text totals: run concord reindex")
	})
}

func addTextStats(txn *badger.Txn, docs, words int) error {
	d, w, err := readTextStats(txn)
	if err != nil {
		return err
	}
	d, w = uint64(max(int64(d)+int64(docs), 0)), uint64(max(int64(w)+int64(words), 0))
	return txn.Set(textStatsKey, usageValue(d, w))
}
