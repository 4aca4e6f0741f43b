package protocol

import (
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/concordnet/concord/internal/golden"
)

// gRequestItems are a request (a bulletin with a request block, alice
// asking bob) and a declined receipt bob sends alice about it: both
// deterministic CBOR, stored in testdata/request.json.
func gRequestItems(t testing.TB) []gItem {
	t.Helper()
	alice, bob := gIdentity(t, "alice").MemberID(), gIdentity(t, "bob").MemberID()
	topic := gTopic(t)
	d := BulletinDraft{Title: "Owner of MSC Example?", Body: "Who owns IMO 9321483?\n", Language: "en", TLP: "AMBER",
		Handling: Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2",
		Request: &Request{Due: gTime.Add(48 * time.Hour), Priority: PriorityUrgent, To: []string{bob}}}
	b, err := d.Build(Stamp{ID: gBulletinID(topic, alice, 3), Version: 1, Created: gTime, Modified: gTime,
		Originator: Originator{Member: alice, Country: "FRA", Agency: "OFAST"}, Category: "drug-trafficking"})
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := EncodeReceipt(Receipt{Request: b.ID, State: ReceiptDeclined, Reason: "Outside our jurisdiction.", At: gTime.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	req := gEncode(t, b)
	return []gItem{
		{Name: "request: a bulletin (§7) with a request block (§8.10), audience = addressees + requester", Hex: hex.EncodeToString(req), Fields: golden.Diag(t, req)},
		{Name: "receipt payload (§8.10), declined, about the request above", Hex: hex.EncodeToString(receipt), Fields: golden.Diag(t, receipt)},
	}
}

func TestGoldenRequest(t *testing.T) {
	items := gRequestItems(t)
	golden.Write(t, *update, "request.json", items)
	var stored []gItem
	golden.Read(t, filepath.Join("testdata", "request.json"), &stored)
	if len(stored) != len(items) {
		t.Fatalf("testdata/request.json holds %d items, want %d", len(stored), len(items))
	}
	for i, it := range stored {
		if it.Hex != items[i].Hex {
			t.Errorf("%s: the encoding is no longer the stored bytes", it.Name)
		}
		data, _ := hex.DecodeString(it.Hex)
		golden.SameFields(t, it.Name, data, it.Fields)
	}
	req, _ := hex.DecodeString(stored[0].Hex)
	b, err := DecodeBulletin(req)
	if err != nil || b.Request == nil {
		t.Fatalf("the stored request does not decode: %+v, %v", b, err)
	}
	gReencodes(t, stored[0].Name, b, req)
	rc, _ := hex.DecodeString(stored[1].Hex)
	r, err := DecodeReceipt(rc)
	if err != nil || r.Request != b.ID {
		t.Fatalf("the stored receipt does not decode: %+v, %v", r, err)
	}
	gReencodes(t, stored[1].Name, r, rc)
	if err := CheckBulletinID(r.Request, gTopic(t), gIdentity(t, "alice").MemberID()); err != nil {
		t.Error(err)
	}
}
