package store

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestReserveArithmetic(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		free, reserve uint64
		want          string
	}{
		{64 * mib, 64 * mib, ""},
		{1 << 40, 128 * mib, ""},
		{0, 0, ""},
		{64*mib - 1, 64 * mib, "disk full at /srv/concord/db: 63.9 MiB free, 64 MiB kept in reserve: free space or move the home"},
		{12*mib + 320000, 64 * mib, "disk full at /srv/concord/db: 12.3 MiB free, 64 MiB kept in reserve: free space or move the home"},
		{0, 1, "disk full at /srv/concord/db: 0 MiB free, 0.0 MiB kept in reserve: free space or move the home"},
	} {
		err := ReserveError("/srv/concord/db", c.free, c.reserve)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("free %d, reserve %d: refused: %v", c.free, c.reserve, err)
		case c.want != "" && (!errors.Is(err, ErrDiskFull) || err.Error() != c.want):
			t.Errorf("free %d, reserve %d:\n got %v\nwant %s", c.free, c.reserve, err, c.want)
		}
	}
}

// Below the reserve every write fails with ErrDiskFull and reads go on;
// once there is room again the next write succeeds, without reopening.
func TestWritesBelowTheReserveFailAndResume(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := func(k string) error {
		return s.Update(ctx, func(txn *badger.Txn) error { return txn.Set([]byte(k), []byte("v")) })
	}
	if err := set("before"); err != nil {
		t.Fatal(err)
	}
	s.SetDiskReserve(math.MaxUint64) // no filesystem has that much free
	if err := set("refused"); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write below the reserve: got %v, want ErrDiskFull", err)
	}
	if err := s.PutPending(ctx, []byte("nonce"), PendingInvitation{}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("pending invitation below the reserve: got %v, want ErrDiskFull", err)
	}
	if !has(s, "before") || has(s, "refused") {
		t.Fatal("reads below the reserve: the earlier key is gone or the refused one was written")
	}
	s.SetDiskReserve(1)
	if err := set("after"); err != nil {
		t.Fatalf("write once space is back: %v", err)
	}
	if !has(s, "after") {
		t.Fatal("the write after recovery is not readable")
	}
}

func has(s *Store, k string) bool {
	return s.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(k))
		return err
	}) == nil
}

// Groups are cut at MaxGroupBytes, so that the reserve covers one group;
// a write bigger than that goes alone.
func TestGroupsAreBoundedInBytes(t *testing.T) {
	s := &Store{writes: make(chan *write, 8)}
	sizes := func(ws []*write) (out []int) {
		for _, w := range ws {
			out = append(out, w.size)
		}
		return out
	}
	const mib = 1 << 20
	for _, size := range []int{3 * mib, 3 * mib, 3 * mib, 10} {
		s.writes <- &write{size: size}
	}
	group, next := s.gather(&write{size: 1 * mib})
	if got := sizes(group); len(got) != 3 || next == nil || next.size != 3*mib {
		t.Fatalf("group %v, next %v: want 1+3+3 MiB and the third 3 MiB write held over", got, next)
	}
	group, next = s.gather(&write{size: 2 * MaxGroupBytes})
	if len(group) != 1 || next == nil || next.size != 10 {
		t.Fatalf("an oversized write shares its group: %v", sizes(group))
	}
	if group, next = s.gather(next); len(group) != 1 || next != nil {
		t.Fatalf("the queue's last write: group %v, next %v", sizes(group), next)
	}
}
