package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

// envFixture is a topic with FRA (owner), NGA and BRA, where BRA was
// removed: epoch 1 had all three, epoch 2 has FRA and NGA.
type envFixture struct {
	tt            *testTopic
	fra, nga, bra testMember
	outsider      testMember
}

func newEnvFixture(t testing.TB) *envFixture {
	f := &envFixture{
		fra: newTestMember(t, "DCPJ", "FRA"), nga: newTestMember(t, "NDLEA", "NGA"),
		bra: newTestMember(t, "Policia Federal", "BRA"), outsider: newTestMember(t, "Outsider", "CAN"),
	}
	f.tt = newTestTopic(t, f.fra)
	f.tt.admit(f.fra, RoleMember, f.nga, f.bra)
	return f
}

func (f *envFixture) removeBRA() { f.tt.mustApply(f.tt.remove(f.fra, f.bra.ID())) }

// publish seals a bulletin the way a node does: sign the inner body,
// encrypt it to the epoch key, sign the envelope.
func (f *envFixture) publish(t testing.TB, m testMember, topic TopicID, epoch, seq uint64, payload []byte) ([]byte, []byte) {
	t.Helper()
	inner, err := SealInner(m.id, InnerBody{Topic: topic[:], Epoch: epoch, Author: m.ID(), Seq: seq, Kind: KindBulletin, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	return f.envelope(t, m, topic, epoch, seq, inner), inner
}

// envelope encrypts plaintext to the epoch key and wraps it.
func (f *envFixture) envelope(t testing.TB, m testMember, topic TopicID, epoch, seq uint64, plaintext []byte) []byte {
	t.Helper()
	ct, err := crypto.Encrypt(plaintext, f.tt.keys[epoch].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	body := EnvelopeBody{Kind: KindBulletin, Topic: topic[:], Epoch: epoch, Author: m.ID(), Node: m.id.PeerID().String(),
		Seq: seq, TS: t0.Add(time.Hour), Ciphertext: ct}
	if seq > 1 {
		body.Prev = bytes.Repeat([]byte{9}, 32)
	}
	env, err := SealEnvelope(m.id, body)
	if err != nil {
		t.Fatal(err)
	}
	return env.Raw
}

func decode(t testing.TB, raw []byte) *Envelope {
	t.Helper()
	env, err := DecodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if got := RejectionReason(err); got != reason {
		t.Fatalf("got %v (reason %q), want reason %q", err, got, reason)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	f := newEnvFixture(t)
	s := f.tt.s
	raw, _ := f.publish(t, f.nga, s.ID, 1, 1, []byte("bulletin bytes"))
	env := decode(t, raw)
	if env.ID != EnvelopeID(sha256.Sum256(raw)) || env.TopicID() != s.ID || env.Author != f.nga.ID() || env.Seq != 1 || env.Prev != nil {
		t.Fatalf("decoded envelope is wrong: %+v", env.EnvelopeBody)
	}
	if err := env.VerifySignature(f.nga.card); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckEnvelope(env, 0); err != nil {
		t.Fatal(err)
	}
	plain, err := crypto.Decrypt(env.Ciphertext, MaxEnvelopeBytes, f.tt.keys[1].Identity)
	if err != nil {
		t.Fatal(err)
	}
	in, err := OpenInner(plain, env, f.nga.card)
	if err != nil {
		t.Fatal(err)
	}
	if string(in.Payload) != "bulletin bytes" {
		t.Fatalf("payload = %q", in.Payload)
	}
}

func TestEnvelopeTamperedByte(t *testing.T) {
	f := newEnvFixture(t)
	raw, _ := f.publish(t, f.nga, f.tt.s.ID, 1, 1, []byte("bulletin bytes"))
	env := decode(t, raw)
	tampered := append([]byte(nil), raw...)
	tampered[bytes.Index(raw, env.Ciphertext)+len(env.Ciphertext)/2] ^= 0x01
	bad := decode(t, tampered)
	wantReason(t, bad.VerifySignature(f.nga.card), ReasonBadSignature)
	wantReason(t, f.tt.s.CheckEnvelope(bad, 0), ReasonBadSignature)
	wantReason(t, env.VerifySignature(f.fra.card), ReasonBadSignature) // someone else's card
}

func TestEnvelopeRejects(t *testing.T) {
	f := newEnvFixture(t)
	s := f.tt.s
	fromNode := func(m testMember, node string) []byte {
		body := EnvelopeBody{Kind: KindBulletin, Topic: s.ID[:], Epoch: 1, Author: m.ID(), Node: node, Seq: 1, TS: t0, Ciphertext: []byte{1}}
		env, err := SealEnvelope(m.id, body)
		if err != nil {
			t.Fatal(err)
		}
		return env.Raw
	}
	t.Run("wrong node", func(t *testing.T) {
		raw := fromNode(f.nga, f.fra.id.PeerID().String())
		wantReason(t, s.CheckEnvelope(decode(t, raw), 0), ReasonWrongNode)
	})
	t.Run("non-member", func(t *testing.T) {
		raw := fromNode(f.outsider, f.outsider.id.PeerID().String())
		wantReason(t, s.CheckEnvelope(decode(t, raw), 0), ReasonNotMember)
	})
	t.Run("unknown topic", func(t *testing.T) {
		other := newTestTopic(t, f.nga)
		raw, _ := f.publish(t, f.nga, other.s.ID, 1, 1, []byte("x"))
		wantReason(t, s.CheckEnvelope(decode(t, raw), 0), ReasonUnknownTopic)
	})
	t.Run("unknown epoch", func(t *testing.T) {
		body := EnvelopeBody{Kind: KindBulletin, Topic: s.ID[:], Epoch: 7, Author: f.nga.ID(), Node: f.nga.id.PeerID().String(), Seq: 1, TS: t0, Ciphertext: []byte{1}}
		env, err := SealEnvelope(f.nga.id, body)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, s.CheckEnvelope(env, 0), ReasonUnknownEpoch)
	})
	t.Run("audience outside the topic", func(t *testing.T) {
		body := EnvelopeBody{Kind: KindBulletin, Topic: s.ID[:], Epoch: 1, Author: f.nga.ID(), Node: f.nga.id.PeerID().String(), Seq: 1, TS: t0,
			Audience: sorted(f.fra.ID(), f.outsider.ID()), Ciphertext: []byte{1}}
		env, err := SealEnvelope(f.nga.id, body)
		if err != nil {
			t.Fatal(err)
		}
		wantReason(t, s.CheckEnvelope(env, 0), ReasonBadAudience)
	})
}

func TestEnvelopeRemovedMember(t *testing.T) {
	f := newEnvFixture(t)
	s := f.tt.s
	old, _ := f.publish(t, f.bra, s.ID, 1, 1, []byte("before removal"))
	f.removeBRA()
	late, _ := f.publish(t, f.bra, s.ID, 2, 2, []byte("after removal"))
	wantReason(t, s.CheckEnvelope(decode(t, late), 1), ReasonNotMember)
	// Its envelopes from before the removal still pass within the grace
	// window, and are stale past it.
	if err := s.CheckEnvelope(decode(t, old), 1); err != nil {
		t.Fatalf("old envelope of the removed member: %v", err)
	}
	wantReason(t, s.CheckEnvelope(decode(t, old), 0), ReasonStaleEpoch)
}

func TestInnerReencryptionRejected(t *testing.T) {
	f := newEnvFixture(t)
	topicA := f.tt.s
	// NGA also owns topic B, to which FRA does not belong.
	b := newTestTopic(t, f.nga)
	_, innerA := f.publish(t, f.fra, topicA.ID, 1, 1, []byte("FRA's bulletin"))

	sealB := func(m testMember, plaintext []byte) *Envelope {
		ct, err := crypto.Encrypt(plaintext, b.keys[1].Recipient())
		if err != nil {
			t.Fatal(err)
		}
		env, err := SealEnvelope(m.id, EnvelopeBody{Kind: KindBulletin, Topic: b.s.ID[:], Epoch: 1, Author: m.ID(),
			Node: m.id.PeerID().String(), Seq: 1, TS: t0, Ciphertext: ct})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	// NGA decrypted FRA's bulletin in topic A and republishes it in topic
	// B under its own name: the inner signature is FRA's, not NGA's.
	stolen := sealB(f.nga, innerA)
	if err := b.s.CheckEnvelope(stolen, 0); err != nil {
		t.Fatalf("outer checks should pass, the attack is inside: %v", err)
	}
	_, err := OpenInner(innerA, stolen, f.nga.card)
	wantReason(t, err, ReasonBadInnerSignature)

	// The same inner body in an envelope that claims FRA as author (as
	// if FRA had moved it) names topic A, not B.
	moved := sealB(f.fra, innerA)
	_, err = OpenInner(innerA, moved, f.fra.card)
	wantReason(t, err, ReasonBadInner)
	if !strings.Contains(err.Error(), "topic") {
		t.Fatalf("mismatch error does not name the field: %v", err)
	}

	// A replay at another sequence number is caught the same way.
	resent := decode(t, f.envelope(t, f.fra, topicA.ID, 1, 2, innerA))
	_, err = OpenInner(innerA, resent, f.fra.card)
	wantReason(t, err, ReasonBadInner)
}

func TestDecodeEnvelopeRejects(t *testing.T) {
	f := newEnvFixture(t)
	s := f.tt.s
	good := func() EnvelopeBody {
		return EnvelopeBody{V: ProtocolVersion, Kind: KindBulletin, Topic: s.ID[:], Epoch: 1, Author: f.nga.ID(),
			Node: f.nga.id.PeerID().String(), Seq: 1, TS: t0, Ciphertext: []byte{1}}
	}
	cases := []struct {
		name string
		edit func(*EnvelopeBody)
		want string
	}{
		{"unknown kind", func(b *EnvelopeBody) { b.Kind = "memo" }, `"memo" is not an envelope kind`},
		{"short topic", func(b *EnvelopeBody) { b.Topic = b.Topic[:31] }, `"topic": is 31 bytes`},
		{"epoch 0", func(b *EnvelopeBody) { b.Epoch = 0 }, "epoch 0 has no key"},
		{"bad author", func(b *EnvelopeBody) { b.Author = "Nigeria" }, `"author"`},
		{"bad node", func(b *EnvelopeBody) { b.Node = "node-1" }, "not a libp2p peer ID"},
		{"node in CID form", func(b *EnvelopeBody) { b.Node = peer.ToCid(f.nga.id.PeerID()).String() }, "canonical form"},
		{"seq 0", func(b *EnvelopeBody) { b.Seq = 0 }, "start at 1"},
		{"seq 1 with prev", func(b *EnvelopeBody) { b.Prev = make([]byte, 32) }, "must be absent"},
		{"seq 2 without prev", func(b *EnvelopeBody) { b.Seq = 2 }, `"prev": is 0 bytes`},
		{"unsorted audience", func(b *EnvelopeBody) { b.Audience = []string{f.nga.ID(), f.nga.ID()} }, "sorted without duplicates"},
		{"audience too large", func(b *EnvelopeBody) {
			for range MaxAudience + 1 {
				b.Audience = append(b.Audience, f.nga.ID())
			}
		}, "at most 32"},
		{"empty ciphertext", func(b *EnvelopeBody) { b.Ciphertext = nil }, `"ciphertext": is empty`},
		{"missing time", func(b *EnvelopeBody) { b.TS = time.Time{} }, `"ts": is missing`},
		{"bad version", func(b *EnvelopeBody) { b.V = 0 }, "version 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := good()
			c.edit(&body)
			raw, _, err := crypto.Seal(f.nga.id.Signing, crypto.DomainEnvelope, body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = DecodeEnvelope(raw)
			wantReason(t, err, ReasonMalformed)
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want it to contain %q", err, c.want)
			}
		})
	}
	_, err := DecodeEnvelope(make([]byte, MaxEnvelopeBytes+1))
	wantReason(t, err, ReasonTooLarge)
	_, err = DecodeEnvelope([]byte("garbage"))
	wantReason(t, err, ReasonMalformed)
	if _, err := SealEnvelope(f.fra.id, good()); err == nil {
		t.Fatal("SealEnvelope signed an envelope for another author")
	}
	var rej *Rejection
	if _, err := DecodeEnvelope(nil); !errors.As(err, &rej) {
		t.Fatalf("DecodeEnvelope error is %T, want *Rejection", err)
	}
}

func TestRevocationPayload(t *testing.T) {
	r := Revocation{Bulletin: NewBulletinID(TopicID{1}, memberID(1)), Reason: "source withdrew the information"}
	data, err := EncodeRevocation(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRevocation(data)
	if err != nil || *got != r {
		t.Fatalf("DecodeRevocation = %+v, %v", got, err)
	}
	if _, err := EncodeRevocation(Revocation{Bulletin: r.Bulletin}); err == nil {
		t.Fatal("revocation without a reason accepted")
	}
	bad, _ := canon.Marshal(Revocation{Bulletin: "x", Reason: "y"})
	if _, err := DecodeRevocation(bad); err == nil {
		t.Fatal("revocation of a malformed bulletin ID accepted")
	}
}

func TestCheckEnvelopeTime(t *testing.T) {
	fx := newEnvFixture(t)
	raw, _ := fx.publish(t, fx.nga, fx.tt.s.ID, 1, 1, []byte("x")) // ts = t0 + 1h
	env, err := DecodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{env.TS, env.TS.Add(-MaxFutureSkew), env.TS.Add(24 * time.Hour)} {
		if err := CheckEnvelopeTime(env, now); err != nil {
			t.Errorf("now %s: %v", now, err)
		}
	}
	now := env.TS.Add(-MaxFutureSkew - time.Second)
	err = CheckEnvelopeTime(env, now)
	wantReason(t, err, ReasonBadTime)
	if want := `field "ts": 2026-11-27T11:00:00Z is more than 10m0s ahead of this node's clock (2026-11-27T10:49:59Z)`; !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	env.TS = time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	if err := CheckEnvelopeTime(env, now); RejectionReason(err) != ReasonBadTime || !strings.Contains(err.Error(), "before 1970") {
		t.Fatalf("ts before 1970: %v", err)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	fx := newEnvFixture(f)
	id := fx.tt.s.ID
	first, _ := fx.publish(f, fx.nga, id, 1, 1, []byte("first"))
	second, _ := fx.publish(f, fx.nga, id, 1, 2, []byte("second"))
	ct, _ := crypto.Encrypt([]byte("to two"), fx.fra.card.Recipient(), fx.nga.card.Recipient())
	aud, err := SealEnvelope(fx.nga.id, EnvelopeBody{Kind: KindRevocation, Topic: id[:], Epoch: 1, Author: fx.nga.ID(),
		Node: fx.nga.id.PeerID().String(), Seq: 3, Prev: make([]byte, 32), TS: t0,
		Audience: sorted(fx.fra.ID(), fx.nga.ID()), Ciphertext: ct})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{first, second, aud.Raw, {}, {0x82, 0x40, 0x40}, []byte("garbage")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := DecodeEnvelope(data)
		if err != nil {
			if RejectionReason(err) == "" {
				t.Fatalf("error is not a *Rejection: %v", err)
			}
			return
		}
		body, err := canon.Marshal(env.EnvelopeBody)
		if err != nil {
			t.Fatal(err)
		}
		again, err := canon.Marshal(crypto.Signed{Body: body, Sig: env.signed.Sig})
		if err != nil || !bytes.Equal(again, data) {
			t.Fatal("accepted envelope does not re-encode identically")
		}
	})
}
