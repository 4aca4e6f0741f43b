package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// countKeys counts the keys under prefix.
func countKeys(t *testing.T, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func usage(t *testing.T, s *Store, topic [32]byte, author string) (uint64, uint64) {
	t.Helper()
	count, size, err := s.AuthorUsage(topic, author)
	if err != nil {
		t.Fatal(err)
	}
	return count, size
}

// A member that signs many envelopes at one seq leaves one piece of
// evidence, not one per envelope.
func TestEquivocationEvidenceIsBounded(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	ctx := context.Background()
	first := EnvelopeRef{Topic: topic, Author: mallory, Seq: 1, ID: [32]byte{1}}
	if res, err := s.PutEnvelope(ctx, first, []byte("held"), nil); err != nil || res != Stored {
		t.Fatalf("first envelope: %v, %v", res, err)
	}
	for i := byte(2); i <= 4; i++ {
		ref := first
		ref.ID = [32]byte{i}
		res, err := s.PutEnvelope(ctx, ref, bytes.Repeat([]byte{i}, 1000), nil)
		if err != nil || res != Equivocation {
			t.Fatalf("envelope %d: %v, %v, want Equivocation", i, res, err)
		}
	}
	ev, err := s.Equivocations()
	if err != nil || len(ev) != 1 || ev[0].Envelope != [32]byte{2} || ev[0].Seq != 1 || ev[0].Author != mallory {
		t.Fatalf("evidence %+v, %v: want the first different envelope only", ev, err)
	}
	if n := countKeys(t, s, []byte{pfxEquivocated}); n != 1 {
		t.Fatalf("%d evidence records stored, want 1", n)
	}
	if count, size := usage(t, s, topic, mallory); count != 2 || size != 4+1000 {
		t.Fatalf("usage %d envelopes, %d bytes: want the envelope and its evidence, 2 and 1004", count, size)
	}
}

// An envelope whose record merge refuses still enters its author's chain,
// so the version vector moves past it; the bulletin's record is unchanged.
func TestRefusedMergeStillEntersTheChain(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	ctx := context.Background()
	if err := put(t, s, version(topic, 1, 1)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Bulletin(bullID)

	forged := version(topic, 2, 1)
	forged.Author, forged.Envelope = mallory, envID(topic, mallory, 1)
	moved := version(topic, 2, 2)
	moved.Created = created.Add(time.Hour)
	for _, tc := range []struct {
		rec  *BulletinRecord
		want error
	}{{forged, ErrNotOriginator}, {moved, ErrBadRevision}} {
		in := *tc.rec
		ref := EnvelopeRef{Topic: topic, Author: in.Author, Seq: in.Seq, ID: in.Envelope}
		if in.Seq > 1 {
			prev := envID(topic, in.Author, in.Seq-1)
			ref.Prev = prev[:]
		}
		res, err := s.PutEnvelope(ctx, ref, []byte("envelope"), tc.rec)
		if res != Chained || !errors.Is(err, tc.want) {
			t.Fatalf("%s seq %d: %v, %v; want Chained and %v", in.Author, in.Seq, res, err, tc.want)
		}
		if tc.rec.History != nil || tc.rec.RecvSeq != 0 {
			t.Fatalf("a refused record was replaced by a merged one: %+v", tc.rec)
		}
		if has, err := s.HasSeq(topic, in.Author, in.Seq); err != nil || !has {
			t.Fatalf("%s seq %d is not in its chain: %v", in.Author, in.Seq, err)
		}
		if vv, _ := s.VersionVector(topic); vv[in.Author] != in.Seq {
			t.Fatalf("version vector %v: %s should be at %d", vv, in.Author, in.Seq)
		}
		if res, err := s.PutEnvelope(ctx, ref, []byte("envelope"), &in); res != Duplicate || err != nil {
			t.Fatalf("the chained envelope again: %v, %v; want Duplicate", res, err)
		}
	}
	after, _ := s.Bulletin(bullID)
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(before)
	if !bytes.Equal(a, b) {
		t.Fatalf("the record changed:\n%s\nwas\n%s", a, b)
	}
}

// record is a bulletin created at c, by its own author (one seq each).
func record(i int, c time.Time) *BulletinRecord {
	var topic [32]byte
	author := fmt.Sprintf("author%018d", i)
	return &BulletinRecord{ID: fmt.Sprintf("bulletin%018d", i), Topic: topic, Category: "terrorism",
		Envelope: envID(topic, author, 1), Author: author, Seq: 1, Kind: "bulletin", Version: 1,
		Created: c, Bulletin: json.RawMessage(`{}`)}
}

func listIDs(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	recs, err := s.List(q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

// Far dates sort by real time: a bulletin dated 9999 does not wrap
// around and hide recent ones from a --since listing, nor does one
// dated before 1970.
func TestListOrdersAnyYearByRealTime(t *testing.T) {
	s := openStore(t)
	now := time.Now().UTC()
	times := []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		now.Add(-24 * time.Hour),
		now.Add(-30 * 24 * time.Hour),
		time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, c := range times {
		if err := put(t, s, record(i, c)); err != nil {
			t.Fatal(err)
		}
	}
	id := func(i int) string { return record(i, time.Time{}).ID }
	want := []string{id(0), id(1), id(2), id(3), id(4)}
	if got := listIDs(t, s, Query{}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want newest first %v", got, want)
	}
	if got := listIDs(t, s, Query{Since: now.Add(-7 * 24 * time.Hour)}); fmt.Sprint(got) != fmt.Sprint(want[:2]) {
		t.Fatalf("since 7 days ago: listed %v, want %v", got, want[:2])
	}
	for _, c := range times {
		got, _, ok := splitIndexKey(append(createdKey(c), "id"...))
		if !ok || !got.Equal(c) {
			t.Fatalf("created %v decodes as %v", c, got)
		}
	}
}

// A store written with the old list-index keys (Unix nanoseconds) and no
// usage counters is upgraded when opened: listing works again and each
// author's usage is counted.
func TestOpenUpgradesOldListIndexes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var recs []*BulletinRecord
	for i, c := range []time.Time{now.Add(-48 * time.Hour), now.Add(-time.Hour), now.Add(-30 * 24 * time.Hour)} {
		recs = append(recs, record(i, c))
		if err := put(t, s, recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	wantCount, wantBytes := usage(t, s, recs[0].Topic, recs[0].Author)
	// Make it a store of the previous version.
	err = s.Update(context.Background(), func(txn *badger.Txn) error {
		for _, p := range []byte{pfxIndex, pfxUsage, pfxMeta} {
			var keys [][]byte
			each(txn, []byte{p}, func(k, _ []byte) error { keys = append(keys, k); return nil })
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, r := range recs {
			for _, kv := range [][]byte{{idxAll}, append([]byte{idxTopic}, r.Topic[:]...), append([]byte{idxOriginator}, r.Author...)} {
				old := key(pfxIndex, kv, []byte{0}, u64(uint64(r.Created.UnixNano())), []byte(r.ID))
				if err := txn.Set(old, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []string{recs[1].ID, recs[0].ID}
	if got := listIDs(t, s, Query{Since: now.Add(-7 * 24 * time.Hour)}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the upgrade, since 7 days ago: listed %v, want %v", got, want)
	}
	if got := listIDs(t, s, Query{Originator: recs[2].Author}); len(got) != 1 || got[0] != recs[2].ID {
		t.Fatalf("by originator: listed %v", got)
	}
	if n := countKeys(t, s, []byte{pfxIndex}); n != 4*len(recs) {
		t.Fatalf("%d list-index keys, want %d: old ones left behind?", n, 4*len(recs))
	}
	if count, size := usage(t, s, recs[0].Topic, recs[0].Author); count != wantCount || size != wantBytes || count != 1 {
		t.Fatalf("recounted usage %d/%d, want %d/%d", count, size, wantCount, wantBytes)
	}
	if v, err := readSchema(s.db); err != nil || v != schemaVersion {
		t.Fatalf("schema %d, %v", v, err)
	}
}

// The quota refuses an envelope that would take its author past it, and
// stores nothing of it; evidence counts too.
func TestAuthorQuota(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	ctx := context.Background()
	s.SetAuthorQuota(2500)
	ref := func(seq uint64, id byte) EnvelopeRef {
		r := EnvelopeRef{Topic: topic, Author: mallory, Seq: seq, ID: [32]byte{id}}
		if seq > 1 {
			r.Prev = []byte{byte(seq - 1), 31: 0}
		}
		return r
	}
	if res, err := s.PutEnvelope(ctx, ref(1, 1), make([]byte, 1000), nil); err != nil || res != Stored {
		t.Fatalf("within quota: %v, %v", res, err)
	}
	if res, err := s.PutEnvelope(ctx, ref(1, 9), make([]byte, 1000), nil); err != nil || res != Equivocation {
		t.Fatalf("evidence within quota: %v, %v", res, err)
	}
	_, err := s.PutEnvelope(ctx, ref(2, 2), make([]byte, 501), nil)
	if !errors.Is(err, ErrQuota) {
		t.Fatalf("past the quota: %v, want ErrQuota", err)
	}
	t.Log(err)
	if has, _ := s.HasSeq(topic, mallory, 2); has {
		t.Fatal("an envelope past the quota was stored")
	}
	if _, err := s.Envelope([32]byte{2}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the envelope past the quota: %v, want ErrNotFound", err)
	}
	if count, size := usage(t, s, topic, mallory); count != 2 || size != 2000 {
		t.Fatalf("usage %d/%d, want 2/2000", count, size)
	}
	if _, err := s.PutEnvelope(ctx, ref(2, 2), make([]byte, 500), nil); err != nil {
		t.Fatalf("up to the quota exactly: %v", err)
	}
	if count, _ := usage(t, s, topic, alice); count != 0 {
		t.Fatal("another author is charged")
	}
	s.SetAuthorQuota(0)
	if _, err := s.PutEnvelope(ctx, ref(3, 3), make([]byte, 5000), nil); err != nil {
		t.Fatalf("without a quota: %v", err)
	}
}

// Counters are read and written in the writing transaction: when the
// group committer runs a group again without a failed write, every put is
// still counted once.
func TestAuthorUsageSurvivesGroupRetries(t *testing.T) {
	s := openStore(t)
	var topic [32]byte
	const n = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wantCount, wantBytes uint64
	for i := range n {
		wg.Go(func() {
			if i%5 == 0 { // fails, so its group runs again without it
				s.Update(context.Background(), func(*badger.Txn) error { return errors.New("refused") })
				return
			}
			id := func(seq int) [32]byte { return [32]byte{byte(seq), byte(seq >> 8), 1} }
			prev := id(i - 1)
			ref := EnvelopeRef{Topic: topic, Author: alice, Seq: uint64(i), Prev: prev[:], ID: id(i)}
			size := 100 + i
			if _, err := s.PutEnvelope(context.Background(), ref, make([]byte, size), nil); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			wantCount, wantBytes = wantCount+1, wantBytes+uint64(size)
			mu.Unlock()
		})
	}
	wg.Wait()
	if count, size := usage(t, s, topic, alice); count != wantCount || size != wantBytes {
		t.Fatalf("usage %d/%d, want %d/%d", count, size, wantCount, wantBytes)
	}
}
