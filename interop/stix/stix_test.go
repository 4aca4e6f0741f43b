package stix

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

var (
	t0     = time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	member = strings.Repeat("a", 24)
	topic  = protocol.TopicID{1, 2, 3}
)

// fixtures returns bulletins covering every entity type, attachments,
// every TLP value and handling code, a revision (version 2) and a
// revocation (the last item).
func fixtures(t *testing.T) []interop.Item {
	t.Helper()
	cat := protocol.CategorySlugs()[0]
	org := protocol.Originator{Member: member, Country: "FRA", Agency: "Office central", Contact: "desk@example.fr"}
	var items []interop.Item
	mk := func(version int, d protocol.BulletinDraft) *protocol.Bulletin {
		id := protocol.NewBulletinID(topic, member)
		b, err := d.Build(protocol.Stamp{ID: id, Version: version, Created: t0, Modified: t0.Add(time.Duration(version-1) * time.Hour),
			Originator: org, Category: cat})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	entities := []protocol.Entity{
		{Type: "person", Value: "Jean Dupont", Fields: map[string]string{"born": "1980-01-02", "nationality": "FRA"}},
		{Type: "organization", Value: "Acme Shipping Ltd"},
		{Type: "vehicle", Value: "AB-123-CD", Fields: map[string]string{"make": "Renault"}},
		{Type: "vessel", Value: "MV Example", Fields: map[string]string{"imo": "9074729", "mmsi": "227006760", "flag": "PAN"}},
		{Type: "aircraft", Value: "F-GKXA"},
		{Type: "phone", Value: "+33 1 23 45 67 89"},
		{Type: "email", Value: "courier@example.org"},
		{Type: "email", Value: "Not An Address"},
		{Type: "iban", Value: "FR7630006000011234567890189"},
		{Type: "crypto-address", Value: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Fields: map[string]string{"currency": "BTC"}},
		{Type: "passport", Value: "12AB34567", Fields: map[string]string{"country": "FRA"}},
		{Type: "id-document", Value: "X1234567"},
		{Type: "location", Value: "Port of Marseille", Fields: map[string]string{"country": "FRA", "latitude": "43.3", "longitude": "5.36"}},
		{Type: "location", Value: "Somewhere vague"},
		{Type: "firearm", Value: "Glock 17 SN ABC123"},
		{Type: "other", Value: "203.0.113.7"},
		{Type: "other", Value: "2001:db8::1"},
		{Type: "other", Value: "https://evil.example.com/x?y=1"},
		{Type: "other", Value: "evil.example.com"},
		{Type: "other", Value: strings.Repeat("ab", 32)},
		{Type: "other", Value: "free text thing"},
		{Type: "other", Value: "FREE   text thing"}, // same normalised value: distinct ID
	}
	until := t0.Add(30 * 24 * time.Hour)
	for i, tlp := range protocol.TLPLabels() {
		d := protocol.BulletinDraft{Title: "Bulletin " + tlp, Summary: "Summary of " + tlp + ".\n\nTwo paragraphs.",
			Body: "# Body\n\nDetails for " + tlp + ".\n", Language: "fr", TLP: tlp,
			Handling:          protocol.Handling{Code: protocol.HandlingCodes()[i%4]},
			SourceReliability: protocol.SourceReliabilities()[i%4], InfoReliability: protocol.InfoReliabilities()[i%4]}
		if d.Handling.Code == "H3" {
			d.Handling.Restrictions = "Police use only"
		}
		if i == 0 {
			d.Entities = entities
			d.Attachments = []protocol.Attachment{protocol.NewAttachment("photo.jpg", "image/jpeg", []byte("\xff\xd8\xff fake jpeg")),
				protocol.NewAttachment("notes.txt", "", []byte("plain notes\n"))}
			d.ValidUntil = &until
			d.Audience = []string{member}
		}
		if i == 1 {
			d.Summary, d.Body = "", "Body only."
			d.References.InReplyTo = []string{protocol.NewBulletinID(topic, member)}
		}
		items = append(items, interop.Item{Bulletin: mk(1, d), Topic: topic.String(), TopicName: "drugs"})
	}
	// A revision: version 2 of a bulletin.
	rev := mk(2, protocol.BulletinDraft{Title: "Revised", Body: "v2", Language: "en", TLP: "GREEN",
		Handling: protocol.Handling{Code: "H1"}, SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{{Type: "phone", Value: "+44 20 7946 0000"}}})
	items = append(items, interop.Item{Bulletin: rev, Topic: topic.String()})
	// A revocation: a tombstone.
	gone := &protocol.Bulletin{ID: protocol.NewBulletinID(topic, member), Version: 3, Created: t0, Modified: t0.Add(time.Hour),
		Originator: org, BulletinDraft: protocol.BulletinDraft{Category: cat}}
	items = append(items, interop.Item{Bulletin: gone, Revoked: true, RevokedAt: t0.Add(2 * time.Hour), Reason: "wrong person"})
	return items
}

func export(t *testing.T, items []interop.Item) []byte {
	t.Helper()
	data, err := Export(items, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func bundleObjects(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var b struct{ Objects []map[string]any }
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return b.Objects
}

func TestExportValidates(t *testing.T) {
	data := export(t, fixtures(t))
	if err := Validate(data); err != nil {
		t.Fatalf("export does not validate: %v", err)
	}
	objs := bundleObjects(t, data)
	s, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for i, o := range objs {
		types[o["type"].(string)]++
		if i > 0 && objs[i-1]["id"].(string) > o["id"].(string) {
			t.Errorf("objects not sorted by ID at %d", i)
		}
		// Each object against its own type's schema, independently of Validate's dispatch.
		if sch, ok := s.byType[o["type"].(string)]; ok {
			if err := sch.Validate(roundTripJSON(t, o)); err != nil {
				t.Errorf("%s: %v", o["id"], err)
			}
		} else if o["type"] != EntityType {
			t.Errorf("%s: type %s has no schema", o["id"], o["type"])
		}
	}
	for _, typ := range []string{"report", "identity", "location", "relationship", "email-addr", "ipv4-addr", "ipv6-addr",
		"url", "domain-name", "file", "artifact", EntityType, "marking-definition", "extension-definition"} {
		if types[typ] == 0 {
			t.Errorf("no %s object in the export", typ)
		}
	}
	for _, o := range objs {
		if o["type"] == "email-addr" && o["value"] == "Not An Address" {
			t.Error("a value that is not an address became an email-addr")
		}
	}
}

// roundTripJSON decodes an object as the validator sees it (json.Number).
func roundTripJSON(t *testing.T, o map[string]any) any {
	data, _ := json.Marshal(o)
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTLPMarkingsAreOASIS(t *testing.T) {
	want := map[string]string{
		"CLEAR":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		"GREEN":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		"AMBER":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		"RED":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
	if !reflect.DeepEqual(TLPMarkings, want) {
		t.Fatalf("TLPMarkings = %v", TLPMarkings)
	}
	objs := bundleObjects(t, export(t, fixtures(t)))
	seen := map[string]bool{}
	for _, o := range objs {
		if o["type"] != "marking-definition" {
			continue
		}
		label := strings.TrimPrefix(o["name"].(string), "TLP:")
		seen[label] = true
		if o["id"] != want[label] || o["created"] != "2022-10-01T00:00:00.000Z" || o["spec_version"] != "2.1" {
			t.Errorf("marking %v", o)
		}
		ext := o["extensions"].(map[string]any)["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"].(map[string]any)
		if ext["tlp_2_0"] != strings.ToLower(label) || ext["extension_type"] != "property-extension" || len(o) != 6 {
			t.Errorf("marking %s is not as OASIS publishes it: %v", label, o)
		}
	}
	if len(seen) != 5 {
		t.Errorf("markings in the bundle: %v", seen)
	}
	for _, o := range objs {
		if o["type"] == "report" && o["revoked"] != true {
			refs := o["object_marking_refs"].([]any)
			if len(refs) != 1 || !slices.Contains(slices.Collect(func(y func(string) bool) {
				for _, v := range want {
					y(v)
				}
			}), refs[0].(string)) {
				t.Errorf("report %s markings %v", o["id"], refs)
			}
		}
	}
}

func TestExportDeterministic(t *testing.T) {
	items := fixtures(t)
	a, b := export(t, items), export(t, items)
	if !bytes.Equal(a, b) {
		t.Fatal("two exports of the same items differ")
	}
	// Reversed input, same bundle.
	rev := slices.Clone(items)
	slices.Reverse(rev)
	if !bytes.Equal(a, export(t, rev)) {
		t.Fatal("the order of the items changes the export")
	}
}

func TestRevisionKeepsIDs(t *testing.T) {
	items := fixtures(t)
	v1 := items[0]
	v2b, err := v1.Bulletin.Revise(v1.Bulletin.Draft(), t0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r1 := reportOf(t, export(t, []interop.Item{v1}))
	r2 := reportOf(t, export(t, []interop.Item{{Bulletin: v2b}}))
	if r1["id"] != r2["id"] || r1["created"] != r2["created"] || r1["modified"] == r2["modified"] {
		t.Fatalf("revision: v1 %v %v %v, v2 %v %v %v", r1["id"], r1["created"], r1["modified"], r2["id"], r2["created"], r2["modified"])
	}
	if !reflect.DeepEqual(r1["object_refs"], r2["object_refs"]) {
		t.Error("a revision with the same entities changed the object IDs")
	}
}

func reportOf(t *testing.T, data []byte) map[string]any {
	for _, o := range bundleObjects(t, data) {
		if o["type"] == "report" {
			return o
		}
	}
	t.Fatal("no report")
	return nil
}

func TestRevocation(t *testing.T) {
	items := fixtures(t)
	gone := items[len(items)-1]
	r := reportOf(t, export(t, []interop.Item{gone}))
	if r["revoked"] != true || r["name"] != "(revoked) "+gone.Bulletin.ID || r["modified"] != timestamp(gone.RevokedAt) {
		t.Fatalf("revoked report: %v", r)
	}
	drafts, err := Import(export(t, []interop.Item{gone}))
	if err != nil || len(drafts) != 0 {
		t.Fatalf("a revoked report imported as %v, %v", drafts, err)
	}
}

func TestRoundTrip(t *testing.T) {
	items := fixtures(t)
	drafts, err := Import(export(t, items))
	if err != nil {
		t.Fatal(err)
	}
	live := items[:len(items)-1] // the revoked one gives no draft
	if len(drafts) != len(live) {
		t.Fatalf("%d drafts for %d live bulletins", len(drafts), len(live))
	}
	bySource := map[string]protocol.BulletinDraft{}
	for _, d := range drafts {
		bySource[d.Source] = d.Draft
	}
	for _, it := range live {
		b := it.Bulletin
		got, ok := bySource[stixID("report", b.ID)]
		if !ok {
			t.Fatalf("no draft for %s", b.ID)
		}
		want := b.BulletinDraft
		want.Category = "" // the topic published on decides it
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("round trip of %s:\ngot  %s\nwant %s", b.Title, gj, wj)
		}
	}
}

func TestOASISExamplesImport(t *testing.T) {
	for _, f := range []string{"apt1.json", "poisonivy.json", "infrastructure.json"} {
		data, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		drafts, err := Import(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(drafts) != 1 {
			t.Fatalf("%s: %d drafts", f, len(drafts))
		}
		d := drafts[0]
		if d.Source == "" || d.Draft.Title == "" || !strings.Contains(d.Draft.Body, appendixHeading) {
			t.Errorf("%s: draft %q from %q, body %.200q", f, d.Draft.Title, d.Source, d.Draft.Body)
		}
		if d.Draft.SourceReliability != "X" || d.Draft.InfoReliability != "4" || d.Draft.Handling.Code != "H2" {
			t.Errorf("%s: defaults %+v", f, d.Draft)
		}
	}
	data, _ := os.ReadFile("testdata/apt1.json")
	drafts, _ := Import(data)
	if d := drafts[0].Draft; d.Title != "APT1: Exposing One of China's Cyber Espionage Units" || d.TLP != "AMBER" ||
		!strings.Contains(d.Body, "`intrusion-set`") || !strings.Contains(d.Body, "Ugly Gorilla") || !strings.Contains(d.Body, "attributed-to threat-actor--") {
		t.Errorf("APT1 draft: %q TLP %s\n%s", d.Title, d.TLP, d.Body)
	}
}

func TestImportMarkings(t *testing.T) {
	for id, want := range map[string]string{
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR", // OpenCTI CLEAR (TLP 1.0 WHITE)
		"marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "AMBER+STRICT",
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
		TLPMarkings["RED"]: "RED",
	} {
		d := importOne(t, strings.ReplaceAll(miniBundle, "MARKING", id))
		if d.TLP != want {
			t.Errorf("%s: TLP %s, want %s", id, d.TLP, want)
		}
	}
}

const miniBundle = `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"report","spec_version":"2.1","id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2020-01-01T00:00:00.000Z",
 "modified":"2020-01-01T00:00:00.000Z","name":"Mini\r\nreport","published":"2020-01-01T00:00:00Z","description":"D",
 "object_refs":["email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
 "object_marking_refs":["MARKING"]},
{"type":"email-addr","spec_version":"2.1","id":"email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","value":"a@example.org"}]}`

func importOne(t *testing.T, bundle string) protocol.BulletinDraft {
	t.Helper()
	drafts, err := Import([]byte(bundle))
	if err != nil || len(drafts) != 1 {
		t.Fatalf("Import: %v, %d drafts", err, len(drafts))
	}
	return drafts[0].Draft
}

func TestImportForeignReport(t *testing.T) {
	d := importOne(t, strings.ReplaceAll(miniBundle, "MARKING", TLPMarkings["GREEN"]))
	if d.Title != "Mini  report" || d.Body != "D\n\n"+appendixHeading+"\n\n- `indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`: referred to but not in the bundle\n" {
		t.Errorf("draft %q body %q", d.Title, d.Body)
	}
	if !reflect.DeepEqual(d.Entities, []protocol.Entity{{Type: "email", Value: "a@example.org"}}) {
		t.Errorf("entities %v", d.Entities)
	}
}

func TestBadInput(t *testing.T) {
	good := strings.ReplaceAll(miniBundle, "MARKING", TLPMarkings["GREEN"])
	for name, c := range map[string]struct{ in, want string }{
		"not JSON":     {`{"type": "bundle",`, "not JSON"},
		"not a bundle": {`{"type": "report"}`, "not a STIX 2.1 bundle"},
		"array":        {`[1, 2]`, "not a STIX 2.1 bundle"},
		"no objects":   {`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, `"objects"`},
		"bad bundle id": {`{"type":"bundle","id":"bundle--nope","objects":[{}]}`,
			`the bundle: property "/id"`},
		"unknown type": {strings.Replace(good, `{"type":"email-addr"`, `{"type":"weapon-system"`, 1),
			`"weapon-system" is not a STIX 2.1 object type`},
		"schema violation": {strings.Replace(good, `"published":"2020-01-01T00:00:00Z"`, `"published":42`, 1),
			`report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3): property "/published"`},
		"missing property": {strings.Replace(good, `"name":"Mini\r\nreport",`, ``, 1),
			`report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3): schema violation: missing property 'name'`},
		"deep": {strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested more than"},
		"bad concord extension": {strings.Replace(good, `"value":"a@example.org"`,
			`"value":"a@example.org","extensions":{"`+ExtensionID+`":{"extension_type":"property-extension","entity_type":"spaceship"}}`, 1),
			`property "/entity_type"`},
	} {
		_, err := Import([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, c.want)
		}
	}
}

// TestExtensionSchemaPublished checks that docs/ publishes the schema the
// binary embeds and that the extension-definition points at it.
func TestExtensionSchemaPublished(t *testing.T) {
	docs, err := os.ReadFile("../../docs/stix-extension.json")
	if err != nil {
		t.Fatal(err)
	}
	embedded, _ := schemaFS.ReadFile("schemas/concord/stix-extension.json")
	if !bytes.Equal(docs, embedded) {
		t.Fatal("docs/stix-extension.json differs from interop/stix/schemas/concord/stix-extension.json: copy one onto the other")
	}
	if def := extensionDefinition(); def["schema"] != ExtensionSchemaURL || !strings.HasSuffix(ExtensionSchemaURL, "/docs/stix-extension.json") {
		t.Fatal(def)
	}
}
