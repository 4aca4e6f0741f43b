package protocol

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/golden"
)

// gBuildEpochStanzaEnvelope seals alice's bulletin on the golden topic at
// epoch 1 as the node seals it since envelopes carry the epoch stanza.
func gBuildEpochStanzaEnvelope(t testing.TB) gEnvelope {
	t.Helper()
	alice, topic := gIdentity(t, "alice"), gTopic(t)
	payload := gEncode(t, gBulletin(t, topic, alice.MemberID()))
	inner, err := SealInner(alice, InnerBody{Topic: topic[:], Epoch: 1, Author: alice.MemberID(), Seq: 1, Kind: KindBulletin, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := crypto.Encrypt(inner, gEpochKey(t, 1, gReadKeys(t).EpochKeys["1"]).EnvelopeRecipient(topic))
	if err != nil {
		t.Fatal(err)
	}
	env, err := SealEnvelope(alice, EnvelopeBody{Kind: KindBulletin, Topic: topic[:], Epoch: 1, Author: alice.MemberID(),
		Node: alice.PeerID().String(), Seq: 1, TS: gTime.Add(time.Hour), Ciphertext: ct})
	if err != nil {
		t.Fatal(err)
	}
	is, _ := crypto.Open(inner)
	return gEnvelope{gItem: gSignedItem(t, "bulletin, file key in a concord-epoch stanza (§8.4)", env.Raw, env.ID), ReadBy: "epoch 1",
		InnerHex: hex.EncodeToString(inner), InnerFields: golden.Diag(t, is.Body),
		PayloadHex: hex.EncodeToString(payload), PayloadFields: golden.Diag(t, payload)}
}

// The stored envelope was sealed once: its nonce and age file key are
// random, so the test checks that the stored bytes open.
func TestGoldenEpochStanzaEnvelope(t *testing.T) {
	if *update {
		golden.Write(t, *update, "envelope_epoch_stanza.json", gBuildEpochStanzaEnvelope(t))
	}
	var g gEnvelope
	golden.Read(t, filepath.Join("testdata", "envelope_epoch_stanza.json"), &g)
	s, bob := gEpochOneState(t)
	key := gEpochKey(t, 1, gReadKeys(t).EpochKeys["1"])
	env, err := DecodeEnvelope(golden.Unhex(t, g.Hex))
	if err != nil {
		t.Fatal(err)
	}
	gReencodes(t, g.Name, env.EnvelopeBody, gCheckSigned(t, g.gItem, env.ID))
	if err := s.CheckEnvelope(env, 1); err != nil {
		t.Fatal(err)
	}
	topic := base64.RawStdEncoding.EncodeToString(env.Topic)
	header := regexp.MustCompile(`^age-encryption\.org/v1\n-> concord-epoch ` + regexp.QuoteMeta(topic) + ` 1\n[A-Za-z0-9+/]{64}\n[A-Za-z0-9+/]{11}\n--- `)
	if !header.Match(env.Ciphertext) {
		t.Fatalf("header is not one concord-epoch stanza for the topic at epoch 1:\n%.300q", env.Ciphertext)
	}
	if _, err := crypto.Decrypt(env.Ciphertext, MaxPlaintext, key.Identity); !errors.Is(err, crypto.ErrNotForUs) {
		t.Fatalf("the hybrid identity alone: got %v, want ErrNotForUs", err)
	}
	o, err := Open(s, Reader{ID: bob, Keys: map[uint64]*crypto.EpochKey{1: key}}, env, gTime.Add(24*time.Hour))
	if err != nil || o.Sealed || o.Bulletin == nil {
		t.Fatalf("Open: %+v, %v", o, err)
	}
	if hex.EncodeToString(gEncode(t, o.Bulletin)) != g.PayloadHex {
		t.Fatal("opened bulletin is not the stored payload")
	}
	plain, err := crypto.Decrypt(env.Ciphertext, MaxPlaintext, Reader{Keys: map[uint64]*crypto.EpochKey{1: key}}.Key(env))
	if err != nil || hex.EncodeToString(plain) != g.InnerHex {
		t.Fatalf("inner container differs: %v", err)
	}
}

// Envelopes sealed before the epoch stanza carry a hybrid stanza to the
// epoch's recipient: a reader holding the epoch key still opens them all.
func TestGoldenEnvelopesOpenWithReader(t *testing.T) {
	var envs []gEnvelope
	golden.Read(t, filepath.Join("testdata", "envelopes.json"), &envs)
	s, bob := gEpochOneState(t)
	r := Reader{ID: bob, Keys: map[uint64]*crypto.EpochKey{1: gEpochKey(t, 1, gReadKeys(t).EpochKeys["1"])}}
	for _, g := range envs {
		env, err := DecodeEnvelope(golden.Unhex(t, g.Hex))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Key(env).(*crypto.EpochIdentity); !ok && len(env.Audience) == 0 {
			t.Errorf("%s: the reader's key is not the epoch's envelope identity", g.Name)
		}
		o, err := Open(s, r, env, gTime.Add(24*time.Hour))
		if err != nil || o.Sealed {
			t.Errorf("%s: Open: %+v, %v", g.Name, o, err)
		}
	}
}

// gEpochOneState is the golden topic with bob a member at epoch 1, and bob.
func gEpochOneState(t testing.TB) (*TopicState, *crypto.Identity) {
	t.Helper()
	_, raws := gLoadLog(t)
	s, err := Replay(raws[:3])
	if err != nil {
		t.Fatal(err)
	}
	return s, gIdentity(t, "bob")
}

var _ age.Identity = (*crypto.EpochIdentity)(nil)
