package protocol

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
)

// openNow is the reader's clock in these tests: after the envelopes' ts.
var openNow = t0.Add(2 * time.Hour)

// bulletinOf is a valid version-1 bulletin of m on the fixture's topic,
// for everyone; edit changes it before it is encoded.
func (f *envFixture) bulletinOf(t testing.TB, m testMember, edit func(*Bulletin)) []byte {
	t.Helper()
	b := sampleBulletin()
	b.ID = NewBulletinID(f.tt.s.ID, m.ID())
	b.Originator.Member = m.ID()
	b.Audience = nil
	if edit != nil {
		edit(b)
	}
	payload, err := EncodeBulletin(b)
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// seal seals p as m on the fixture's topic, filling in what p leaves
// empty: a bulletin, seq 1, the epoch key, ts one hour after t0.
func (f *envFixture) seal(t testing.TB, m testMember, p SealParams) *Envelope {
	t.Helper()
	if p.Kind == "" {
		p.Kind = KindBulletin
	}
	if p.Seq == 0 {
		p.Seq = 1
	}
	if p.To == nil {
		p.To = []age.Recipient{f.tt.keys[f.tt.s.Epoch].Recipient()}
	}
	if p.TS.IsZero() {
		p.TS = t0.Add(time.Hour)
	}
	env, err := Seal(f.tt.s, m.id, p)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, env.Raw)
}

// reader is m holding every epoch key of the topic.
func (f *envFixture) reader(m testMember) Reader { return Reader{ID: m.id, Keys: f.tt.keys} }

func TestSealOpenRoundTrip(t *testing.T) {
	f := newEnvFixture(t)
	payload := f.bulletinOf(t, f.fra, nil)
	prev := bytes.Repeat([]byte{7}, 32)
	env := f.seal(t, f.fra, SealParams{Payload: payload, Seq: 2, Prev: prev})
	if err := f.tt.s.CheckEnvelope(env, 1); err != nil {
		t.Fatalf("a sealed envelope fails the envelope checks: %v", err)
	}
	s := f.tt.s
	if env.Author != f.fra.ID() || env.Node != f.fra.id.PeerID().String() || env.Seq != 2 || !bytes.Equal(env.Prev, prev) ||
		env.Epoch != s.Epoch || env.TopicID() != s.ID || !env.TS.Equal(t0.Add(time.Hour)) || env.Kind != KindBulletin {
		t.Fatalf("envelope fields are not the sealed ones: %+v", env.EnvelopeBody)
	}
	for _, m := range []testMember{f.fra, f.nga, f.bra} {
		o, err := Open(s, f.reader(m), env, openNow)
		if err != nil {
			t.Fatalf("%s: %v", m.card.Name, err)
		}
		want, _ := DecodeBulletin(payload)
		if o.Sealed || o.Revocation != nil || !reflect.DeepEqual(o.Bulletin, want) {
			t.Fatalf("%s opened %+v, want the sealed bulletin", m.card.Name, o)
		}
	}
	if o, err := Open(s, Reader{ID: f.nga.id}, env, openNow); err != nil || !o.Sealed || o.Bulletin != nil {
		t.Fatalf("a reader without the epoch key got %+v, %v; want a sealed result", o, err)
	}
}

func TestSealOpenAudience(t *testing.T) {
	f := newEnvFixture(t)
	audience := []string{f.nga.ID()}
	payload := f.bulletinOf(t, f.fra, func(b *Bulletin) { b.Audience = audience })
	env := f.seal(t, f.fra, SealParams{Payload: payload, Audience: audience,
		To: []age.Recipient{f.fra.id.Age.Recipient(), f.nga.card.Recipient()}})
	for _, m := range []testMember{f.fra, f.nga} { // the author and the audience
		if o, err := Open(f.tt.s, f.reader(m), env, openNow); err != nil || o.Bulletin == nil {
			t.Fatalf("%s: %+v, %v; want the bulletin", m.card.Name, o, err)
		}
	}
	if o, err := Open(f.tt.s, f.reader(f.bra), env, openNow); err != nil || !o.Sealed {
		t.Fatalf("a member outside the audience got %+v, %v; want a sealed result", o, err)
	}
}

func TestSealOpenRevocation(t *testing.T) {
	f := newEnvFixture(t)
	id := NewBulletinID(f.tt.s.ID, f.fra.ID())
	payload, err := EncodeRevocation(Revocation{Bulletin: id, Reason: "source withdrawn"})
	if err != nil {
		t.Fatal(err)
	}
	env := f.seal(t, f.fra, SealParams{Kind: KindRevocation, Payload: payload})
	o, err := Open(f.tt.s, f.reader(f.nga), env, openNow)
	if err != nil {
		t.Fatal(err)
	}
	if o.Revocation == nil || *o.Revocation != (Revocation{Bulletin: id, Reason: "source withdrawn"}) || o.Bulletin != nil {
		t.Fatalf("opened %+v, want the revocation", o)
	}
}

func TestSealRefusesABadInnerBody(t *testing.T) {
	f := newEnvFixture(t)
	if _, err := Seal(f.tt.s, f.fra.id, SealParams{Kind: "memo", Payload: []byte("x"), Seq: 1,
		To: []age.Recipient{f.tt.keys[1].Recipient()}, TS: t0}); err == nil {
		t.Fatal("an envelope of an unknown kind was sealed")
	}
}

func TestOpenRejects(t *testing.T) {
	f := newEnvFixture(t)
	other, err := crypto.GenerateEpochKey(1)
	if err != nil {
		t.Fatal(err)
	}
	bulletin := func(m testMember, edit func(*Bulletin)) *Envelope {
		return f.seal(t, m, SealParams{Payload: f.bulletinOf(t, m, edit)})
	}
	kind := func(k string, payload []byte) *Envelope {
		return f.seal(t, f.fra, SealParams{Kind: k, Payload: payload})
	}
	inner := func(m testMember, seq uint64) []byte {
		raw, err := SealInner(m.id, InnerBody{Topic: f.tt.s.ID[:], Epoch: 1, Author: m.ID(), Seq: seq, Kind: KindBulletin, Payload: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	withInner := func(plaintext []byte) *Envelope {
		return decode(t, f.envelope(t, f.fra, f.tt.s.ID, 1, 1, plaintext))
	}
	revocation := func(id string) []byte {
		payload, err := EncodeRevocation(Revocation{Bulletin: id, Reason: "withdrawn"})
		if err != nil {
			t.Fatal(err)
		}
		return payload
	}
	for _, c := range []struct {
		name, reason string
		env          *Envelope
	}{
		{"author without a card", ReasonNotMember, bulletin(f.outsider, nil)},
		{"encrypted to another key", ReasonUndecryptable, f.seal(t, f.fra, SealParams{Payload: f.bulletinOf(t, f.fra, nil), To: []age.Recipient{other.Recipient()}})},
		{"plaintext not a container", ReasonBadInner, withInner([]byte("not a signed container"))},
		{"inner seq differs", ReasonBadInner, withInner(inner(f.fra, 2))},
		{"inner signed by another member", ReasonBadInnerSignature, withInner(inner(f.nga, 1))},
		{"payload not a bulletin", ReasonBadBulletin, kind(KindBulletin, []byte("not a bulletin"))},
		{"ID of another member", ReasonBadBulletinID, bulletin(f.fra, func(b *Bulletin) { b.ID = NewBulletinID(f.tt.s.ID, f.nga.ID()) })},
		{"ID of another topic", ReasonBadBulletinID, bulletin(f.fra, func(b *Bulletin) { b.ID = NewBulletinID(TopicID{1}, f.fra.ID()) })},
		{"created ahead of the clock", ReasonBadTime, bulletin(f.fra, func(b *Bulletin) { b.Created, b.Modified = openNow.Add(time.Hour), openNow.Add(time.Hour) })},
		{"originator not the author", ReasonBadBulletin, bulletin(f.fra, func(b *Bulletin) { b.Originator.Member = f.nga.ID() })},
		{"category not the topic's", ReasonBadBulletin, bulletin(f.fra, func(b *Bulletin) { b.Category = "terrorism" })},
		{"audience not the envelope's", ReasonBadBulletin, bulletin(f.fra, func(b *Bulletin) { b.Audience = []string{f.nga.ID()} })},
		{"new bulletin at version 2", ReasonBadBulletin, bulletin(f.fra, func(b *Bulletin) { b.Version = 2 })},
		{"revision at version 1", ReasonBadBulletin, kind(KindRevision, f.bulletinOf(t, f.fra, nil))},
		{"revocation payload malformed", ReasonBadRevocation, kind(KindRevocation, []byte("not a revocation"))},
		{"revocation of another's bulletin", ReasonBadBulletinID, kind(KindRevocation, revocation(NewBulletinID(f.tt.s.ID, f.nga.ID())))},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := Open(f.tt.s, f.reader(f.nga), c.env, openNow)
			var r *Rejection
			if !errors.As(err, &r) || o != nil {
				t.Fatalf("Open = %+v, %v; want a *Rejection", o, err)
			}
			if r.Reason != c.reason || r.Unwrap() == nil {
				t.Fatalf("rejected as %q (%v), want %q", r.Reason, err, c.reason)
			}
		})
	}
}

func TestLocalVerdict(t *testing.T) {
	for _, r := range []string{ReasonNotOriginator, ReasonBadRevision, ReasonBrokenChain, ReasonFormerChain, ReasonBudget, ReasonQuota} {
		if !LocalVerdict(r) {
			t.Errorf("%s depends on what the node holds, but is not a local verdict", r)
		}
	}
	for _, r := range []string{ReasonBadSignature, ReasonBadBulletin, ReasonEquivocation, ReasonUndecryptable, ""} {
		if LocalVerdict(r) {
			t.Errorf("%s is the sender's fault, but is a local verdict", r)
		}
	}
}
