package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

func TestContentRoundTrips(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	until := now.Add(48 * time.Hour)
	b := &protocol.Bulletin{ID: "k5qaale7amzlqycm2wqyeivzmu", Version: 2, Created: now, Modified: now.Add(time.Hour),
		Originator: protocol.Originator{Member: "m", Country: "FRA", Agency: "Police nationale"},
		BulletinDraft: protocol.BulletinDraft{Category: "drug-trafficking", Title: "t", Summary: "s", Body: "b", Language: "en",
			TLP: "AMBER", Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2", ValidUntil: &until,
			Entities: []protocol.Entity{{Type: "phone", Value: "+2348012345678"}}, Audience: []string{"m"}}}
	v := Bulletin{ID: b.ID, Version: b.Version, Created: b.Created, Category: b.Category, Audience: b.Audience, Content: ContentOf(b)}
	if got := v.Protocol(); !reflect.DeepEqual(got, b) {
		t.Fatalf("Protocol(ContentOf(b)) = %+v, want %+v", got, b)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// The bulletin's own fields are the Bulletin's in JSON, as protocol
	// names them: a script reads .title whatever the API's Go types.
	var flat, own map[string]any
	json.Unmarshal(data, &flat)
	wire, _ := json.Marshal(b)
	json.Unmarshal(wire, &own)
	for k, want := range own {
		if got, ok := flat[k]; !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("JSON field %q = %v, want %v", k, got, want)
		}
	}
	var back Bulletin
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back.Protocol(), b) {
		t.Fatalf("decoded %+v (%v), want %+v", back.Protocol(), err, b)
	}
	sealed, _ := json.Marshal(Bulletin{ID: "x", Sealed: true})
	var none Bulletin
	if err := json.Unmarshal(sealed, &none); err != nil || none.Content != nil || none.Protocol() != nil {
		t.Fatalf("a sealed bulletin decodes with content %+v (%v)", none.Content, err)
	}
}
