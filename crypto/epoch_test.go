package crypto

import (
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestEpochKeyWrapUnwrap(t *testing.T) {
	k, err := GenerateEpochKey(7)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, eve := newAge(t), newAge(t), newAge(t)
	for _, member := range []*age.HybridIdentity{alice, bob} {
		wrapped, err := WrapEpochKey(k, member.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnwrapEpochKey(7, wrapped, member)
		if err != nil {
			t.Fatal(err)
		}
		if got.Epoch != 7 || got.String() != k.String() || got.Recipient().String() != k.Recipient().String() {
			t.Fatal("unwrapped key differs")
		}
		if _, err := UnwrapEpochKey(7, wrapped, eve); !errors.Is(err, ErrNotForUs) {
			t.Fatalf("unwrap by a non-member: got %v, want ErrNotForUs", err)
		}
	}
}

func TestEpochKeyEncryptsBulletins(t *testing.T) {
	k, err := GenerateEpochKey(1)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := Encrypt([]byte("bulletin"), k.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decrypt(ct, 100, k.Identity); err != nil || string(got) != "bulletin" {
		t.Fatalf("Decrypt: %q, %v", got, err)
	}
}

func TestParseEpochKey(t *testing.T) {
	k, err := GenerateEpochKey(3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEpochKey(3, k.String())
	if err != nil || got.String() != k.String() || got.Epoch != 3 {
		t.Fatalf("round trip: %v", err)
	}
	_, err = ParseEpochKey(4, "AGE-SECRET-KEY-1NOTAKEY")
	if err == nil || !strings.Contains(err.Error(), "epoch 4") {
		t.Fatalf("got %v, want an error naming epoch 4", err)
	}
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEpochKey(5, classic.String()); err == nil {
		t.Fatal("classic (non post-quantum) key accepted")
	}
}

func TestUnwrapEpochKeyRefusesGarbage(t *testing.T) {
	self := newAge(t)
	notAKey, err := Encrypt([]byte("hello"), self.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnwrapEpochKey(2, notAKey, self); err == nil {
		t.Error("plaintext that is not a key accepted")
	}
	if _, err := UnwrapEpochKey(2, []byte("junk"), self); !errors.Is(err, ErrCiphertextCorrupted) {
		t.Errorf("junk: got %v, want ErrCiphertextCorrupted", err)
	}
}
