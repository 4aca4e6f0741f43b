package crypto_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/concordnet/concord/crypto"
)

func mustIdentity() *crypto.Identity {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		panic(err)
	}
	return id
}

func ExampleGenerateIdentity() {
	id := mustIdentity()
	fmt.Println(len(id.MemberID()), crypto.ValidMemberID(id.MemberID()))
	fmt.Println(strings.HasPrefix(id.Age.Recipient().String(), "age1pq1"))
	// Output:
	// 24 true
	// true
}

// The member ID of the RFC 8032 §7.1 TEST 1 public key (docs/protocol.md §2.1).
func ExampleMemberIDFromKey() {
	pub, _ := hex.DecodeString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	fmt.Println(crypto.MemberIDFromKey(ed25519.PublicKey(pub)))
	// Output: eh7ddx5bksrgcytl7bkai36s
}

func ExampleNewCard() {
	id := mustIdentity()
	card, err := crypto.NewCard(id, "Office Central des Stupéfiants", "FRA",
		[]string{"/ip4/192.0.2.10/tcp/7700", "/ip4/192.0.2.10/udp/7700/quic-v1"}, time.Now())
	if err != nil {
		panic(err)
	}
	// The armored text travels by e-mail; parsing verifies the signature.
	got, err := crypto.ParseArmoredCard([]byte(card.Armor()))
	fmt.Println(err, got.ID == id.MemberID(), crypto.CountryName(got.Country), got.HasPeer(id.PeerID()))

	_, err = crypto.NewCard(id, "OFAST", "FRA", []string{"/unix/tmp/concord.sock"}, time.Now())
	fmt.Println(err != nil)
	// Output:
	// <nil> true France true
	// true
}

func ExampleNewInvitation() {
	alice, bob := mustIdentity(), mustIdentity()
	aliceCard, _ := crypto.NewCard(alice, "OFAST", "FRA", []string{"/ip4/192.0.2.10/tcp/7700"}, time.Now())
	bobCard, _ := crypto.NewCard(bob, "NDLEA", "NGA", nil, time.Now())
	inv, err := crypto.NewInvitation(alice, aliceCard.Nodes, bobCard, sha256.Sum256([]byte("genesis")),
		"drug-trafficking", "West Africa cocaine route", sha256.Sum256([]byte("head")), 1,
		crypto.RoleMember, 72*time.Hour, time.Now())
	if err != nil {
		panic(err)
	}
	token := inv.Token()
	got, err := crypto.ParseToken(token)
	fmt.Println(strings.HasPrefix(token, crypto.TokenPrefix), err)
	fmt.Println(got.CheckFor(bobCard, time.Now()))
	fmt.Println(crypto.VerifyJoin(bobCard, got, crypto.SignJoin(bob, got)))
	fmt.Println(errors.Is(got.CheckFor(aliceCard, time.Now()), crypto.ErrNotInvitee))
	// Output:
	// true <nil>
	// <nil>
	// <nil>
	// true
}

func ExampleEncrypt() {
	alice, bob := mustIdentity(), mustIdentity()
	ct, err := crypto.Encrypt([]byte("meet at the port"), alice.Age.Recipient())
	if err != nil {
		panic(err)
	}
	plain, err := crypto.Decrypt(ct, 1024, alice.Age)
	fmt.Printf("%s %v\n", plain, err)
	_, err = crypto.Decrypt(ct, 1024, bob.Age)
	fmt.Println(errors.Is(err, crypto.ErrNotForUs))
	// Output:
	// meet at the port <nil>
	// true
}

// Signatures are domain-separated: one made for a card never verifies as
// a log entry.
func ExampleSign() {
	seed, _ := hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	key := ed25519.NewKeyFromSeed(seed)
	sig := crypto.Sign(key, crypto.DomainCard, []byte("body"))
	fmt.Println(crypto.Verify(key.Public().(ed25519.PublicKey), crypto.DomainCard, []byte("body"), sig))
	fmt.Println(crypto.Verify(key.Public().(ed25519.PublicKey), crypto.DomainLogEntry, []byte("body"), sig))
	// Output:
	// <nil>
	// signature does not verify
}
