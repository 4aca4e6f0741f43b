package crypto

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/hpke"
)

var (
	topicA = [32]byte{1, 2, 3}
	topicB = [32]byte{4, 5, 6}
)

func newEpochKey(t testing.TB, epoch uint64) *EpochKey {
	t.Helper()
	k, err := GenerateEpochKey(epoch)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEpochStanzaRoundTrip(t *testing.T) {
	k := newEpochKey(t, 3)
	msg := []byte("bulletin of epoch 3")
	ct, err := Encrypt(msg, k.EnvelopeRecipient(topicA))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ct, []byte("\n-> "+EpochStanzaType+" ")) {
		t.Fatalf("header holds no %s stanza:\n%.200s", EpochStanzaType, ct)
	}
	if bytes.Contains(ct, []byte("mlkem768x25519")) {
		t.Fatal("an envelope to the epoch still carries a hybrid stanza")
	}
	got, err := Decrypt(ct, 100, k.EnvelopeIdentity(topicA))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Decrypt: %q, %v", got, err)
	}
	// The epoch's hybrid identity alone does not open it.
	if _, err := Decrypt(ct, 100, k.Identity); !errors.Is(err, ErrNotForUs) {
		t.Fatalf("hybrid identity on an epoch stanza: got %v, want ErrNotForUs", err)
	}
}

// Envelopes sealed before epoch stanzas existed carry a hybrid stanza to
// the epoch's recipient: the envelope identity opens them too.
func TestEpochIdentityOpensHybridStanza(t *testing.T) {
	k := newEpochKey(t, 1)
	ct, err := Encrypt([]byte("old envelope"), k.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decrypt(ct, 100, k.EnvelopeIdentity(topicA))
	if err != nil || string(got) != "old envelope" {
		t.Fatalf("Decrypt: %q, %v", got, err)
	}
	other := newEpochKey(t, 1)
	if _, err := Decrypt(ct, 100, other.EnvelopeIdentity(topicA)); !errors.Is(err, ErrNotForUs) {
		t.Fatalf("another epoch key: got %v, want ErrNotForUs", err)
	}
}

func TestEpochStanzaIsBound(t *testing.T) {
	k := newEpochKey(t, 5)
	ct, err := Encrypt([]byte("x"), k.EnvelopeRecipient(topicA))
	if err != nil {
		t.Fatal(err)
	}
	k4, _ := ParseEpochKey(4, k.String()) // the same secret, another epoch
	for name, id := range map[string]age.Identity{
		"another topic":           k.EnvelopeIdentity(topicB),
		"another epoch":           k4.EnvelopeIdentity(topicA),
		"another key, same epoch": newEpochKey(t, 5).EnvelopeIdentity(topicA),
	} {
		if _, err := Decrypt(ct, 100, id); !errors.Is(err, ErrNotForUs) {
			t.Errorf("%s: got %v, want ErrNotForUs", name, err)
		}
	}
}

// A stanza whose arguments are rewritten to name another topic or epoch
// does not open there, even under the same secret: the key and the
// associated data are bound to both.
func TestEpochStanzaCannotMove(t *testing.T) {
	k := newEpochKey(t, 5)
	st, err := k.EnvelopeRecipient(topicA).Wrap(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	moved := *st[0]
	moved.Args = k.EnvelopeRecipient(topicB).s.args()
	if _, err := k.EnvelopeIdentity(topicB).Unwrap([]*age.Stanza{&moved}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("moved to another topic: got %v, want ErrIncorrectIdentity", err)
	}
	k6, _ := ParseEpochKey(6, k.String())
	moved.Args = k6.EnvelopeRecipient(topicA).s.args()
	if _, err := k6.EnvelopeIdentity(topicA).Unwrap([]*age.Stanza{&moved}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("moved to another epoch: got %v, want ErrIncorrectIdentity", err)
	}
}

func TestEpochStanzaMalformed(t *testing.T) {
	k := newEpochKey(t, 5)
	id := k.EnvelopeIdentity(topicA)
	good, err := k.EnvelopeRecipient(topicA).Wrap(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*age.Stanza)) *age.Stanza {
		s := *good[0]
		s.Args = append([]string(nil), s.Args...)
		s.Body = append([]byte(nil), s.Body...)
		f(&s)
		return &s
	}
	for name, st := range map[string]*age.Stanza{
		"no arguments":        with(func(s *age.Stanza) { s.Args = nil }),
		"a third argument":    with(func(s *age.Stanza) { s.Args = append(s.Args, "x") }),
		"short topic":         with(func(s *age.Stanza) { s.Args[0] = s.Args[0][:40] }),
		"padded topic":        with(func(s *age.Stanza) { s.Args[0] += "=" }),
		"epoch with a zero":   with(func(s *age.Stanza) { s.Args[1] = "05" }),
		"negative epoch":      with(func(s *age.Stanza) { s.Args[1] = "-5" }),
		"epoch out of range":  with(func(s *age.Stanza) { s.Args[1] = "18446744073709551616" }),
		"short body":          with(func(s *age.Stanza) { s.Body = s.Body[:55] }),
		"oversized body":      with(func(s *age.Stanza) { s.Body = make([]byte, 1<<20) }),
		"body without nonce":  with(func(s *age.Stanza) { s.Body = s.Body[24:] }),
		"hybrid, no argument": {Type: hybridStanzaType, Body: make([]byte, 32)},
	} {
		_, err := id.Unwrap([]*age.Stanza{st})
		if err == nil || errors.Is(err, age.ErrIncorrectIdentity) {
			t.Errorf("%s: got %v, want an error that is not ErrIncorrectIdentity", name, err)
		}
	}
	damaged := with(func(s *age.Stanza) { s.Body[30] ^= 1 })
	if _, err := id.Unwrap([]*age.Stanza{damaged}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("damaged body: got %v, want ErrIncorrectIdentity", err)
	}
	if _, err := id.Unwrap([]*age.Stanza{{Type: "X25519", Args: []string{"x"}}}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("foreign stanza type: got %v, want ErrIncorrectIdentity", err)
	}
}

// manyStanzas is a recipient that writes n copies of its stanza.
type manyStanzas struct {
	r *EpochRecipient
	n int
}

func (m manyStanzas) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	st, l, err := m.r.WrapWithLabels(fileKey)
	for len(st) < m.n && err == nil {
		st = append(st, st[0])
	}
	return st, l, err
}

func (m manyStanzas) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	st, _, err := m.WrapWithLabels(fileKey)
	return st, err
}

// An envelope with many stanzas is refused before any is tried: a member
// could otherwise make every reader run a decapsulation per stanza.
func TestEpochStanzaCount(t *testing.T) {
	k := newEpochKey(t, 1)
	id := k.EnvelopeIdentity(topicA)
	for _, c := range []struct {
		n  int
		ok bool
	}{{MaxEpochStanzas, true}, {MaxEpochStanzas + 1, false}, {1025, false}} {
		ct, err := Encrypt([]byte("x"), manyStanzas{k.EnvelopeRecipient(topicA), c.n})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Decrypt(ct, 10, id)
		if c.ok != (err == nil) || !c.ok && !errors.Is(err, ErrCiphertextCorrupted) {
			t.Errorf("%d stanzas: got %v", c.n, err)
		}
	}
	hybrid := make([]age.Recipient, MaxEpochStanzas+1)
	for i := range hybrid {
		hybrid[i] = newEpochKey(t, 1).Recipient()
	}
	hybrid[len(hybrid)-1] = k.Recipient()
	ct, err := Encrypt([]byte("x"), hybrid...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(ct, 10, id); !errors.Is(err, ErrCiphertextCorrupted) || !strings.Contains(err.Error(), "recipient stanzas") {
		t.Errorf("%d hybrid stanzas: got %v, want ErrCiphertextCorrupted naming the stanzas", len(hybrid), err)
	}
}

// age refuses to mix the epoch stanza with a classic recipient, which
// would make the envelope no stronger than X25519.
func TestEpochStanzaIsPostQuantum(t *testing.T) {
	k := newEpochKey(t, 1)
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Encrypt([]byte("x"), k.EnvelopeRecipient(topicA), classic.Recipient()); err == nil {
		t.Fatal("epoch stanza mixed with a classic recipient")
	}
	if _, err := Encrypt([]byte("x"), k.EnvelopeRecipient(topicA), newAge(t).Recipient()); err != nil {
		t.Fatalf("epoch stanza beside a hybrid recipient: %v", err)
	}
}

func TestEpochStanzaWithoutKey(t *testing.T) {
	var k *EpochKey
	if _, err := Encrypt([]byte("x"), k.EnvelopeRecipient(topicA)); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Encrypt without a key: %v", err)
	}
	ct, err := Encrypt([]byte("x"), newEpochKey(t, 1).EnvelopeRecipient(topicA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(ct, 10, k.EnvelopeIdentity(topicA)); err == nil {
		t.Fatal("Decrypt without a key succeeded")
	}
}

// The secret the stanza key is derived from is the seed that makes the
// epoch's ML-KEM-768+X25519 key pair.
func TestHybridSeed(t *testing.T) {
	k := newEpochKey(t, 1)
	seed, err := hybridSeed(k.Identity)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := hpke.MLKEM768X25519().NewPrivateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bech32Data(k.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), pub) {
		t.Fatal("the seed does not make the epoch's public key")
	}
	for _, bad := range []string{"nodata", "age1pq1bbbbbbbbb", "a1qqq"} {
		if _, err := bech32Data(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzEpochStanzaUnwrap(f *testing.F) {
	k, err := ParseEpochKey(7, "AGE-SECRET-KEY-PQ-1C6AN9N48DFQ7MLRTWZSNPD72GACNEKP9PNLJPP0RH39QM2LXCHJQ4PZ9N3")
	if err != nil {
		f.Fatal(err)
	}
	good, err := k.EnvelopeRecipient(topicA).Wrap(make([]byte, 16))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[0].Type, good[0].Args[0], good[0].Args[1], good[0].Body, 1)
	f.Add(good[0].Type, good[0].Args[0], "8", good[0].Body, 1)
	f.Add(hybridStanzaType, good[0].Args[0], "", good[0].Body[:32], 1)
	f.Add(good[0].Type, "", "", []byte{}, 5)
	id := k.EnvelopeIdentity(topicA)
	f.Fuzz(func(t *testing.T, typ, arg0, arg1 string, body []byte, n int) {
		st := &age.Stanza{Type: typ, Args: []string{arg0, arg1}, Body: body}
		if typ == hybridStanzaType {
			st.Args = st.Args[:1]
		}
		stanzas := make([]*age.Stanza, max(1, n%8))
		for i := range stanzas {
			stanzas[i] = st
		}
		fileKey, err := id.Unwrap(stanzas)
		if err != nil {
			return
		}
		if len(stanzas) > MaxEpochStanzas || len(fileKey) != 16 {
			t.Fatalf("accepted %d stanzas, file key of %d bytes", len(stanzas), len(fileKey))
		}
		if typ == EpochStanzaType && (arg0 != good[0].Args[0] || arg1 != "7") {
			t.Fatalf("accepted a stanza bound to %q, epoch %q", arg0, arg1)
		}
	})
}

func BenchmarkEnvelopeKeyWrap(b *testing.B) {
	k := newEpochKey(b, 1)
	fileKey := make([]byte, 16)
	for _, c := range []struct {
		name string
		to   age.Recipient
		id   age.Identity
	}{
		{"hybrid", k.Recipient(), k.Identity},
		{"epoch-stanza", k.EnvelopeRecipient(topicA), k.EnvelopeIdentity(topicA)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				st, err := c.to.Wrap(fileKey)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.id.Unwrap(st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEnvelopeEncryptDecrypt4K(b *testing.B) {
	k := newEpochKey(b, 1)
	msg := bytes.Repeat([]byte("b"), 4<<10)
	for _, c := range []struct {
		name string
		to   age.Recipient
		id   age.Identity
	}{
		{"hybrid", k.Recipient(), k.Identity},
		{"epoch-stanza", k.EnvelopeRecipient(topicA), k.EnvelopeIdentity(topicA)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ct, err := Encrypt(msg, c.to)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Decrypt(ct, len(msg), c.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
