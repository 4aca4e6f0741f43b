package misp

import (
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/interop"
)

// foreignEvent is shaped as MISP's API answers: numbers where files have
// strings, TLP 1.0's white, admiralty tags, types Concord does not map.
const foreignEvent = `{"response": [{"Event": {
  "id": 12, "uuid": "5f1e2d3c-4b5a-4968-8776-655443322110", "info": "Phishing wave against banks",
  "date": "2024-05-01", "timestamp": 1714550400, "published": true, "analysis": 2, "threat_level_id": 1,
  "Orgc": {"id": "3", "name": "CERT-XX", "uuid": "11111111-2222-4333-8444-555555555555"},
  "Tag": [{"name": "tlp:white"}, {"name": "admiralty-scale:source-reliability=\"c\""},
          {"name": "admiralty-scale:information-credibility=\"6\""}, {"name": "type:OSINT"}],
  "Attribute": [
    {"type": "ip-dst", "category": "Network activity", "value": "203.0.113.7", "to_ids": true, "deleted": false},
    {"type": "email-src", "category": "Payload delivery", "value": "ceo@bank.example", "comment": "sender", "deleted": false},
    {"type": "btc", "category": "Financial fraud", "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "deleted": "0"},
    {"type": "phone-number", "category": "Person", "value": "+1555000111", "deleted": true}
  ],
  "Object": [{"name": "person", "Attribute": [
      {"object_relation": "first-name", "type": "first-name", "category": "Person", "value": "John"},
      {"object_relation": "last-name", "type": "last-name", "category": "Person", "value": "Doe"}]},
    {"name": "domain-ip", "Attribute": [
      {"object_relation": "domain", "type": "domain", "category": "Network activity", "value": "bank-login.example"}]}]
}}]}`

func TestImportForeignEvent(t *testing.T) {
	drafts, err := Import([]byte(foreignEvent))
	if err != nil {
		t.Fatal(err)
	}
	if len(drafts) != 1 {
		t.Fatalf("%d drafts, want 1", len(drafts))
	}
	d := drafts[0].Draft
	if err := d.Validate(); err != nil {
		t.Errorf("draft is invalid: %v", err)
	}
	if drafts[0].Source != "misp-event:5f1e2d3c-4b5a-4968-8776-655443322110" || d.Title != "Phishing wave against banks" {
		t.Errorf("source %q title %q", drafts[0].Source, d.Title)
	}
	if d.TLP != "CLEAR" || d.SourceReliability != "C" || d.InfoReliability != "4" || d.Handling.Code != "H2" {
		t.Errorf("markings: tlp %s grading %s%s handling %s; want CLEAR C4 H2", d.TLP, d.SourceReliability, d.InfoReliability, d.Handling.Code)
	}
	var ents []string
	for _, e := range d.Entities {
		ents = append(ents, e.Type+"="+e.Value)
	}
	if got := strings.Join(ents, " "); got != "email=ceo@bank.example crypto-address=1BoatSLRHtKNngkdXEeobR76b53LETtpyT person=John Doe" {
		t.Errorf("entities %s (the deleted phone must not be one)", got)
	}
	for _, want := range []string{"Imported from MISP event 5f1e2d3c", "CERT-XX", "## Imported MISP attributes",
		"`ip-dst` (Network activity): 203.0.113.7", "object domain-ip, domain: `domain`", "`type:OSINT`"} {
		if !strings.Contains(d.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, d.Body)
		}
	}
	if strings.Contains(d.Body, "+1555000111") {
		t.Error("a deleted attribute reached the body")
	}
}

func TestImportShapes(t *testing.T) {
	f := newFixture(t)
	evs := events(t, f.items[1:3])
	one, _ := evs[0].MarshalJSON()
	for name, data := range map[string][]byte{
		"one event": one, "a list": marshalAll(t, evs),
		"an API answer": []byte(`{"response": ` + string(marshalAll(t, evs)) + `}`),
	} {
		drafts, err := Import(data)
		if err != nil || len(drafts) == 0 {
			t.Errorf("%s: %v, %d drafts", name, err, len(drafts))
		}
	}
}

func TestImportErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"not JSON":       {`{"Event": `, "input is not JSON"},
		"empty":          {``, "input is not JSON"},
		"not an event":   {`{"type": "bundle"}`, "not a MISP event"},
		"no info":        {`{"Event": {"uuid": "5f1e2d3c-4b5a-4968-8776-655443322110", "info": ""}}`, "event 1 (uuid 5f1e2d3c-4b5a-4968-8776-655443322110) has no info"},
		"no uuid":        {`[{"Event": {"info": "x"}}]`, "event 1 (\"x\") has no uuid"},
		"list item":      {`[{"Event": {"uuid": "u", "info": "x"}}, {"foo": 1}]`, "item 2 is not a MISP event"},
		"bad attributes": {`{"Event": {"uuid": "u", "info": "x", "Attribute": {"a": 1}}}`, "event 1"},
	} {
		_, err := Import([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestEventsErrors(t *testing.T) {
	if _, err := Events([]interop.Item{{}}, time.Now()); err == nil || !strings.Contains(err.Error(), "item 0 has no bulletin") {
		t.Errorf("Events of an empty item: %v", err)
	}
}

func FuzzImport(f *testing.F) {
	fx := newFixture(f)
	f.Add(marshalAll(f, events(f, fx.items)))
	f.Add([]byte(foreignEvent))
	f.Add([]byte(`[{"Event": {"uuid": "u", "info": "x", "Tag": [{"name": "tlp"}], "Object": [{"name": "person"}]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		drafts, err := Import(data)
		if err != nil {
			return
		}
		for _, d := range drafts {
			if d.Draft.Title == "" || !strings.HasPrefix(d.Source, "misp-event:") {
				t.Fatalf("draft without title or source: %+v", d)
			}
		}
	})
}
