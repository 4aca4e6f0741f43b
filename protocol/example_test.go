package protocol_test

import (
	"fmt"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/protocol"
)

var exampleTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// exampleOwner is a member with its card.
func exampleOwner() (*crypto.Identity, *crypto.Card) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		panic(err)
	}
	card, err := crypto.NewCard(id, "OFAST", "FRA", []string{"/ip4/192.0.2.10/tcp/7700"}, exampleTime)
	if err != nil {
		panic(err)
	}
	return id, card
}

// A topic starts with its genesis entry; the next entry is a rotate to
// epoch 1, which wraps the epoch key to the owner.
func ExampleNewTopicState() {
	owner, card := exampleOwner()
	genesis, err := protocol.NewGenesis(owner, card, "drug-trafficking", "West Africa cocaine route",
		protocol.Policy{MaxAgeDays: 365}, exampleTime)
	if err != nil {
		panic(err)
	}
	s, err := protocol.NewTopicState(genesis)
	if err != nil {
		panic(err)
	}
	key, _ := crypto.GenerateEpochKey(1)
	e := s.NextEntry(owner.MemberID(), protocol.EntryRotate, exampleTime.Add(time.Minute))
	r, err := s.NewRotate(key, "")
	if err != nil {
		panic(err)
	}
	e.Rotate = &r
	raw, err := protocol.SignEntry(owner, e)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Apply(raw))
	fmt.Println(s.Len, s.Epoch, len(s.CurrentMembers()), s.IsAdmin(owner.MemberID()))
	fmt.Println(s.Apply(raw)) // the same entry again is a duplicate
	// Output:
	// <nil>
	// 2 1 1 true
	// log entry 1: entry is already in the log
}

func ExampleDecodeEntry() {
	owner, card := exampleOwner()
	genesis, _ := protocol.NewGenesis(owner, card, "terrorism", "Sahel networks", protocol.Policy{}, exampleTime)
	e, err := protocol.DecodeEntry(genesis)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type, e.Index, e.Genesis.Category, e.Card.Country)
	// Output: genesis 0 terrorism FRA
}

// The node stamps an analyst's draft with identity, version, times,
// originator and the topic's category.
func ExampleBulletinDraft_Build() {
	member := "eh7ddx5bksrgcytl7bkai36s"
	var topic protocol.TopicID
	d := protocol.BulletinDraft{Title: "Cocaine shipment via Lomé", Language: "en", TLP: "amber",
		Handling: protocol.Handling{Code: "h1"}, SourceReliability: "b", InfoReliability: "2"}
	b, err := d.Build(protocol.Stamp{ID: protocol.NewBulletinID(topic, member), Version: 1,
		Created: exampleTime, Modified: exampleTime, Category: "drug-trafficking",
		Originator: protocol.Originator{Member: member, Country: "FRA", Agency: "OFAST"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.TLP, b.Handling.Code, b.SourceReliability, protocol.CheckBulletinID(b.ID, topic, member))

	d.Title = " \u00a0"
	_, err = d.Build(protocol.Stamp{ID: b.ID, Version: 1, Created: exampleTime, Modified: exampleTime,
		Category: "drug-trafficking", Originator: b.Originator})
	fmt.Println(err)
	// Output:
	// AMBER H1 B <nil>
	// bulletin field "title": is empty
}

func ExampleEncodeBulletin() {
	member := "eh7ddx5bksrgcytl7bkai36s"
	d := protocol.BulletinDraft{Title: "Cocaine shipment via Lomé", Language: "en", TLP: "AMBER",
		Handling: protocol.Handling{Code: "H1"}, SourceReliability: "B", InfoReliability: "2"}
	b, _ := d.Build(protocol.Stamp{ID: "aeaqcaibaeaqd6d5zqecefwyg4", Version: 1, Created: exampleTime,
		Modified: exampleTime, Category: "drug-trafficking",
		Originator: protocol.Originator{Member: member, Country: "FRA", Agency: "OFAST"}})
	data, err := protocol.EncodeBulletin(b)
	if err != nil {
		panic(err)
	}
	got, err := protocol.DecodeBulletin(data)
	fmt.Println(len(data), err, got.Title, got.Created.Equal(b.Created))
	// A non-canonical encoding (here one byte appended) is refused.
	_, err = protocol.DecodeBulletin(append(data, 0))
	fmt.Println(err != nil)
	// Output:
	// 310 <nil> Cocaine shipment via Lomé true
	// true
}

func ExampleTopicString() {
	var topic protocol.TopicID
	fmt.Println(protocol.LogTopicString("drug-trafficking", topic))
	// Output: /concord/1/drug-trafficking/0000000000000000000000000000000000000000000000000000000000000000/log
}
