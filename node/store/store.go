package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Options returns the Badger options of a node's store, sized for a small
// server (see docs/architecture.md): memory stays in the tens of
// megabytes whatever the data size. Benchmarks open their baseline with
// the same options.
func Options(dir string, key []byte, log *slog.Logger) badger.Options {
	o := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{log}).
		WithSyncWrites(true).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(16 << 20). // required with encryption
		WithNumCompactors(2).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithCompression(options.ZSTD).
		WithEncryptionKey(key).
		WithEncryptionKeyRotationDuration(30 * 24 * time.Hour)
	if Tune != nil {
		o = Tune(o)
	}
	return o
}

// ErrLocked reports a database already opened by another process.
var ErrLocked = errors.New("the database is in use by another process")

// Store is an open database.
type Store struct {
	db      *badger.DB
	dir     string
	log     *slog.Logger
	writes  chan *write
	stop    chan struct{}
	done    sync.WaitGroup
	closeMu sync.Once
	closing sync.RWMutex
	closed  bool
	quota   atomic.Uint64 // per author and topic, in bytes; 0: none
	reserve atomic.Uint64 // free bytes below which writes fail; 0: none
	// diskFull remembers the last check's verdict, to log only changes.
	diskFull atomic.Bool
	// noIndex turns the search indexes off (SetIndexing), for benchmarks.
	noIndex atomic.Bool
	// bodies reads the bodies records leave in their envelopes (light.go).
	bodies bodySource

	// Owned by the commit loop.
	recvSeq       uint64
	recvSeqLoaded bool
}

// Open opens (or creates) the database in dir, encrypted at rest with key.
func Open(dir string, key []byte, log *slog.Logger) (*Store, error) {
	db, err := badger.Open(Options(dir, key, log))
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("opening %s: %w", dir, ErrLocked)
		}
		if strings.Contains(err.Error(), "Encryption key mismatch") || strings.Contains(err.Error(), "Invalid encryption key") {
			return nil, fmt.Errorf("opening %s: the store key in the home does not match this database", dir)
		}
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	if err := migrate(db, log); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrading the store in %s: %w; the node can retry by starting again", dir, err)
	}
	s := &Store{db: db, dir: dir, log: log, writes: make(chan *write, 1024), stop: make(chan struct{})}
	s.done.Add(2)
	go s.commitLoop()
	go s.gcLoop()
	return s, nil
}

// Close flushes pending writes and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.closing.Lock()
		s.closed = true
		s.closing.Unlock()
		close(s.stop)
		s.done.Wait()
		err = s.db.Close()
	})
	return err
}

// View runs a read-only transaction.
func (s *Store) View(fn func(txn *badger.Txn) error) error { return s.db.View(fn) }

// gcLoop reclaims value-log space periodically.
func (s *Store) gcLoop() {
	defer s.done.Done()
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for s.roomForGC() && s.db.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// badgerLogger routes Badger's logs into slog, demoting its chatty info
// lines to debug.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Debug(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Debugf(f string, a ...any) {
	b.l.Debug(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
