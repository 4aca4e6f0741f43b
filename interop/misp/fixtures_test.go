package misp

import (
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

var (
	testTopic  = protocol.TopicID{1, 2, 3}
	testMember = "aaaaaaaaaaaaaaaaaaaaaaaa"
	otherMbr   = "bbbbbbbbbbbbbbbbbbbbbbbb"
	t0         = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
)

// build stamps d as version v of bulletin id.
func build(t testing.TB, id string, v int, d protocol.BulletinDraft, modified time.Time) *protocol.Bulletin {
	t.Helper()
	b, err := d.Build(protocol.Stamp{ID: id, Version: v, Created: t0, Modified: modified,
		Originator: protocol.Originator{Member: testMember, Country: "ESP", Agency: "Policía Nacional"},
		Category:   "drug-trafficking"})
	if err != nil {
		t.Fatalf("fixture %s v%d: %v", id, v, err)
	}
	return b
}

func draft(title, tlp, handling, src, info string) protocol.BulletinDraft {
	return protocol.BulletinDraft{Title: title, Body: "Body of " + title + ".\n\n- point one\n- point two\n",
		Language: "en", TLP: tlp, Handling: protocol.Handling{Code: handling},
		SourceReliability: src, InfoReliability: info}
}

// allEntities names one entity of every type, with fields some MISP
// relations carry and some they do not.
func allEntities() []protocol.Entity {
	return []protocol.Entity{
		{Type: "person", Value: "Juan Pérez", Fields: map[string]string{"dob": "1980-01-02", "nationality": "ESP", "alias": "El Flaco"}},
		{Type: "person", Value: "Ana Ruiz", Fields: map[string]string{"dob": "about 1975"}},
		{Type: "organization", Value: "Naviera Sol SL", Fields: map[string]string{"registration": "B12345678"}},
		{Type: "vehicle", Value: "White Iveco van", Fields: map[string]string{"plate": "1234ABC", "make": "Iveco"}},
		{Type: "vessel", Value: "MV Aurora", Fields: map[string]string{"imo": "9321483", "mmsi": "224123456", "flag": "PA"}},
		{Type: "vessel", Value: "Sea Breeze", Fields: map[string]string{"imo": "9000001", "flag": "MT"}},
		{Type: "aircraft", Value: "Cessna 208", Fields: map[string]string{"registration": "EC-ABC"}},
		{Type: "phone", Value: "+34600000000"},
		{Type: "email", Value: "broker@example.org"},
		{Type: "iban", Value: "ES9121000418450200051332", Fields: map[string]string{"bic": "CAIXESBBXXX"}},
		{Type: "crypto-address", Value: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
		{Type: "crypto-address", Value: "0x52908400098527886E0F7030069857D2E4169EE7", Fields: map[string]string{"currency": "ETH"}},
		{Type: "passport", Value: "PAB123456", Fields: map[string]string{"country": "ESP"}},
		{Type: "id-document", Value: "12345678Z"},
		{Type: "location", Value: "Port of Algeciras", Fields: map[string]string{"lat": "36.13", "lon": "-5.44", "country": "ESP"}},
		{Type: "location", Value: "Warehouse 7", Fields: map[string]string{"lat": "north of the river"}},
		{Type: "firearm", Value: "FN FAL", Fields: map[string]string{"serial": "X123"}},
		{Type: "other", Value: "12,000 rounds"},
	}
}

// fixture is the bulletin set of the tests: every entity type, attachments,
// every TLP value, H3 restrictions, a revision and a revocation.
type fixture struct {
	full, v1, v2, revoked *protocol.Bulletin
	items                 []interop.Item // full, the TLP set, v1, revoked tombstone
	revokedAt             time.Time
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{}
	d := draft("Cocaine shipment via Algeciras", "CLEAR", "H3", "B", "2")
	d.Handling.Restrictions = "Not for use in court without the originator's consent."
	d.Summary = "A shipment is expected in April."
	d.Entities = allEntities()
	d.Attachments = []protocol.Attachment{
		protocol.NewAttachment("photo.txt", "", []byte("a photo, as text")),
		protocol.NewAttachment("manifest.pdf", "application/pdf", []byte("%PDF-1.4 fake")),
	}
	vu := t0.Add(90 * 24 * time.Hour)
	d.ValidUntil = &vu
	d.References.InReplyTo = []string{protocol.NewBulletinID(testTopic, testMember)}
	d.Audience = []string{testMember, otherMbr}
	f.full = build(t, protocol.NewBulletinID(testTopic, testMember), 1, d, t0)
	f.items = append(f.items, interop.Item{Bulletin: f.full, Topic: strings.Repeat("ab", 32)})
	grades := [][3]string{{"H0", "A", "1"}, {"H1", "C", "3"}, {"H2", "X", "4"}, {"H2", "B", "2"}}
	for i, tlp := range []string{"GREEN", "AMBER", "AMBER+STRICT", "RED"} {
		g := grades[i]
		b := build(t, protocol.NewBulletinID(testTopic, testMember), 1, draft("Bulletin "+tlp, tlp, g[0], g[1], g[2]), t0)
		f.items = append(f.items, interop.Item{Bulletin: b})
	}
	id := protocol.NewBulletinID(testTopic, testMember)
	dv := draft("Revised bulletin", "AMBER", "H2", "B", "2")
	dv.Entities = []protocol.Entity{{Type: "phone", Value: "+34611111111"}, {Type: "person", Value: "Dropped Later"}}
	f.v1 = build(t, id, 1, dv, t0)
	dv.Title, dv.Entities = "Revised bulletin, version 2", dv.Entities[:1]
	f.v2 = build(t, id, 2, dv, t0.Add(time.Hour))
	f.items = append(f.items, interop.Item{Bulletin: f.v1})

	rid := protocol.NewBulletinID(testTopic, testMember)
	f.revoked = build(t, rid, 1, draft("To be revoked", "RED", "H2", "B", "2"), t0)
	f.revokedAt = t0.Add(2 * time.Hour)
	tomb := &protocol.Bulletin{ID: rid, Version: 2, Created: t0, Modified: f.revokedAt,
		Originator: f.revoked.Originator, BulletinDraft: protocol.BulletinDraft{Category: "drug-trafficking"}}
	f.items = append(f.items, interop.Item{Bulletin: tomb, Revoked: true, RevokedAt: f.revokedAt, Reason: "sent in error"})
	return f
}

// events runs Events on items, failing the test on error.
func events(t testing.TB, items []interop.Item) []Event {
	t.Helper()
	evs, err := Events(items, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
