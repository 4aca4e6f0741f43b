package crypto

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

func newAge(t testing.TB) *age.HybridIdentity {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEncryptDecrypt(t *testing.T) {
	a, b := newAge(t), newAge(t)
	msg := []byte("bulletin bytes")
	ct, err := Encrypt(msg, a.Recipient(), b.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ct, []byte("age-encryption.org/v1\n")) {
		t.Fatal("not age binary format")
	}
	for _, id := range []*age.HybridIdentity{a, b} {
		got, err := Decrypt(ct, len(msg), id)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Decrypt: %q, %v", got, err)
		}
	}
	// With several identities, the one that matches is used.
	if _, err := Decrypt(ct, len(msg), newAge(t), b); err != nil {
		t.Fatal(err)
	}
}

func TestDecryptNotForUs(t *testing.T) {
	ct, err := Encrypt([]byte("x"), newAge(t).Recipient())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decrypt(ct, 10, newAge(t))
	if !errors.Is(err, ErrNotForUs) || errors.Is(err, ErrCiphertextCorrupted) {
		t.Fatalf("got %v, want ErrNotForUs only", err)
	}
}

func TestDecryptCorrupted(t *testing.T) {
	id := newAge(t)
	ct, err := Encrypt(bytes.Repeat([]byte("p"), 100), id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"payload byte flipped": flipLast(ct),
		"truncated":            ct[:len(ct)-20],
		"not age":              []byte("hello"),
		"empty":                nil,
		"header MAC altered":   alterMAC(ct),
	}
	for name, data := range cases {
		_, err := Decrypt(data, 1000, id)
		if !errors.Is(err, ErrCiphertextCorrupted) {
			t.Errorf("%s: got %v, want ErrCiphertextCorrupted", name, err)
		}
	}
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 1
	return c
}

func alterMAC(b []byte) []byte {
	c := bytes.Clone(b)
	i := bytes.Index(c, []byte("\n--- ")) + 5
	if c[i] == 'A' {
		c[i] = 'B'
	} else {
		c[i] = 'A'
	}
	return c
}

func TestDecryptLimit(t *testing.T) {
	id := newAge(t)
	msg := bytes.Repeat([]byte("z"), 70_000) // more than one 64 KiB age chunk
	ct, err := Encrypt(msg, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(ct, len(msg), id); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	_, err = Decrypt(ct, len(msg)-1, id)
	if !errors.Is(err, ErrPlaintextTooLarge) {
		t.Fatalf("over the limit: got %v, want ErrPlaintextTooLarge", err)
	}
	empty, _ := Encrypt(nil, id.Recipient())
	if got, err := Decrypt(empty, 0, id); err != nil || len(got) != 0 {
		t.Fatalf("empty plaintext: %q, %v", got, err)
	}
	if _, err := Decrypt(empty, -1, id); err == nil {
		t.Fatal("negative limit accepted")
	}
}

func TestEncryptRefusesNoRecipientsAndMixing(t *testing.T) {
	if _, err := Encrypt([]byte("x")); err == nil || !strings.Contains(err.Error(), "no recipients") {
		t.Errorf("no recipients: got %v", err)
	}
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Encrypt([]byte("x"), newAge(t).Recipient(), classic.Recipient()); err == nil {
		t.Error("post-quantum and classic recipients were mixed")
	}
	if _, err := Decrypt([]byte("x"), 1); err == nil {
		t.Error("Decrypt without identities accepted")
	}
}

// readBounded stops one byte past its limit, and grows past a size
// hint that was too small.
func TestReadBounded(t *testing.T) {
	data := bytes.Repeat([]byte("z"), 1000)
	for _, c := range []struct{ size, limit, want int }{{10, 2000, 1000}, {1000, 1000, 1000}, {2000, 999, 1000}, {0, 0, 1}, {5, 10, 11}} {
		got, err := readBounded(bytes.NewReader(data), c.size, c.limit)
		if err != nil || len(got) != c.want {
			t.Errorf("size %d, limit %d: %d bytes, %v; want %d", c.size, c.limit, len(got), err, c.want)
		}
	}
}
