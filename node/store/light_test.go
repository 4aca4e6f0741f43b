package store

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/protocol"
)

var lightTopic = [32]byte{7}

// lightBulletin is the record a node makes of a bulletin with this title
// and body: the body rides along for the index, the record leaves it out.
func lightBulletin(t *testing.T, seq uint64, id string, v int, title, body string) *BulletinRecord {
	t.Helper()
	b := protocol.Bulletin{ID: id, Originator: protocol.Originator{Country: "FRA"}}
	b.Title, b.Body = title, body
	b.Attachments = []protocol.Attachment{protocol.NewAttachment("a.bin", "", []byte("attached bytes"))}
	data, size, err := LightBulletin(&b)
	if err != nil {
		t.Fatal(err)
	}
	rec := bulletin(lightTopic, bob, seq, id, time.Date(2026, 5, 1, 0, 0, 0, 123, time.UTC), v, data)
	rec.BodySize, rec.Body = size, body
	return rec
}

func TestLightBulletinLeavesOutBodyAndAttachmentBytes(t *testing.T) {
	rec := lightBulletin(t, 1, "b1", 1, "Convoy", "zebra crossing")
	var b protocol.Bulletin
	if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
		t.Fatal(err)
	}
	if b.Body != "" || rec.BodySize != len("zebra crossing") || len(b.Attachments) != 1 || b.Attachments[0].Data != nil || b.Attachments[0].Size != 14 {
		t.Fatalf("light bulletin %s, body size %d", rec.Bulletin, rec.BodySize)
	}
}

func TestRecordIsIndexedWithTheBodyItDoesNotStore(t *testing.T) {
	s := openStore(t)
	mustPut(t, s, lightBulletin(t, 1, "b1", 1, "Convoy", "zebra crossing"))
	if got := search(t, s, TextQuery{Words: []string{"zebra"}}); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("search zebra = %v", got)
	}
	rec, err := s.Bulletin("b1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Body != "" || rec.BodySize != 14 || !json.Valid(rec.Bulletin) {
		t.Fatalf("stored record holds body %q, size %d, bulletin %s", rec.Body, rec.BodySize, rec.Bulletin)
	}
}

// A version older than the one held arrives late: the record keeps the
// newer content, and its postings, body words included, stay.
func TestOlderVersionKeepsTheBodyPostings(t *testing.T) {
	s := openStore(t)
	mustPut(t, s, lightBulletin(t, 2, "b1", 2, "Convoy", "zebra crossing"))
	mustPut(t, s, lightBulletin(t, 1, "b1", 1, "Convoy", "yak herd"))
	if got := search(t, s, TextQuery{Words: []string{"zebra"}}); !slices.Equal(got, []string{"b1"}) {
		t.Errorf("search zebra = %v", got)
	}
	if got := search(t, s, TextQuery{Words: []string{"yak"}}); len(got) != 0 {
		t.Errorf("search yak = %v", got)
	}
}

func TestReindexReadsBodiesFromTheSource(t *testing.T) {
	s := openStore(t)
	mustPut(t, s, lightBulletin(t, 1, "b1", 1, "Convoy", "zebra crossing"))
	if err := s.Reindex(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, TextQuery{Words: []string{"zebra"}}); len(got) != 0 {
		t.Fatalf("without a body source, search zebra = %v", got)
	}
	if got := search(t, s, TextQuery{Words: []string{"convoy"}}); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("without a body source, search convoy = %v", got)
	}
	s.SetBodySource(func(rec *BulletinRecord) (string, error) {
		if rec.ID != "b1" || rec.BodySize != 14 {
			t.Errorf("body asked for %s of size %d", rec.ID, rec.BodySize)
		}
		return "zebra crossing", nil
	})
	if err := s.Reindex(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, TextQuery{Words: []string{"zebra"}}); !slices.Equal(got, []string{"b1"}) {
		t.Fatalf("with a body source, search zebra = %v", got)
	}
}

// A store of schema 3 holds JSON records with body and attachment bytes:
// opening it rewrites them in CBOR without either, and keeps the indexes.
func TestUpgradeTo4TakesContentOutOfRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	b := protocol.Bulletin{ID: "b1", Originator: protocol.Originator{Country: "FRA"}}
	b.Title, b.Body = "Convoy", "zebra crossing"
	b.Attachments = []protocol.Attachment{protocol.NewAttachment("a.bin", "", []byte("attached bytes"))}
	whole, err := json.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	old := bulletin(lightTopic, bob, 1, "b1", time.Date(2026, 5, 1, 0, 0, 0, 123, time.UTC), 1, whole)
	mustPut(t, s, old)
	want := indexDump(t, s)
	stored, err := s.Bulletin("b1")
	if err != nil {
		t.Fatal(err)
	}
	asJSON, err := json.Marshal(&stored)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(key(pfxBulletin, []byte("b1")), asJSON); err != nil {
			return err
		}
		return txn.Set(schemaKey, u64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Bulletin("b1"); err != nil || !reflect.DeepEqual(rec.Bulletin, stored.Bulletin) {
		t.Fatalf("a JSON record reads as %s, %v", rec.Bulletin, err)
	}
	s.Close()
	if s, err = Open(dir, testKey(), quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Bulletin("b1")
	if err != nil {
		t.Fatal(err)
	}
	light, size, err := LightBulletin(&b)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.Bulletin) != string(light) || rec.BodySize != size {
		t.Fatalf("upgraded record holds %s, body size %d", rec.Bulletin, rec.BodySize)
	}
	var raw []byte
	err = s.View(func(txn *badger.Txn) error {
		raw, err = getValue(txn, key(pfxBulletin, []byte("b1")))
		return err
	})
	if err != nil || raw[0] == '{' {
		t.Fatalf("upgraded record is still JSON (%v)", err)
	}
	if got := indexDump(t, s); !maps.Equal(got, want) {
		t.Fatalf("upgrade changed the indexes: %d entries, want %d", len(got), len(want))
	}
	if v, err := readSchema(s.db); err != nil || v != schemaVersion {
		t.Fatalf("schema %d, %v", v, err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	until := time.Date(2099, 1, 2, 3, 4, 5, 6, time.UTC)
	in := lightBulletin(t, 3, "b1", 2, "Convoy", "zebra")
	in.Body = "" // never stored
	in.ValidUntil, in.Received, in.RecvSeq, in.Audience = &until, time.Date(2026, 6, 1, 0, 0, 0, 7, time.UTC), 9, []string{bob}
	in.History = []Revision{in.revision()}
	in.Revoked, in.Reason, in.RevokedAt = true, "wrong", time.Date(2026, 7, 1, 0, 0, 0, 8, time.UTC)
	for _, enc := range []func(*BulletinRecord) ([]byte, error){encodeRecord, func(r *BulletinRecord) ([]byte, error) { return json.Marshal(r) }} {
		v, err := enc(in)
		if err != nil {
			t.Fatal(err)
		}
		var out BulletinRecord
		if err := decodeRecord(v, &out); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&out, in) {
			t.Errorf("round trip of %x:\n got %+v\nwant %+v", v[:1], out, *in)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	rec := &BulletinRecord{ID: "b1", Created: time.Unix(1, 2).UTC(), Bulletin: json.RawMessage(`{"title":"x"}`)}
	v, _ := encodeRecord(rec)
	f.Add(v)
	j, _ := json.Marshal(rec)
	f.Add(j)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out BulletinRecord
		decodeRecord(data, &out) // must not panic
	})
}
