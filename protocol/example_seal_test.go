package protocol_test

import (
	"errors"
	"fmt"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/protocol"
)

// sealAuthor is one agency's identity, alone in its new topic at epoch 1,
// with the encoded payload of its first bulletin, made at now.
type sealAuthor struct {
	id      *crypto.Identity
	key     *crypto.EpochKey
	state   *protocol.TopicState
	now     time.Time
	payload []byte
}

// newSealAuthor creates a member and its topic as a node does: the genesis,
// then a rotate to epoch 1 wrapped to the owner; then its first bulletin.
func newSealAuthor() (*sealAuthor, error) {
	now := time.Now()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return nil, err
	}
	card, err := crypto.NewCard(id, "DCPJ", "FRA", []string{"/ip4/127.0.0.1/tcp/4001"}, now)
	if err != nil {
		return nil, err
	}
	genesis, err := protocol.NewGenesis(id, card, "drug-trafficking", "West Africa cocaine route", protocol.Policy{MaxAgeDays: 365}, now)
	if err != nil {
		return nil, err
	}
	m := &sealAuthor{id: id, now: now}
	if m.state, err = protocol.NewTopicState(genesis); err != nil {
		return nil, err
	}
	if m.key, err = crypto.GenerateEpochKey(1); err != nil {
		return nil, err
	}
	r, err := m.state.NewRotate(m.key, "")
	if err != nil {
		return nil, err
	}
	e := m.state.NextEntry(id.MemberID(), protocol.EntryRotate, now)
	e.Rotate = &r
	raw, err := protocol.SignEntry(id, e)
	if err != nil {
		return nil, err
	}
	if err := m.state.Apply(raw); err != nil {
		return nil, err
	}
	m.payload, err = m.bulletin("Cocaine shipment on MV Example Star", now)
	return m, err
}

// bulletin encodes a bulletin of m's on its topic.
func (m *sealAuthor) bulletin(title string, now time.Time) ([]byte, error) {
	d := protocol.BulletinDraft{Title: title, Language: "en", TLP: "AMBER", Handling: protocol.Handling{Code: "H2"},
		SourceReliability: "B", InfoReliability: "2"}
	b, err := d.Build(protocol.Stamp{ID: protocol.NewBulletinID(m.state.ID, m.id.MemberID()), Version: 1, Created: now, Modified: now,
		Category: m.state.Category, Originator: protocol.Originator{Member: m.id.MemberID(), Country: "FRA", Agency: "DCPJ"}})
	if err != nil {
		return nil, err
	}
	return protocol.EncodeBulletin(b)
}

// Seal makes the signed, encrypted envelope of a member's first bulletin
// on a topic, for every member holding the epoch key.
func ExampleSeal() {
	m, err := newSealAuthor()
	if err != nil {
		panic(err)
	}
	env, err := protocol.Seal(m.state, m.id, protocol.SealParams{
		Kind: protocol.KindBulletin, Payload: m.payload,
		To:  []age.Recipient{m.key.Recipient()},
		Seq: 1, TS: m.now, // the member's first envelope on the topic: no Prev
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(env.Kind, "seq", env.Seq, "epoch", env.Epoch)
	fmt.Println("passes the envelope checks:", m.state.CheckEnvelope(env, 1) == nil)
	// Output:
	// bulletin seq 1 epoch 1
	// passes the envelope checks: true
}

// Open reads an envelope as a member holding the epoch key; a refused one
// says why with a stable reason.
func ExampleOpen() {
	m, err := newSealAuthor()
	if err != nil {
		panic(err)
	}
	p := protocol.SealParams{Kind: protocol.KindBulletin, Payload: m.payload, To: []age.Recipient{m.key.Recipient()}, Seq: 1, TS: m.now}
	env, err := protocol.Seal(m.state, m.id, p)
	if err != nil {
		panic(err)
	}
	reader := protocol.Reader{ID: m.id, Keys: map[uint64]*crypto.EpochKey{1: m.key}}
	opened, err := protocol.Open(m.state, reader, env, m.now)
	if err != nil {
		panic(err)
	}
	fmt.Println(opened.Bulletin.Title)

	// A revision must carry version 2 or more.
	p.Kind, p.Seq, p.Prev = protocol.KindRevision, 2, env.ID[:]
	rev, err := protocol.Seal(m.state, m.id, p)
	if err != nil {
		panic(err)
	}
	_, err = protocol.Open(m.state, reader, rev, m.now)
	var r *protocol.Rejection
	fmt.Println(errors.As(err, &r), r.Reason)
	// Output:
	// Cocaine shipment on MV Example Star
	// true bad-bulletin
}
