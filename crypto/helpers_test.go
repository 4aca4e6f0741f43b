package crypto

import (
	"testing"
	"time"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func newIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newCard(t testing.TB, id *Identity, country string) *Card {
	t.Helper()
	addrs := []string{"/ip4/192.0.2.10/tcp/4001", "/ip4/192.0.2.10/udp/4001/quic-v1"}
	c, err := NewCard(id, "Agency of "+country, country, addrs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sealed signs v under d with key, failing the test on error.
func sealed(t testing.TB, id *Identity, d Domain, v any) []byte {
	t.Helper()
	raw, _, err := Seal(id.Signing, d, v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
