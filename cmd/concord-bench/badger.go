package main

import (
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/node/store"
)

// writeBadger writes envs into a fresh database in one WriteBatch and
// returns how long it took, the final flush included.
func writeBadger(dir string, envs [][]byte) (time.Duration, error) {
	db, err := openBadger(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, raw := range envs {
		id := sha256.Sum256(raw)
		if err := wb.Set(id[:], raw); err != nil {
			return 0, err
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// openBadger opens a database with the options of node/store, at-rest
// encryption included, so that the baseline pays for the same sync
// writes, encryption and memory profile.
func openBadger(dir string) (*badger.DB, error) {
	key := make([]byte, 32)
	rand.Read(key)
	return badger.Open(store.Options(dir, key, slog.New(slog.DiscardHandler)))
}
