package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
	"google.golang.org/protobuf/proto"
)

// Backup writes a consistent snapshot of the whole database to w in
// Badger's backup format while writes go on, and returns the highest
// version it holds. The stream is NOT encrypted: Badger decrypts as it
// reads, so the caller must encrypt w.
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
	return s.backup(stopWriter{w: w, stop: s.stop})
}

// backup is Badger's DB.Backup with three differences, each for a
// reason:
//
//   - One goroutine. Outside managed mode each of a stream's goroutines
//     opens its own read transaction, so several could see different
//     snapshots, and a bulletin's envelope, log entry and indexes
//     (written in one transaction, under different key prefixes) could
//     be saved half. One transaction is one snapshot.
//   - Only each key's current value, and nothing for a deleted key.
//     DB.Backup also writes older versions not yet compacted away, which
//     would carry content this node has erased (revised, revoked or
//     expired bulletins) into the backup. A full backup is loaded into
//     an empty database, which needs no delete markers.
//   - A value that cannot be read fails the backup; a Badger stream
//     would only log it and leave the key out.
func (s *Store) backup(w io.Writer) (uint64, error) {
	var readErr error
	var sendErr atomic.Pointer[error]
	var version uint64
	stream := s.db.NewStream()
	stream.NumGo = 1
	stream.LogPrefix = "store.Backup"
	stream.KeyToList = func(key []byte, it *badger.Iterator) (*pb.KVList, error) {
		kv, err := currentValue(it.Item())
		if err != nil && readErr == nil {
			readErr = fmt.Errorf("reading key %x: %w", key, err)
		}
		if kv == nil {
			return nil, err
		}
		return &pb.KVList{Kv: []*pb.KV{kv}}, nil
	}
	stream.Send = func(buf *z.Buffer) error {
		list, err := badger.BufferToKVList(buf)
		if err != nil {
			return err
		}
		kvs := list.Kv[:0]
		for _, kv := range list.Kv {
			if !kv.StreamDone {
				kvs = append(kvs, kv)
				version = max(version, kv.Version)
			}
		}
		list.Kv = kvs
		err = writeKVList(w, list)
		if err != nil {
			sendErr.CompareAndSwap(nil, &err)
		}
		return err
	}
	err := stream.Orchestrate(context.Background())
	if e := sendErr.Load(); e != nil {
		// Orchestrate may report the context it cancelled on the failed
		// send instead: the writer's error says why (ErrClosed on Close).
		err = *e
	}
	if err == nil {
		err = readErr
	}
	return version, err
}

// currentValue is the entry for item, the newest version of its key, or
// nil if the key is deleted or expired.
func currentValue(item *badger.Item) (*pb.KV, error) {
	if item.IsDeletedOrExpired() {
		return nil, nil
	}
	val, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	return &pb.KV{Key: item.KeyCopy(nil), Value: val, UserMeta: []byte{item.UserMeta()},
		Version: item.Version(), ExpiresAt: item.ExpiresAt()}, nil
}

// writeKVList frames list as DB.Load reads it: its size as a
// little-endian uint64, then its protobuf encoding.
func writeKVList(w io.Writer, list *pb.KVList) error {
	data, err := proto.Marshal(list)
	if err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(data))); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
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
	db, err := badger.Open(Options(dir, key, log))
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
