package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/protocol"
)

const bob = "bobbbbbbbbbbbbbbbbbbbbbb"

var phoneKey = entity.Key{Type: "phone", Value: "+2348012345678"}

// content is a bulletin's JSON as the node stores it.
func content(country, title, body string, ents ...protocol.Entity) json.RawMessage {
	b := protocol.Bulletin{Originator: protocol.Originator{Country: country}}
	b.Title, b.Body, b.Entities = title, body, ents
	raw, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return raw
}

func phone(v string) protocol.Entity { return protocol.Entity{Type: "phone", Value: v} }

// bulletin is the record of version v of bulletin id, by author at seq.
func bulletin(topic [32]byte, author string, seq uint64, id string, at time.Time, v int, b json.RawMessage) *BulletinRecord {
	kind := "bulletin"
	if v > 1 {
		kind = "revision"
	}
	return &BulletinRecord{ID: id, Topic: topic, Category: "terrorism", Envelope: envID(topic, author, seq),
		Author: author, Seq: seq, Kind: kind, Version: v, Created: at, Modified: at.Add(time.Duration(v) * time.Minute), Bulletin: b}
}

func mustPut(t *testing.T, s *Store, rec *BulletinRecord) {
	t.Helper()
	if err := put(t, s, rec); err != nil {
		t.Fatal(err)
	}
}

func postings(t *testing.T, s *Store, k entity.Key) ([]string, int) {
	t.Helper()
	ids, total, err := s.EntityPostings(k, 10)
	if err != nil {
		t.Fatal(err)
	}
	return ids, total
}

func search(t *testing.T, s *Store, q TextQuery) []string {
	t.Helper()
	hits, err := s.Search(q)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, h := range hits {
		ids = append(ids, h.Record.ID)
	}
	return ids
}

// indexDump returns every search-index key and value.
func indexDump(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(func(txn *badger.Txn) error {
		for _, p := range []byte{pfxEntity, pfxEntityCount, pfxWord, pfxDoc} {
			if err := each(txn, []byte{p}, func(k, v []byte) error { out[string(k)] = string(v); return nil }); err != nil {
				return err
			}
		}
		v, err := getValue(txn, textStatsKey)
		if err == nil {
			out[string(textStatsKey)] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A revision replaces its bulletin's postings, a revocation removes them
// all, counters included.
func TestIndexFollowsRevisionAndRevocation(t *testing.T) {
	s := openStore(t)
	topic := [32]byte{1}
	mustPut(t, s, bulletin(topic, alice, 1, bullID, created, 1, content("NGA", "Cocaine shipment", "Seen in Lagos harbour", phone("0801 234 5678"))))
	if ids, total := postings(t, s, phoneKey); !slices.Equal(ids, []string{bullID}) || total != 1 {
		t.Fatalf("postings %v total %d", ids, total)
	}
	if keys, err := s.BulletinEntities(bullID); err != nil || len(keys) != 1 || keys[0] != phoneKey {
		t.Fatalf("entities %v, %v", keys, err)
	}
	if got := search(t, s, TextQuery{Words: []string{"LAGOS"}}); !slices.Equal(got, []string{bullID}) {
		t.Fatalf("lagos: %v", got)
	}

	other := entity.Key{Type: "phone", Value: "+2348099999999"}
	mustPut(t, s, bulletin(topic, alice, 2, bullID, created, 2, content("NGA", "Heroin shipment", "Seen in Abuja", phone("+234 809 999 9999"))))
	if _, total := postings(t, s, phoneKey); total != 0 {
		t.Fatalf("old phone still posted: %d", total)
	}
	if ids, _ := postings(t, s, other); !slices.Equal(ids, []string{bullID}) {
		t.Fatalf("new phone: %v", ids)
	}
	if got := search(t, s, TextQuery{Words: []string{"lagos"}}); len(got) != 0 {
		t.Fatalf("old word still found: %v", got)
	}
	if got := search(t, s, TextQuery{Words: []string{"abuja"}}); len(got) != 1 {
		t.Fatalf("new word: %v", got)
	}

	if err := put(t, s, revocation(topic, alice, 3, "wrong")); err != nil {
		t.Fatal(err)
	}
	if dump := indexDump(t, s); len(dump) != 1 || dump[string(textStatsKey)] != string(usageValue(0, 0)) {
		t.Fatalf("a revoked bulletin left index entries: %q", slices.Collect(maps.Keys(dump)))
	}
	if keys, err := s.BulletinEntities(bullID); err != nil || len(keys) != 0 {
		t.Fatalf("revoked entities %v, %v", keys, err)
	}
	if _, err := s.BulletinEntities("nosuchbulletin"); err == nil {
		t.Fatal("an unknown bulletin has entities")
	}
}

// Retention erases a bulletin's postings; a sealed bulletin never has any.
func TestIndexSkipsExpiredAndSealed(t *testing.T) {
	s := openStore(t)
	topic := [32]byte{1}
	rec := bulletin(topic, alice, 1, bullID, created, 1, content("NGA", "Vessel", "", phone("+2348012345678")))
	until := created.Add(time.Hour)
	rec.ValidUntil = &until
	mustPut(t, s, rec)
	sealed := &BulletinRecord{ID: "sealedbulletinaaaaaaaaaaa", Topic: topic, Category: "terrorism", Envelope: envID(topic, bob, 1),
		Author: bob, Seq: 1, Kind: "bulletin", Created: created, Sealed: true, Audience: []string{bob}}
	mustPut(t, s, sealed)
	if _, total := postings(t, s, phoneKey); total != 1 {
		t.Fatalf("total %d before expiry", total)
	}
	if n, err := s.Expire(context.Background(), until, nil); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if dump := indexDump(t, s); len(dump) != 1 {
		t.Fatalf("expired or sealed bulletins left index entries: %q", slices.Collect(maps.Keys(dump)))
	}
}

// corpus puts four bulletins from two members and two topics.
func corpus(t *testing.T, s *Store) (a, b, c, d string) {
	t.Helper()
	t1, t2 := [32]byte{1}, [32]byte{2}
	a, b, c, d = "bulletinaaaaaaaaaaaaaaaaa1", "bulletinaaaaaaaaaaaaaaaaa2", "bulletinaaaaaaaaaaaaaaaaa3", "bulletinaaaaaaaaaaaaaaaaa4"
	mustPut(t, s, bulletin(t1, alice, 1, a, created, 1, content("NGA", "Cocaine seized in Lagos", "The vessel Blue Star carried cocaine, cocaine and more cocaine.", phone("0801 234 5678"))))
	mustPut(t, s, bulletin(t1, alice, 2, b, created.Add(time.Hour), 1, content("NGA", "Lagos port report", "A star witness saw the blue vessel leave; cocaine suspected.")))
	mustPut(t, s, bulletin(t2, bob, 1, c, created.Add(2*time.Hour), 1, content("FRA", "Trafic à Marseille", "Un numéro nigérian: appel au +234 801 234 5678 depuis le port.", phone("+234 801 234 5678"))))
	mustPut(t, s, bulletin(t2, bob, 2, d, created.Add(3*time.Hour), 1, content("FRA", "Réunion", "Rien à signaler sur le port.")))
	return a, b, c, d
}

func TestSearchQueries(t *testing.T) {
	s := openStore(t)
	a, b, c, d := corpus(t, s)
	t2 := [32]byte{2}
	cases := []struct {
		name string
		q    TextQuery
		want []string
	}{
		{"AND of words", TextQuery{Words: []string{"lagos", "cocaine"}}, []string{a, b}},
		{"folded word", TextQuery{Words: []string{"NUMERO"}}, []string{c}},
		{"phrase", TextQuery{Phrases: [][]string{{"blue", "star"}}}, []string{a}},
		{"phrase in order only", TextQuery{Phrases: [][]string{{"star", "blue"}}}, []string{}},
		{"prefix", TextQuery{Prefixes: []string{"marse*"}}, []string{c}},
		{"prefix and word", TextQuery{Prefixes: []string{"coc"}, Words: []string{"port"}}, []string{b}},
		{"entity across spellings", TextQuery{Entities: []entity.Key{phoneKey}}, []string{c, a}},
		{"entity and word", TextQuery{Entities: []entity.Key{phoneKey}, Words: []string{"vessel"}}, []string{a}},
		{"shorter text ranks first", TextQuery{Words: []string{"port"}}, []string{d, b, c}},
		{"topic filter", TextQuery{Words: []string{"port"}, Filter: Query{Topic: &t2}}, []string{d, c}},
		{"originator filter", TextQuery{Words: []string{"port"}, Filter: Query{Originator: alice}}, []string{b}},
		{"since filter", TextQuery{Words: []string{"port"}, Filter: Query{Since: created.Add(150 * time.Minute)}}, []string{d}},
		{"limit", TextQuery{Words: []string{"port"}, Limit: 1}, []string{d}},
		{"absent word", TextQuery{Words: []string{"lagos", "absent"}}, []string{}},
	}
	for _, tc := range cases {
		if got := search(t, s, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := s.Search(TextQuery{Words: []string{"  ,;"}}); err == nil {
		t.Error("a search without terms was accepted")
	}
}

// Relevance first: the bulletin that says cocaine four times outranks
// the one that says it once; Matches name what matched.
func TestSearchRanksAndReportsMatches(t *testing.T) {
	s := openStore(t)
	a, b, _, _ := corpus(t, s)
	hits, err := s.Search(TextQuery{Words: []string{"cocaine"}, Prefixes: []string{"ves*"}, Phrases: [][]string{{"blue", "star"}}})
	if err != nil || len(hits) != 1 || hits[0].Record.ID != a {
		t.Fatalf("hits %+v, %v", hits, err)
	}
	if want := []string{"cocaine", "vessel", "blue star"}; !slices.Equal(hits[0].Matches, want) {
		t.Fatalf("matches %q, want %q", hits[0].Matches, want)
	}
	hits, err = s.Search(TextQuery{Words: []string{"cocaine"}})
	if err != nil || len(hits) != 2 || hits[0].Record.ID != a || hits[1].Record.ID != b || hits[0].Score <= hits[1].Score {
		t.Fatalf("ranking: %+v, %v", hits, err)
	}
}

// Common values are counted in full, listed up to the limit, newest first.
func TestEntityPostingsCountsAll(t *testing.T) {
	s := openStore(t)
	topic := [32]byte{1}
	var ids []string
	for i := range 30 {
		id := fmt.Sprintf("bulletinaaaaaaaaaaaaaaa%03d", i)
		ids = append(ids, id)
		mustPut(t, s, bulletin(topic, alice, uint64(i+1), id, created.Add(time.Duration(i)*time.Minute), 1, content("NGA", "t", "", phone("08012345678"))))
	}
	got, total := postings(t, s, phoneKey)
	slices.Reverse(ids)
	if total != 30 || !slices.Equal(got, ids[:10]) {
		t.Fatalf("total %d, ids %v", total, got)
	}
}

// Reindex gives what incremental indexing gave, and repairs a damaged
// index: a lost counter, a lost reverse entry's postings, stale postings.
func TestReindexEqualsIncremental(t *testing.T) {
	s := openStore(t)
	corpus(t, s)
	want := indexDump(t, s)
	err := s.Update(context.Background(), func(txn *badger.Txn) error {
		for _, k := range []string{string(entityCountKey(phoneKey)), string(textStatsKey), string(docKey("bulletinaaaaaaaaaaaaaaaaa4"))} {
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return txn.Set(docKey("gonebulletin"), (&docInfo{Created: created, Words: []wordFreq{{"ghost", 1}}}).encode())
	})
	if err != nil {
		t.Fatal(err)
	}
	var calls, last int
	if err := s.Reindex(context.Background(), func(done, total int) { calls, last = calls+1, done }); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last != 4 {
		t.Fatalf("progress: %d calls, last %d", calls, last)
	}
	if got := indexDump(t, s); !maps.Equal(got, want) {
		t.Fatalf("reindexed index differs: %d entries, want %d", len(got), len(want))
	}
	if err := s.Reindex(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := indexDump(t, s); !maps.Equal(got, want) {
		t.Fatal("a second reindex changed the index")
	}
}

// A store written before the search indexes gets them when opened.
func TestOpenBuildsSearchIndexesOfOlderStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	corpus(t, s)
	want := indexDump(t, s)
	// Back to schema 2: no search index at all.
	for _, p := range []byte{pfxEntity, pfxEntityCount, pfxWord, pfxDoc} {
		if err := deletePrefix(s.db, []byte{p}); err != nil {
			t.Fatal(err)
		}
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(textStatsKey); err != nil {
			return err
		}
		return txn.Set(schemaKey, u64(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir, testKey(), quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := indexDump(t, s); !maps.Equal(got, want) {
		t.Fatalf("upgrade built %d index entries, want %d", len(got), len(want))
	}
	if v, err := readSchema(s.db); err != nil || v != schemaVersion {
		t.Fatalf("schema %d, %v", v, err)
	}
}
