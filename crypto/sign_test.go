package crypto

import (
	"crypto/ed25519"
	"errors"
	"testing"
)

var allDomains = []Domain{DomainCard, DomainInvitation, DomainJoin, DomainLogEntry, DomainEnvelope, DomainBulletin}

func TestDomainSeparation(t *testing.T) {
	id := newIdentity(t)
	pub := id.Signing.Public().(ed25519.PublicKey)
	body := []byte("the same bytes")
	sig := Sign(id.Signing, DomainCard, body)
	if err := Verify(pub, DomainCard, body, sig); err != nil {
		t.Fatalf("same domain: %v", err)
	}
	if err := Verify(pub, DomainEnvelope, body, sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("card signature under envelope domain: got %v, want ErrBadSignature", err)
	}
	for _, d := range allDomains[1:] {
		if Verify(pub, d, body, sig) == nil {
			t.Errorf("card signature verifies under %s", d)
		}
	}
}

// The 0x00 after the domain keeps a domain from absorbing the start of a
// body: "concord/card/v1" + "x" must differ from "concord/card/v1x" + "".
func TestDomainTerminator(t *testing.T) {
	id := newIdentity(t)
	pub := id.Signing.Public().(ed25519.PublicKey)
	sig := Sign(id.Signing, DomainCard, []byte("x"))
	if Verify(pub, Domain(string(DomainCard)+"x"), nil, sig) == nil {
		t.Fatal("domain and body boundary is ambiguous")
	}
}

func TestDomainsAreDistinct(t *testing.T) {
	seen := map[Domain]bool{}
	for _, d := range allDomains {
		if seen[d] {
			t.Errorf("domain %s is used twice", d)
		}
		seen[d] = true
	}
}

func TestVerifyRejectsBadKeyAndSignature(t *testing.T) {
	id := newIdentity(t)
	pub := id.Signing.Public().(ed25519.PublicKey)
	sig := Sign(id.Signing, DomainJoin, []byte("b"))
	if err := Verify(pub[:31], DomainJoin, []byte("b"), sig); err == nil {
		t.Error("short key accepted")
	}
	sig[0] ^= 1
	if err := Verify(pub, DomainJoin, []byte("b"), sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("altered signature: got %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	id := newIdentity(t)
	container, body, err := Seal(id.Signing, DomainLogEntry, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(container)
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Body) != string(body) {
		t.Fatal("Open returned other body bytes")
	}
	if err := Verify(id.Signing.Public().(ed25519.PublicKey), DomainLogEntry, s.Body, s.Sig); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(append(container, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	if _, err := Open([]byte{0x82, 0x41, 0x00, 0x41, 0x00}); err == nil {
		t.Error("1-byte signature accepted")
	}
}
