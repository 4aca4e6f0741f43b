package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/protocol"
)

// benchCrypto times the per-bulletin crypto path against plain age.
func benchCrypto(ctx context.Context, b *bench) error {
	for _, s := range []struct {
		name         string
		size, rounds int
	}{{"crypto-4k", 4 << 10, b.cfg.crypto4k}, {"crypto-256k", 256 << 10, b.cfg.crypto256k}} {
		b.progress("%s: %d rounds", s.name, s.rounds)
		f, err := newCryptoFixture(s.size)
		if err != nil {
			return err
		}
		var conc time.Duration
		b.profile(s.name, func() { conc, err = perOp(s.rounds, f.concord) })
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		base, err := perOp(s.rounds, f.plainAge)
		if err != nil {
			return fmt.Errorf("%s baseline: %w", s.name, err)
		}
		b.rep.add(s.name, unitMs, ms(conc), ms(base))
	}
	b.rep.note("crypto: Concord = encode bulletin, sign inner, age-encrypt to the epoch's stanza (a file key wrapped under the epoch secret), sign envelope, then decode, verify outer, decrypt, verify inner, decode bulletin (protocol.Seal and protocol.Open, as the node calls them); baseline = age encrypt + decrypt of the same encoded bulletin to one X25519 recipient")
	return nil
}

// perOp runs fn once to warm up, then rounds times, and returns the mean.
func perOp(rounds int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	start := time.Now()
	for range rounds {
		if err := fn(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(rounds), nil
}

// cryptoFixture is one member, its topic at epoch 1 with its key, and one
// bulletin.
type cryptoFixture struct {
	id       *crypto.Identity
	card     *crypto.Card
	key      *crypto.EpochKey
	classic  *age.X25519Identity // the baseline's recipient
	state    *protocol.TopicState
	bulletin *protocol.Bulletin
	encoded  []byte
}

// newCryptoFixture builds a bulletin whose encoding is about size bytes:
// a 4 KiB body, and an attachment for the rest of a larger size (a body
// is limited to 128 KiB).
func newCryptoFixture(size int) (*cryptoFixture, error) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return nil, err
	}
	f := &cryptoFixture{id: id}
	if f.classic, err = age.GenerateX25519Identity(); err != nil {
		return nil, err
	}
	if f.card, err = crypto.NewCard(id, "Agency", "FRA", []string{"/ip4/127.0.0.1/tcp/7700"}, time.Now()); err != nil {
		return nil, err
	}
	if err := f.newTopic(); err != nil {
		return nil, err
	}
	draft := benchDraft("crypto", textBody(min(size, 4<<10)))
	if extra := size - 5<<10; extra > 0 {
		data := make([]byte, extra)
		rand.Read(data)
		draft.Attachments = []protocol.Attachment{protocol.NewAttachment("capture.bin", "application/octet-stream", data)}
	}
	now := time.Now().UTC()
	f.bulletin, err = draft.Build(protocol.Stamp{ID: protocol.NewBulletinID(f.state.ID, id.MemberID()), Version: 1, Created: now, Modified: now,
		Category: "drug-trafficking", Originator: protocol.Originator{Member: id.MemberID(), Country: "FRA", Agency: "Agency"}})
	if err != nil {
		return nil, err
	}
	f.encoded, err = protocol.EncodeBulletin(f.bulletin)
	return f, err
}

// newTopic creates the member's topic as a node does: its genesis, then
// a rotate to epoch 1 wrapped to the member.
func (f *cryptoFixture) newTopic() error {
	now := time.Now()
	genesis, err := protocol.NewGenesis(f.id, f.card, "drug-trafficking", "crypto bench", protocol.Policy{MaxAgeDays: 365}, now)
	if err != nil {
		return err
	}
	if f.state, err = protocol.NewTopicState(genesis); err != nil {
		return err
	}
	if f.key, err = crypto.GenerateEpochKey(1); err != nil {
		return err
	}
	r, err := f.state.NewRotate(f.key, "")
	if err != nil {
		return err
	}
	e := f.state.NextEntry(f.id.MemberID(), protocol.EntryRotate, now)
	e.Rotate = &r
	raw, err := protocol.SignEntry(f.id, e)
	if err != nil {
		return err
	}
	return f.state.Apply(raw)
}

// concord seals and opens one bulletin with the node's own code.
func (f *cryptoFixture) concord() error {
	env, err := f.seal()
	if err != nil {
		return err
	}
	return f.open(env)
}

func (f *cryptoFixture) seal() ([]byte, error) {
	payload, err := protocol.EncodeBulletin(f.bulletin)
	if err != nil {
		return nil, err
	}
	env, err := protocol.Seal(f.state, f.id, protocol.SealParams{Kind: protocol.KindBulletin, Payload: payload,
		To: []age.Recipient{f.key.EnvelopeRecipient(f.state.ID)}, Seq: 1, TS: time.Now()})
	if err != nil {
		return nil, err
	}
	return env.Raw, nil
}

func (f *cryptoFixture) open(raw []byte) error {
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		return err
	}
	if err := env.VerifySignature(f.card); err != nil {
		return err
	}
	reader := protocol.Reader{ID: f.id, Keys: map[uint64]*crypto.EpochKey{1: f.key}}
	_, err = protocol.Open(f.state, reader, env, time.Now())
	return err
}

// plainAge encrypts and decrypts the encoded bulletin with age alone, to
// one X25519 recipient: the cheapest age there is.
func (f *cryptoFixture) plainAge() error {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, f.classic.Recipient())
	if err != nil {
		return err
	}
	if _, err := w.Write(f.encoded); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	r, err := age.Decrypt(&buf, f.classic)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, r)
	return err
}
