package protocol

import (
	"errors"
	"testing"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
)

// Envelopes to the epoch carry the epoch stanza; every member holding the
// epoch key opens them.
func TestSealOpenEpochStanza(t *testing.T) {
	f := newEnvFixture(t)
	key := f.tt.keys[f.tt.s.Epoch]
	env := f.seal(t, f.fra, SealParams{Payload: f.bulletinOf(t, f.fra, nil), To: []age.Recipient{key.EnvelopeRecipient(f.tt.s.ID)}})
	for _, m := range []testMember{f.fra, f.nga, f.bra} {
		o, err := Open(f.tt.s, f.reader(m), env, openNow)
		if err != nil || o.Sealed || o.Bulletin == nil {
			t.Fatalf("%s: Open = %+v, %v", m.card.Name, o, err)
		}
	}
}

// A member holding the epoch key can make any stanza: those for another
// topic or epoch, or more stanzas than an envelope may carry, are refused
// as undecryptable, without work beyond the count.
func TestOpenRefusesHostileEpochStanzas(t *testing.T) {
	f := newEnvFixture(t)
	key := f.tt.keys[f.tt.s.Epoch]
	sameSecret, err := crypto.ParseEpochKey(key.Epoch+1, key.String())
	if err != nil {
		t.Fatal(err)
	}
	many := make([]age.Recipient, crypto.MaxEpochStanzas+1)
	for i := range many {
		many[i] = key.EnvelopeRecipient(f.tt.s.ID)
	}
	for name, to := range map[string][]age.Recipient{
		"stanza for another topic": {key.EnvelopeRecipient(TopicID{1})},
		"stanza for another epoch": {sameSecret.EnvelopeRecipient(f.tt.s.ID)},
		"too many stanzas":         many,
	} {
		env := f.seal(t, f.fra, SealParams{Payload: f.bulletinOf(t, f.fra, nil), To: to})
		o, err := Open(f.tt.s, f.reader(f.nga), env, openNow)
		var r *Rejection
		if !errors.As(err, &r) || r.Reason != ReasonUndecryptable || o != nil {
			t.Errorf("%s: Open = %+v, %v; want %s", name, o, err, ReasonUndecryptable)
		}
	}
}
