package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testKey() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// Concurrent writers are grouped; every acknowledged write survives a
// reopen, and a failing write does not take its group down with it.
func TestGroupCommitIsDurableAndIsolatesFailures(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(txn *badger.Txn) error {
				if i%50 == 7 {
					return fmt.Errorf("refused %d", i)
				}
				return txn.Set([]byte(fmt.Sprintf("k%04d", i)), []byte("v"))
			})
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		var found bool
		s.View(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte(fmt.Sprintf("k%04d", i)))
			found = err == nil
			return nil
		})
		wantFail := i%50 == 7
		if wantFail != (errs[i] != nil) || found == wantFail {
			t.Fatalf("write %d: err=%v found=%v", i, errs[i], found)
		}
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir, testKey(), quiet); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Update(context.Background(), func(txn *badger.Txn) error { return txn.Set([]byte("k"), []byte("v")) })
	s.Close()
	other := []byte("ffffffffffffffffffffffffffffffff")
	if _, err := Open(dir, other, quiet); err == nil {
		t.Fatal("opened with the wrong key")
	}
}

func TestUpdateAfterCloseFails(t *testing.T) {
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	err = s.Update(context.Background(), func(txn *badger.Txn) error { return nil })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}
