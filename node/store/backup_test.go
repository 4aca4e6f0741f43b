package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// dump returns every key and value of s.
func dump(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func set(t *testing.T, s *Store, kv ...string) {
	t.Helper()
	err := s.Update(context.Background(), func(txn *badger.Txn) error {
		for i := 0; i < len(kv); i += 2 {
			if err := txn.Set([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A backup restored into a new directory holds the same keys and values,
// small ones in the LSM tree and large ones in the value log, and not the
// deleted ones; it opens only with the store key.
func TestBackupRestoreRoundTrip(t *testing.T) {
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 300 {
		set(t, s, fmt.Sprintf("small/%03d", i), fmt.Sprint("value ", i), fmt.Sprintf("large/%03d", i), strings.Repeat(fmt.Sprint(i), 2000))
	}
	// Erased content, replaced or deleted, stays out of the backup.
	set(t, s, "revised", "first secret")
	set(t, s, "revised", "second version")
	set(t, s, "gone", "erased secret")
	if err := s.Update(context.Background(), func(txn *badger.Txn) error { return txn.Delete([]byte("gone")) }); err != nil {
		t.Fatal(err)
	}
	want := dump(t, s)

	var buf bytes.Buffer
	version, err := s.Backup(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if version == 0 {
		t.Fatal("backup reports version 0")
	}
	if !bytes.Contains(buf.Bytes(), []byte("value 42")) {
		t.Fatal("expected Badger's backup stream to be plaintext (the caller encrypts it); has Badger changed?")
	}
	for _, erased := range []string{"first secret", "erased secret"} {
		if bytes.Contains(buf.Bytes(), []byte(erased)) {
			t.Fatalf("the backup holds %q, which was replaced or deleted", erased)
		}
	}
	dir := filepath.Join(t.TempDir(), "db")
	if err := Restore(dir, testKey(), bytes.NewReader(buf.Bytes()), quiet); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, []byte("another key, 32 bytes long......"), quiet); err == nil {
		t.Fatal("the restored database opens with another key: it is not encrypted with the store key")
	}
	r, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := dump(t, r)
	// 600 values, "revised" and the store's schema version.
	if len(got) != len(want) || len(got) != 602 {
		t.Fatalf("restored %d keys, want %d (602)", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("key %q: restored %.20q, want %.20q", k, got[k], v)
		}
	}
	// The restored database takes new writes after the restored versions.
	set(t, r, "small/000", "rewritten")
	if dump(t, r)["small/000"] != "rewritten" {
		t.Fatal("a write to the restored database is not visible")
	}
	if err := Restore(dir, testKey(), bytes.NewReader(buf.Bytes()), quiet); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a database directory in use: %v", err)
	}
}

// A backup taken while writes go on is one snapshot: every transaction
// is in it whole or not at all, and the sequential writes in it are a
// prefix of those made.
func TestBackupIsASnapshotWhileWritesContinue(t *testing.T) {
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Enough data for several tables, so that the key space splits into
	// ranges a multi-goroutine stream would read apart.
	filler := strings.Repeat("f", 900)
	for i := range 20 {
		err := s.Update(context.Background(), func(txn *badger.Txn) error {
			for j := range 1000 {
				if err := txn.Set([]byte(fmt.Sprintf("m/%02d/%04d", i, j)), []byte(filler)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var written atomic.Int64
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			v := fmt.Sprint(i)
			if err := s.Update(context.Background(), func(txn *badger.Txn) error {
				// One transaction, keys at both ends of the key space.
				if err := txn.Set([]byte(fmt.Sprintf("a/%08d", i)), []byte(v)); err != nil {
					return err
				}
				return txn.Set([]byte(fmt.Sprintf("z/%08d", i)), []byte(v))
			}); err != nil {
				done <- err
				return
			}
			written.Store(int64(i + 1))
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for ; written.Load() < 100; <-tick.C {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not commit 100 transactions in 30 s")
		}
	}
	var buf bytes.Buffer
	_, err = s.Backup(&buf)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Restore(dir, testKey(), &buf, quiet); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := dump(t, r)
	var a, z int
	for k := range got {
		switch k[0] {
		case 'a':
			a++
		case 'z':
			z++
		}
	}
	for i := range a {
		if got[fmt.Sprintf("a/%08d", i)] == "" || got[fmt.Sprintf("z/%08d", i)] == "" {
			t.Fatalf("write %d is not whole in the backup (%d a-keys, %d z-keys)", i, a, z)
		}
	}
	if a != z || a < 100 || int64(a) > written.Load() {
		t.Fatalf("backup holds %d a-keys and %d z-keys; %d transactions were written", a, z, written.Load())
	}
	if len(got) != 20000+a+z+1 { // and the store's schema version
		t.Fatalf("backup holds %d keys, want %d", len(got), 20000+a+z+1)
	}
}

// Close does not close the database under a running backup: it makes the
// backup fail at its next write and waits for it.
func TestCloseWaitsForABackup(t *testing.T) {
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	set(t, s, "k", "v")
	entered, release := make(chan struct{}), make(chan struct{})
	backupErr := make(chan error)
	go func() {
		_, err := s.Backup(blockingWriter{entered: entered, release: release})
		backupErr <- err
	}()
	<-entered
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a backup was writing")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-backupErr; !errors.Is(err, ErrClosed) {
		t.Fatalf("backup cut by Close: %v, want ErrClosed", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(&bytes.Buffer{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("backup of a closed store: %v", err)
	}
}

// blockingWriter blocks its first write until release is closed.
type blockingWriter struct{ entered, release chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) {
	select {
	case <-b.entered:
	default:
		close(b.entered)
	}
	<-b.release
	return len(p), nil
}
