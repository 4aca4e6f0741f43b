package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// reindexBatch is how many bulletins one rebuild transaction indexes; a
// batch too big for one transaction is split.
const reindexBatch = 64

// Reindex rebuilds the entity and full-text indexes from the stored
// records, batch by batch through the group committer, so the node keeps
// taking bulletins meanwhile: each bulletin's postings are replaced in
// one transaction, then the reverse entries of bulletins no longer held
// are removed and the counters checked. It can run again at any time;
// progress (may be nil) is called after each batch.
func (s *Store) Reindex(ctx context.Context, progress func(done, total int)) error {
	total, err := s.CountBulletins()
	if err != nil {
		return err
	}
	update := func(fn func(*badger.Txn) error) error { return s.Update(ctx, fn) }
	done := 0
	err = eachKeyBatch(s.db, pfxBulletin, func(ids []string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		bodies, err := s.bodiesOf(ids)
		if err != nil {
			return err
		}
		if err := reindexIDs(update, ids, bodies); err != nil {
			return err
		}
		done += len(ids)
		if progress != nil {
			progress(done, max(total, done))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reindexing after %d of %d bulletins: %w", done, total, err)
	}
	// A reverse entry whose record is gone is removed with its postings.
	if err := eachKeyBatch(s.db, pfxDoc, func(ids []string) error {
		bodies, err := s.bodiesOf(ids)
		if err != nil {
			return err
		}
		return reindexIDs(update, ids, bodies)
	}); err != nil {
		return fmt.Errorf("removing stale index entries: %w", err)
	}
	if err := s.healCounts(ctx); err != nil {
		return fmt.Errorf("checking the index counters: %w", err)
	}
	return nil
}

// reindexIDs replaces the postings of each bulletin of ids by those of its
// stored record (none if it has none) and its body in bodies, if the
// record leaves it in the envelope, splitting a batch too big for one
// transaction.
func reindexIDs(update func(func(*badger.Txn) error) error, ids []string, bodies map[string]string) error {
	err := update(func(txn *badger.Txn) error {
		for _, id := range ids {
			rec, err := findRecord(txn, id)
			if err != nil {
				return err
			}
			if rec == nil {
				err = unindexDoc(txn, id)
			} else {
				rec.Body = bodies[id]
				err = indexDoc(txn, rec)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrTxnTooBig) && len(ids) > 1 {
		if err := reindexIDs(update, ids[:len(ids)/2], bodies); err != nil {
			return err
		}
		return reindexIDs(update, ids[len(ids)/2:], bodies)
	}
	return err
}

// eachKeyBatch calls fn with the keys under prefix (the prefix byte
// removed), reindexBatch at a time, each batch read in its own snapshot.
func eachKeyBatch(db *badger.DB, prefix byte, fn func(ids []string) error) error {
	cursor := []byte{prefix}
	for {
		var ids []string
		err := db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefix}})
			defer it.Close()
			for it.Seek(cursor); it.Valid() && len(ids) < reindexBatch; it.Next() {
				ids = append(ids, string(it.Item().Key()[1:]))
			}
			return nil
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := fn(ids); err != nil {
			return err
		}
		cursor = key(prefix, []byte(ids[len(ids)-1]), []byte{0})
	}
}

// rebuildSearchIndexes is the upgrade to schema 3, run before the store
// takes writes: the search indexes are dropped and written again from the
// records. It returns how many records it read.
func rebuildSearchIndexes(db *badger.DB, log *slog.Logger) (int, error) {
	for _, p := range []byte{pfxEntity, pfxEntityCount, pfxWord, pfxDoc} {
		if err := deletePrefix(db, []byte{p}); err != nil {
			return 0, err
		}
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Delete(textStatsKey) }); err != nil {
		return 0, err
	}
	done := 0
	err := eachKeyBatch(db, pfxBulletin, func(ids []string) error {
		if err := reindexIDs(db.Update, ids, nil); err != nil { // records of schema < 3 hold their body
			return err
		}
		if done/10000 != (done+len(ids))/10000 {
			log.Info("building the search indexes", "bulletins", done+len(ids))
		}
		done += len(ids)
		return nil
	})
	return done, err
}

// healCounts corrects the counters of the search indexes: in one snapshot
// it counts the postings and reverse entries and compares them with the
// counters, then adds the difference. Writes after the snapshot change a
// counter and its postings alike, so the difference still holds.
func (s *Store) healCounts(ctx context.Context) error {
	deltas := map[string]int64{}
	var docs, words int64
	err := s.View(func(txn *badger.Txn) error {
		scan(txn, []byte{pfxEntity}, func(k []byte) bool {
			if typ, rest, ok := bytes.Cut(k, []byte{0}); ok {
				if value, _, ok := bytes.Cut(rest, []byte{0}); ok {
					deltas[string(key(pfxEntityCount, typ, []byte{0}, value))]++
				}
			}
			return true
		})
		err := each(txn, []byte{pfxEntityCount}, func(k, v []byte) error {
			if len(v) == 8 {
				deltas[string(k)] -= int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = each(txn, []byte{pfxDoc}, func(_, v []byte) error {
			if d, r := decodeHead(v); r.err == nil {
				docs, words = docs+1, words+int64(d.Length)
			}
			return nil
		})
		if err != nil {
			return err
		}
		d, w, err := readTextStats(txn)
		docs, words = docs-int64(d), words-int64(w)
		return err
	})
	if err != nil {
		return err
	}
	return s.applyDeltas(ctx, deltas, docs, words)
}

// applyDeltas adds the corrections healCounts found.
func (s *Store) applyDeltas(ctx context.Context, deltas map[string]int64, docs, words int64) error {
	var keys []string
	for k, d := range deltas {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	if docs != 0 || words != 0 {
		s.log.Warn("search index totals corrected", "bulletins", docs, "words", words)
	}
	if len(keys) > 0 {
		s.log.Warn("search index entity counters corrected", "keys", len(keys))
	}
	var err error
	if docs != 0 || words != 0 {
		err = s.Update(ctx, func(txn *badger.Txn) error { return addTextStats(txn, int(docs), int(words)) })
	}
	for batch := range slices.Chunk(keys, migrateBatch) {
		if err != nil {
			return err
		}
		err = s.Update(ctx, func(txn *badger.Txn) error {
			for _, k := range batch {
				if err := addCount(txn, []byte(k), deltas[k]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return err
}
