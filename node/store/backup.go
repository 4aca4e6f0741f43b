package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/dgraph-io/badger/v4"
)

// Backup writes a consistent snapshot of the whole database to w in
// Badger's backup format while writes go on, and returns the highest
// version it holds. The stream is NOT encrypted: Badger decrypts as it
// reads, so the caller must encrypt w.
//
// It reads with a single goroutine: outside managed mode each of a
// Badger stream's goroutines opens its own read transaction, so several
// could see different snapshots, and a bulletin's envelope, log entry and
// indexes (written in one transaction, under different key prefixes)
// could be saved half. One transaction is one snapshot.
//
// Close waits for a running backup and makes it fail at its next write,
// so the database is never closed under it.
func (s *Store) Backup(w io.Writer) (uint64, error) {
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		return 0, ErrClosed
	}
	s.done.Add(1)
	s.closing.RUnlock()
	defer s.done.Done()
	stream := s.db.NewStream()
	stream.NumGo = 1
	stream.LogPrefix = "store.Backup"
	return stream.Backup(stopWriter{w: w, stop: s.stop}, 0)
}

// stopWriter fails once the store is closing.
type stopWriter struct {
	w    io.Writer
	stop <-chan struct{}
}

func (sw stopWriter) Write(p []byte) (int, error) {
	select {
	case <-sw.stop:
		return 0, fmt.Errorf("backup interrupted: %w", ErrClosed)
	default:
		return sw.w.Write(p)
	}
}

// maxPendingWrites bounds the batches Restore has in flight. Each batch
// is up to 15% of a memtable (about 2.4 MiB here), so 16 keep a restore
// within the memory budget of a small server.
const maxPendingWrites = 16

// Restore creates a database in dir, which must not exist or be empty,
// encrypted at rest with key, and loads into it a stream written by
// Backup.
func Restore(dir string, key []byte, r io.Reader, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty: a backup is restored only into a new database", dir)
	}
	db, err := badger.Open(badgerOptions(dir, key, log))
	if err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := db.Load(r, maxPendingWrites); err != nil {
		db.Close()
		return fmt.Errorf("loading the database backup: %w", err)
	}
	// Close flushes the memtables, so everything loaded is on disk.
	return db.Close()
}
