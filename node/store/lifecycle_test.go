package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

const (
	alice   = "aliceaaaaaaaaaaaaaaaaaaa"
	mallory = "malloryaaaaaaaaaaaaaaaaa"
	bullID  = "bulletinaaaaaaaaaaaaaaaaaa"
)

var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func envID(topic [32]byte, author string, seq uint64) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%x/%s/%d", topic, author, seq))
}

// version is the record an envelope carrying version v makes alone.
func version(topic [32]byte, v int, seq uint64) *BulletinRecord {
	kind := "revision"
	if v == 1 {
		kind = "bulletin"
	}
	return &BulletinRecord{ID: bullID, Topic: topic, Category: "terrorism", Envelope: envID(topic, alice, seq),
		Author: alice, Seq: seq, Kind: kind, Version: v, Created: created,
		Modified: created.Add(time.Duration(v) * time.Hour), Bulletin: json.RawMessage(fmt.Sprintf(`{"title":"v%d"}`, v))}
}

// revocation is the record a revocation envelope makes alone.
func revocation(topic [32]byte, author string, seq uint64, reason string) *BulletinRecord {
	ts := created.Add(time.Duration(seq) * 24 * time.Hour)
	return &BulletinRecord{ID: bullID, Topic: topic, Category: "terrorism", Envelope: envID(topic, author, seq),
		Author: author, Seq: seq, Kind: protocol.KindRevocation, Created: ts, Reason: reason, RevokedAt: ts}
}

func put(t *testing.T, s *Store, rec *BulletinRecord) error {
	t.Helper()
	ref := EnvelopeRef{Topic: rec.Topic, Author: rec.Author, Seq: rec.Seq, ID: rec.Envelope}
	if rec.Seq > 1 {
		prev := envID(rec.Topic, rec.Author, rec.Seq-1)
		ref.Prev = prev[:]
	}
	res, err := s.PutEnvelope(context.Background(), ref, []byte("envelope"), rec)
	if err == nil && res != Stored {
		t.Fatalf("seq %d: result %d", rec.Seq, res)
	}
	return err
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// Whatever order a bulletin's versions and revocation arrive in, every
// node ends with the same record: the latest version, or the tombstone.
func TestMergeIsOrderIndependent(t *testing.T) {
	s := openStore(t)
	for i, order := range permutations(4) {
		var topic [32]byte
		topic[0] = byte(i)
		events := []*BulletinRecord{version(topic, 1, 1), version(topic, 2, 2), version(topic, 3, 3), revocation(topic, alice, 4, "wrong vessel")}
		// Each bulletin needs its own ID across topics in one store.
		id := fmt.Sprintf("%s%c", bullID[:25], 'a'+i)
		for _, k := range order {
			events[k].ID = id
			if err := put(t, s, events[k]); err != nil {
				t.Fatalf("order %v: %v", order, err)
			}
		}
		rec, err := s.Bulletin(id)
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Revoked || rec.Reason != "wrong vessel" || len(rec.Bulletin) != 0 || rec.Version != 3 || len(rec.History) != 4 {
			t.Fatalf("order %v: revoked=%v reason=%q content=%s version=%d history=%d", order, rec.Revoked, rec.Reason, rec.Bulletin, rec.Version, len(rec.History))
		}
		for j, h := range rec.History {
			if h.Seq != uint64(j+1) {
				t.Fatalf("order %v: history out of order: %+v", order, rec.History)
			}
		}
	}
	listed, err := s.List(Query{})
	if err != nil || len(listed) != 24 {
		t.Fatalf("tombstones are listed once each: got %d, %v", len(listed), err)
	}
	feed, err := s.Since(0, 1000)
	if err != nil || len(feed) != 24 {
		t.Fatalf("the change feed holds each bulletin once: got %d, %v", len(feed), err)
	}
}

func TestLatestVersionWinsInAnyOrder(t *testing.T) {
	s := openStore(t)
	for i, order := range permutations(3) {
		var topic [32]byte
		topic[0] = byte(i)
		id := fmt.Sprintf("%s%c", bullID[:25], 'a'+i)
		events := []*BulletinRecord{version(topic, 1, 1), version(topic, 2, 2), version(topic, 3, 3)}
		for _, k := range order {
			events[k].ID = id
			if err := put(t, s, events[k]); err != nil {
				t.Fatal(err)
			}
		}
		rec, _ := s.Bulletin(id)
		if rec.Version != 3 || string(rec.Bulletin) != `{"title":"v3"}` || len(rec.History) != 3 || rec.Envelope != envID(topic, alice, 3) {
			t.Fatalf("order %v: version %d, content %s, history %d", order, rec.Version, rec.Bulletin, len(rec.History))
		}
	}
}

// Before any version arrives, a revocation's author cannot be checked: it
// is kept provisionally, and the version decides whether it counts.
func TestOnlyTheOriginatorsRevocationCounts(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	if err := put(t, s, revocation(topic, mallory, 1, "forged")); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.Bulletin(bullID); !rec.Revoked {
		t.Fatal("a revocation alone does not make a tombstone")
	}
	if err := put(t, s, version(topic, 1, 1)); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.Bulletin(bullID)
	if rec.Revoked || len(rec.Bulletin) == 0 || len(rec.History) != 1 || rec.Author != alice {
		t.Fatalf("the forged revocation still counts: revoked=%v history=%+v", rec.Revoked, rec.History)
	}
	// Now that the originator is known, another's revocation is refused.
	if err := put(t, s, revocation(topic, mallory, 2, "forged again")); !errors.Is(err, ErrNotOriginator) {
		t.Fatalf("got %v, want ErrNotOriginator", err)
	}
	// So is a revision by another member, or one that moves the bulletin.
	other := version(topic, 2, 3)
	other.Author, other.Envelope = mallory, envID(topic, mallory, 3)
	if err := put(t, s, other); !errors.Is(err, ErrNotOriginator) {
		t.Fatalf("got %v, want ErrNotOriginator", err)
	}
	moved := version(topic, 2, 4)
	moved.Created = created.Add(time.Hour)
	if err := put(t, s, moved); !errors.Is(err, ErrBadRevision) {
		t.Fatalf("got %v, want ErrBadRevision", err)
	}
	// A late, lower version goes into the history only.
	if err := put(t, s, version(topic, 3, 2)); err != nil {
		t.Fatal(err)
	}
	if err := put(t, s, version(topic, 2, 3)); err != nil {
		t.Fatal(err)
	}
	rec, _ = s.Bulletin(bullID)
	if rec.Version != 3 || string(rec.Bulletin) != `{"title":"v3"}` || len(rec.History) != 3 {
		t.Fatalf("version %d, content %s, history %d", rec.Version, rec.Bulletin, len(rec.History))
	}
}

func TestExpireErasesContentKeepsTombstone(t *testing.T) {
	s := openStore(t)
	var short, long [32]byte
	short[0], long[0] = 1, 2
	expiring := version(short, 1, 1)
	until := created.Add(48 * time.Hour)
	expiring.ValidUntil = &until
	old := version(long, 1, 1)
	old.ID = "otheraaaaaaaaaaaaaaaaaaaa"
	for _, r := range []*BulletinRecord{expiring, old} {
		if err := put(t, s, r); err != nil {
			t.Fatal(err)
		}
	}
	limits := map[[32]byte]time.Duration{long: 30 * 24 * time.Hour}
	if n, err := s.Expire(context.Background(), created.Add(24*time.Hour), limits); err != nil || n != 0 {
		t.Fatalf("erased %d before time (%v)", n, err)
	}
	if n, err := s.Expire(context.Background(), until, limits); err != nil || n != 1 {
		t.Fatalf("at valid_until: erased %d, want 1 (%v)", n, err)
	}
	if n, err := s.Expire(context.Background(), created.Add(31*24*time.Hour), limits); err != nil || n != 1 {
		t.Fatalf("past the age limit: erased %d, want 1 (%v)", n, err)
	}
	for _, id := range []string{expiring.ID, old.ID} {
		rec, err := s.Bulletin(id)
		if err != nil || !rec.Expired || len(rec.Bulletin) != 0 || len(rec.History) != 1 {
			t.Fatalf("%s: no tombstone: %+v, %v", id, rec, err)
		}
	}
	if listed, _ := s.List(Query{}); len(listed) != 0 {
		t.Fatalf("expired bulletins are still listed: %d", len(listed))
	}
	if feed, _ := s.Since(0, 10); len(feed) != 0 {
		t.Fatalf("expired bulletins are still in the change feed: %d", len(feed))
	}
	if _, err := s.Envelope(expiring.Envelope); err != nil {
		t.Fatalf("the envelope must stay for sync: %v", err)
	}
	// A later version that extends valid_until brings the bulletin back;
	// whether it is itself due is for the node to say (retainOnArrival).
	extended := version(short, 2, 2)
	later := until.Add(30 * 24 * time.Hour)
	extended.ValidUntil = &later
	if err := put(t, s, extended); err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.Bulletin(expiring.ID); rec.Expired || rec.Version != 2 || len(rec.Bulletin) == 0 {
		t.Fatalf("the extended version is not held: expired %v, version %d", rec.Expired, rec.Version)
	}
	if listed, _ := s.List(Query{}); len(listed) != 1 {
		t.Fatalf("the extended bulletin is not listed again: %d listed", len(listed))
	}
}

func TestLastRecvSeqFollowsTheChangeFeed(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	if last, err := s.LastRecvSeq(); err != nil || last != 0 {
		t.Fatalf("empty store: last %d, %v", last, err)
	}
	for v := 1; v <= 3; v++ {
		if err := put(t, s, version(topic, v, uint64(v))); err != nil {
			t.Fatal(err)
		}
		feed, _ := s.Since(0, 10)
		last, err := s.LastRecvSeq()
		if err != nil || len(feed) != 1 || last != feed[0].RecvSeq {
			t.Fatalf("after version %d: last %d, feed %+v, %v", v, last, feed, err)
		}
		if after, _ := s.Since(last, 10); len(after) != 0 {
			t.Fatalf("a watch from seq %d would replay %d bulletins", last, len(after))
		}
	}
}

func TestHasHole(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	hole := func() bool {
		t.Helper()
		h, err := s.HasHole(topic, alice)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if hole() {
		t.Fatal("an empty log has a hole")
	}
	for _, step := range []struct {
		seq  uint64
		hole bool
	}{{1, false}, {3, true}, {4, true}, {2, false}} {
		if err := put(t, s, version(topic, int(step.seq), step.seq)); err != nil {
			t.Fatal(err)
		}
		if got := hole(); got != step.hole {
			t.Fatalf("after seq %d: hole %v, want %v", step.seq, got, step.hole)
		}
	}
}

// The chain is checked both ways: an envelope that does not continue the
// stored one before it, or is not the prev of the stored one after it,
// is refused; the right one is then stored.
func TestChainIsCheckedBothWays(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	ref := func(seq uint64, id, prev byte) EnvelopeRef {
		r := EnvelopeRef{Topic: topic, Author: alice, Seq: seq, ID: [32]byte{id}}
		if prev != 0 {
			p := [32]byte{prev}
			r.Prev = p[:]
		}
		return r
	}
	putRef := func(r EnvelopeRef) error {
		_, err := s.PutEnvelope(context.Background(), r, []byte("envelope"), nil)
		return err
	}
	for _, r := range []EnvelopeRef{ref(1, 1, 0), ref(3, 3, 2)} { // seq 2 missing
		if err := putRef(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := putRef(ref(2, 9, 1)); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("seq 2 that seq 3 does not name as its prev: %v, want ErrBrokenChain", err)
	}
	if err := putRef(ref(2, 2, 8)); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("seq 2 that does not continue seq 1: %v, want ErrBrokenChain", err)
	}
	if err := putRef(ref(2, 2, 1)); err != nil {
		t.Fatalf("the right seq 2: %v", err)
	}
	if hole, _ := s.HasHole(topic, alice); hole {
		t.Fatal("a hole is left")
	}
	if last, err := s.LastOf(topic, alice); err != nil || last.Seq != 3 || last.ID != [32]byte{3} {
		t.Fatalf("LastOf = %+v, %v", last, err)
	}
}
