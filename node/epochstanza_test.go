package node

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/protocol"
)

// stanzaTypes returns the recipient stanza types of an age header.
func stanzaTypes(ct []byte) []string {
	var types []string
	for _, line := range bytes.Split(ct[:bytes.Index(ct, []byte("\n---"))], []byte("\n")) {
		if f := bytes.Fields(line); len(f) > 1 && string(f[0]) == "->" {
			types = append(types, string(f[1]))
		}
	}
	return types
}

// A node seals envelopes to the epoch with one concord-epoch stanza and
// restricted ones with hybrid stanzas; a partner reads both, and still
// reads an envelope sealed the old way, to the epoch's hybrid recipient.
func TestEnvelopeStanzas(t *testing.T) {
	nodes, id := federation(t, 2, "document-fraud")
	a, b := nodes[0], asHostile(t, nodes[1], id)
	restricted := draft("for A only")
	restricted.Audience = []string{a.id.MemberID()}
	for _, c := range []struct {
		draft *protocol.BulletinDraft
		want  []string
	}{
		{draft("to the epoch"), []string{crypto.EpochStanzaType}},
		{restricted, []string{"mlkem768x25519", "mlkem768x25519"}},
	} {
		rec := publish(t, b.Node, id, c.draft)
		raw, err := b.store.Envelope(rec.Envelope)
		if err != nil {
			t.Fatal(err)
		}
		env, err := protocol.DecodeEnvelope(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := stanzaTypes(env.Ciphertext); !slices.Equal(got, c.want) {
			t.Errorf("%s: stanzas %q, want %q", c.draft.Title, got, c.want)
		}
		eventually(t, 20*time.Second, "a cannot read "+c.draft.Title, func() bool { return readable(a, rec.ID) })
	}
	payload := b.bulletin(nil)
	old, err := protocol.DecodeBulletin(payload)
	if err != nil {
		t.Fatal(err)
	}
	env := b.envelope(forged{payload: payload}) // to the epoch's hybrid recipient
	if got := stanzaTypes(env.Ciphertext); !slices.Equal(got, []string{"mlkem768x25519"}) {
		t.Fatalf("the old-style envelope has stanzas %q", got)
	}
	if err := a.Ingest(context.Background(), env.Raw); err != nil {
		t.Fatal(err)
	}
	if !readable(a, old.ID) {
		t.Fatal("a cannot read an envelope sealed to the epoch's hybrid recipient")
	}
}
