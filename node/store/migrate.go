package store

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// schemaVersion is the layout this code writes, kept under schemaKey:
//
//	1 (no key): list indexes keyed by Unix nanoseconds; no usage counters
//	2: list indexes keyed by createdKey; per-author usage counters
//	3: entity and full-text search indexes (index_*.go)
//	4: records without body and attachment bytes (light.go)
const schemaVersion = 4

var schemaKey = key(pfxMeta, []byte("schema"))

// migrateBatch bounds the keys one upgrade transaction writes.
const migrateBatch = 512

// migrate brings a store written by an older version to schemaVersion
// before anything else reads it. Each step can run again from the start,
// so an upgrade interrupted by a crash is redone at the next open: the
// version is written last.
func migrate(db *badger.DB, log *slog.Logger) error {
	v, err := readSchema(db)
	switch {
	case err != nil:
		return err
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("the store has schema %d, newer than the %d this concord knows: run the newer concord that wrote it", v, schemaVersion)
	}
	if v < 2 {
		if err := migrateTo2(db, log, v); err != nil {
			return err
		}
	}
	if v < 3 {
		n, err := rebuildSearchIndexes(db, log)
		if err != nil {
			return fmt.Errorf("building the search indexes: %w", err)
		}
		if n > 0 {
			log.Info("search indexes built", "from_schema", max(v, 1), "to_schema", 3, "bulletins", n)
		}
	}
	if err := migrateTo4(db, log); err != nil {
		return fmt.Errorf("taking the envelopes' content out of the records: %w", err)
	}
	return db.Update(func(txn *badger.Txn) error { return txn.Set(schemaKey, u64(schemaVersion)) })
}

// migrateTo2 rebuilds the list indexes and counts each author's usage.
func migrateTo2(db *badger.DB, log *slog.Logger, v uint64) error {
	if err := deletePrefix(db, []byte{pfxIndex}); err != nil {
		return fmt.Errorf("removing the old list indexes: %w", err)
	}
	n, err := rebuildListIndexes(db)
	if err != nil {
		return fmt.Errorf("rebuilding the list indexes: %w", err)
	}
	authors, err := recountUsage(db)
	if err != nil {
		return fmt.Errorf("counting each member's envelopes: %w", err)
	}
	if n > 0 || authors > 0 {
		log.Info("store upgraded", "from_schema", max(v, 1), "to_schema", 2, "bulletins", n, "authors", authors)
	}
	return nil
}

// readSchema returns the stored schema version, 0 if none is stored.
func readSchema(db *badger.DB) (uint64, error) {
	var v uint64
	err := db.View(func(txn *badger.Txn) error {
		var err error
		v, _, err = getUint64(txn, schemaKey, func(val []byte) error {
			return fmt.Errorf("corrupt store schema version %x: restore the store from a backup (concord restore)", val)
		})
		return err
	})
	return v, err
}

// deletePrefix deletes every key under prefix, a batch per transaction.
func deletePrefix(db *badger.DB, prefix []byte) error {
	for {
		var keys [][]byte
		err := db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < migrateBatch; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = db.Update(func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// rebuildListIndexes writes the list-index keys of every stored record
// and returns how many records it read.
func rebuildListIndexes(db *badger.DB) (int, error) {
	total := 0
	cursor := []byte{pfxBulletin}
	for {
		var keys [][]byte
		n := 0
		err := db.View(func(txn *badger.Txn) error {
			return eachFrom(txn, []byte{pfxBulletin}, cursor, migrateBatch/4, func(k, v []byte) error {
				var rec BulletinRecord
				if err := decodeRecord(v, &rec); err != nil {
					return fmt.Errorf("record %s: %w", k[1:], err)
				}
				keys = append(keys, listKeys(&rec)...)
				cursor, n = append(k, 0), n+1
				return nil
			})
		})
		if err != nil || n == 0 {
			return total, err
		}
		total += n
		if err := setKeys(db, keys); err != nil {
			return total, err
		}
	}
}

// recountUsage sets every author's usage counter from the envelopes and
// evidence stored, and returns how many (topic, author) it counted.
func recountUsage(db *badger.DB) (int, error) {
	type usage struct{ count, bytes uint64 }
	totals := map[string]*usage{}
	add := func(topicAuthor []byte, size int) {
		u := totals[string(topicAuthor)]
		if u == nil {
			u = &usage{}
			totals[string(topicAuthor)] = u
		}
		u.count++
		u.bytes += uint64(size)
	}
	err := db.View(func(txn *badger.Txn) error {
		err := each(txn, []byte{pfxAuthorLog}, func(k, v []byte) error {
			item, err := txn.Get(key(pfxEnvelope, logID(v)))
			if err != nil {
				return fmt.Errorf("envelope of log entry %x: %w", k, err)
			}
			return item.Value(func(raw []byte) error { add(k[1:len(k)-8], len(raw)); return nil })
		})
		if err != nil {
			return err
		}
		return each(txn, []byte{pfxEquivocated}, func(k, v []byte) error {
			if len(k) >= 1+32+8+32 {
				add(k[1:len(k)-40], len(v))
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	var sets [][2][]byte
	for k, u := range totals {
		sets = append(sets, [2][]byte{key(pfxUsage, []byte(k)), usageValue(u.count, u.bytes)})
	}
	for batch := range slices.Chunk(sets, migrateBatch) {
		err := db.Update(func(txn *badger.Txn) error {
			for _, kv := range batch {
				if err := txn.Set(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(totals), nil
}

// eachFrom calls fn with up to limit keys (copied) and values under
// prefix, starting at from.
func eachFrom(txn *badger.Txn, prefix, from []byte, limit int, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	n := 0
	for it.Seek(from); it.Valid() && n < limit; it.Next() {
		item := it.Item()
		k := item.KeyCopy(nil)
		if err := item.Value(func(v []byte) error { return fn(k, v) }); err != nil {
			return err
		}
		n++
	}
	return nil
}

// setKeys writes keys with empty values in one transaction.
func setKeys(db *badger.DB, keys [][]byte) error {
	return db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Set(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
