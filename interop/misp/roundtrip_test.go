package misp

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/concordnet/concord/internal/golden"
	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

func marshalAll(t testing.TB, evs []Event) []byte {
	t.Helper()
	data, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRoundTrip: Events then Import gives back each bulletin's content;
// the revoked one gives no draft.
func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	items := append(slices.Clone(f.items), interop.Item{Bulletin: f.v2})
	drafts, err := Import(marshalAll(t, events(t, items)))
	if err != nil {
		t.Fatal(err)
	}
	var want []*protocol.Bulletin
	for _, it := range items {
		if !it.Revoked {
			want = append(want, it.Bulletin)
		}
	}
	if len(drafts) != len(want) {
		t.Fatalf("%d drafts, want %d (one per bulletin, none for the revoked one)", len(drafts), len(want))
	}
	for i, b := range want {
		got, exp := drafts[i].Draft, *b.Draft()
		exp.Category = "" // the topic decides it on publishing
		if err := got.Validate(); err != nil {
			t.Errorf("draft %q is invalid: %v", b.Title, err)
		}
		if got := normalise(got); !reflect.DeepEqual(got, normalise(exp)) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", b.Title, got, exp)
		}
		if src := "misp-event:" + EventUUID(b.ID); drafts[i].Source != src {
			t.Errorf("source %q, want %q", drafts[i].Source, src)
		}
	}
}

// normalise makes empty slices and maps nil, which a bulletin treats the
// same (both encode as absent).
func normalise(d protocol.BulletinDraft) protocol.BulletinDraft {
	for _, l := range []*[]string{&d.References.Supersedes, &d.References.Extends, &d.References.InReplyTo, &d.Audience} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if len(d.Entities) == 0 {
		d.Entities = nil
	}
	for i := range d.Entities {
		if len(d.Entities[i].Fields) == 0 {
			d.Entities[i].Fields = nil
		}
	}
	if len(d.Attachments) == 0 {
		d.Attachments = nil
	}
	return d
}

func TestEventsDeterministic(t *testing.T) {
	f := newFixture(t)
	a, b := marshalAll(t, events(t, f.items)), marshalAll(t, events(t, f.items))
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of the same bulletins differ")
	}
	e1 := events(t, []interop.Item{{Bulletin: f.v1}})[0]
	e2 := events(t, []interop.Item{{Bulletin: f.v2}})[0]
	if e1.UUID != e2.UUID || stamp(e2.Timestamp) <= stamp(e1.Timestamp) {
		t.Errorf("revision: uuid %s→%s, timestamp %s→%s; want the same uuid, a later timestamp",
			e1.UUID, e2.UUID, e1.Timestamp, e2.Timestamp)
	}
	if e1.Attribute[2].UUID != e2.Attribute[2].UUID {
		t.Errorf("the kept phone attribute changed uuid across the revision")
	}
}

func feedFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// checkFeed checks manifest.json against the event files and hashes.csv
// against the events' live attributes.
func checkFeed(t *testing.T, dir string) map[string]Event {
	t.Helper()
	var manifest map[string]ManifestEntry
	golden.Read(t, filepath.Join(dir, ManifestFile), &manifest)
	evs := map[string]Event{}
	var wantHashes []string
	for uuid, m := range manifest {
		var e Event
		golden.Read(t, filepath.Join(dir, uuid+".json"), &e)
		evs[uuid] = e
		if e.UUID != uuid || m.Info != e.Info || m.Date != e.Date || m.Orgc != e.Orgc ||
			!slices.Equal(m.Tag, e.Tag) || m.Analysis != e.Analysis || m.ThreatLevelID != e.ThreatLevelID ||
			m.Timestamp != stamp(e.Timestamp) {
			t.Errorf("manifest entry %s does not match its event file: %+v", uuid, m)
		}
		for _, h := range attributeHashes(e) {
			wantHashes = append(wantHashes, h+","+uuid)
		}
	}
	for _, name := range feedFiles(t, dir) {
		uuid, isEvent := strings.CutSuffix(name, ".json")
		if _, listed := manifest[uuid]; isEvent && name != ManifestFile && !listed {
			t.Errorf("event file %s is not in the manifest", name)
		}
		if !isEvent && name != HashesFile {
			t.Errorf("stray file %s in the feed (a temporary file left behind?)", name)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, HashesFile))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	slices.Sort(got)
	slices.Sort(wantHashes)
	if !slices.Equal(got, wantHashes) {
		t.Errorf("hashes.csv has %d lines, want %d (<md5>,<event uuid> per live attribute)", len(got), len(wantHashes))
	}
	return evs
}

func TestWriteFeed(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "feed")
	live := slices.Clone(f.items[:len(f.items)-1]) // everything but the tombstone…
	live = append(live, interop.Item{Bulletin: f.revoked})
	if err := WriteFeed(dir, events(t, live)); err != nil {
		t.Fatal(err)
	}
	evs := checkFeed(t, dir)
	if len(evs) != len(live) {
		t.Fatalf("feed holds %d events, want %d", len(evs), len(live))
	}
	phone := md5.Sum([]byte("+34611111111"))
	if data, _ := os.ReadFile(filepath.Join(dir, HashesFile)); !bytes.Contains(data, []byte(hex.EncodeToString(phone[:])+","+EventUUID(f.v1.ID))) {
		t.Errorf("hashes.csv lacks the phone of %s", f.v1.ID)
	}

	// The revision, the revocation and, last, a stale version 1.
	tomb := f.items[len(f.items)-1]
	stale := events(t, []interop.Item{{Bulletin: f.v1}})
	if err := WriteFeed(dir, events(t, []interop.Item{{Bulletin: f.v2}, tomb})); err != nil {
		t.Fatal(err)
	}
	if err := WriteFeed(dir, stale); err != nil {
		t.Fatal(err)
	}
	evs = checkFeed(t, dir)
	if len(evs) != len(live) {
		t.Fatalf("feed holds %d events after updates, want %d: events are never removed", len(evs), len(live))
	}
	v2 := evs[EventUUID(f.v2.ID)]
	if v2.Info != f.v2.Title {
		t.Errorf("revised event info %q, want %q (a stale version must not overwrite a newer one)", v2.Info, f.v2.Title)
	}
	for _, o := range v2.Object {
		if o.Name == "person" && !o.Deleted {
			t.Errorf("the entity the revision dropped is not deleted: %+v", o)
		}
	}
	rev := evs[EventUUID(f.revoked.ID)]
	if !slices.Contains(rev.Tag, Tag{RevokedTag}) || !slices.Contains(rev.Tag, Tag{"tlp:red"}) {
		t.Errorf("revoked event tags %v: want %s and the TLP it had", rev.Tag, RevokedTag)
	}
	if len(rev.Attribute) == 0 {
		t.Fatal("revoked event carries no attributes: MISP would keep the old ones alive")
	}
	for _, a := range rev.Attribute {
		if !a.Deleted || a.Timestamp != rev.Timestamp {
			t.Errorf("revoked event attribute %q: deleted=%v timestamp=%s, want deleted at %s", a.Value, a.Deleted, a.Timestamp, rev.Timestamp)
		}
	}
	drafts, err := Import(mustRead(t, filepath.Join(dir, EventUUID(f.v2.ID)+".json")))
	if err != nil || len(drafts) != 1 || len(drafts[0].Draft.Entities) != 1 {
		t.Errorf("importing the revised event from the feed: %v, %+v; want one draft with one entity", err, drafts)
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestWriteFeedBadDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte("not json"), 0o644)
	err := WriteFeed(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "manifest.json is not a MISP feed manifest") {
		t.Errorf("WriteFeed over a corrupt manifest: %v", err)
	}
}
