package crypto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"github.com/concordnet/concord/internal/canon"
	"github.com/concordnet/concord/internal/golden"
)

// Golden vectors: byte-exact encodings of docs/protocol.md, checked
// against the code. `go test ./crypto -run Golden -update` rewrites them
// from the fixed keys of testdata/identities.json.
var update = flag.Bool("update", false, "rewrite the golden vectors in testdata")

// goldenKeys are the fixed keys the vectors are made with.
type goldenKeys struct {
	Members map[string]struct {
		SignSeed string `json:"sign_seed"`
		PeerSeed string `json:"peer_seed"`
		Age      string `json:"age_identity"`
		MemberID string `json:"member_id"`
		PeerID   string `json:"peer_id"`
	} `json:"members"`
}

// goldenIdentity builds the identity called name from its fixed seeds.
func goldenIdentity(t testing.TB, name string) *Identity {
	t.Helper()
	var keys goldenKeys
	golden.Read(t, filepath.Join("testdata", "identities.json"), &keys)
	m, ok := keys.Members[name]
	if !ok {
		t.Fatalf("no golden identity %q", name)
	}
	seed := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != ed25519.SeedSize {
			t.Fatalf("golden identity %s: bad seed %q", name, s)
		}
		return b
	}
	ageID, err := age.ParseHybridIdentity(m.Age)
	if err != nil {
		t.Fatal(err)
	}
	peerKey, err := p2pcrypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed(m.PeerSeed)))
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{Signing: ed25519.NewKeyFromSeed(seed(m.SignSeed)), Age: ageID, Peer: peerKey, StoreKey: make([]byte, 32)}
	if id.MemberID() != m.MemberID || id.PeerID().String() != m.PeerID {
		t.Fatalf("golden identity %s derives %s / %s, the file says %s / %s", name, id.MemberID(), id.PeerID(), m.MemberID, m.PeerID)
	}
	return id
}

// goldenTime is the clock of every vector.
var goldenTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// vector is one encoding: its bytes, its text form if it has one, and
// its body decoded generically (see diag).
type vector struct {
	Comment string            `json:"comment,omitempty"`
	Hex     string            `json:"hex"`
	Text    string            `json:"text,omitempty"`
	BodyHex string            `json:"body_hex,omitempty"`
	Fields  json.RawMessage   `json:"fields"`
	Extra   map[string]string `json:"extra,omitempty"`
}

// goldenCase is an encoding a decoder must accept (Valid) or refuse.
type goldenCase struct {
	Name  string `json:"name"`
	Valid bool   `json:"valid"`
	Hex   string `json:"hex"`
}

// roundTrip writes v to testdata/name under -update, then reads the file
// back into v, so that the checks run on what is stored.
func roundTrip(t testing.TB, name string, v any) {
	t.Helper()
	golden.Write(t, *update, name, v)
	golden.Read(t, filepath.Join("testdata", name), v)
}

// goldenCard is alice's card as the vectors carry it.
func goldenCard(t testing.TB, id *Identity) *Card {
	t.Helper()
	c, err := NewCard(id, "Office Central des Stupéfiants", "FRA",
		[]string{"/ip4/192.0.2.10/tcp/7700", "/ip4/192.0.2.10/udp/7700/quic-v1"}, goldenTime)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoldenCard(t *testing.T) {
	alice := goldenIdentity(t, "alice")
	card := goldenCard(t, alice)
	s, _ := Open(card.Raw)
	v := vector{Comment: "member card (§3) of alice, and its armor", Hex: hex.EncodeToString(card.Raw),
		Text: card.Armor(), BodyHex: hex.EncodeToString(s.Body), Fields: golden.Diag(t, s.Body)}
	roundTrip(t, "card.json", &v)

	raw := golden.Unhex(t, v.Hex)
	if !bytes.Equal(raw, card.Raw) {
		t.Fatal("NewCard no longer writes the stored bytes")
	}
	got, err := ParseCard(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = Open(raw)
	if hex.EncodeToString(s.Body) != v.BodyHex {
		t.Error("body_hex is not the container's body")
	}
	golden.SameFields(t, "card", s.Body, v.Fields)
	if again, _ := canon.Marshal(got.CardBody); !bytes.Equal(again, s.Body) {
		t.Error("re-encoding the decoded card changes its body")
	}
	if err := Verify(got.SignKey, DomainCard, s.Body, s.Sig); err != nil {
		t.Error(err)
	}
	armored, err := ParseArmoredCard([]byte(v.Text))
	if err != nil || !bytes.Equal(armored.Raw, raw) || got.Armor() != v.Text {
		t.Errorf("armor does not round-trip: %v", err)
	}
}

// goldenInvitation is alice inviting bob, with a fixed nonce: built by
// hand, as NewInvitation draws a random one.
func goldenInvitation(t testing.TB, alice, bob *Identity) *Invitation {
	t.Helper()
	bobCard := goldenCard(t, bob)
	body := InvitationBody{
		V: InvitationVersion, Topic: sum("example topic"), Category: "drug-trafficking",
		TopicName: "West Africa cocaine route", Head: sum("example head"), HeadIndex: 4,
		Inviter: InviterInfo{ID: alice.MemberID(), SignKey: alice.Signing.Public().(ed25519.PublicKey), Nodes: goldenCard(t, alice).Nodes},
		Invitee: InviteeInfo{ID: bob.MemberID(), Peer: bobCard.Nodes[0].Peer, AgeHash: ageHash(bobCard.Age)},
		Role:    RoleMember, Nonce: golden.Unhex(t, "000102030405060708090a0b0c0d0e0f"),
		Created: goldenTime, Expires: goldenTime.Add(72 * time.Hour),
	}
	raw, _, err := Seal(alice.Signing, DomainInvitation, body)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ParseInvitation(raw)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func TestGoldenInvitation(t *testing.T) {
	alice, bob := goldenIdentity(t, "alice"), goldenIdentity(t, "bob")
	inv := goldenInvitation(t, alice, bob)
	s, _ := Open(inv.Raw)
	v := vector{Comment: "invitation (§6.1) from alice to bob, its token (§6.2) and bob's join proof (§6.3)",
		Hex: hex.EncodeToString(inv.Raw), Text: inv.Token(), BodyHex: hex.EncodeToString(s.Body),
		Fields: golden.Diag(t, s.Body), Extra: map[string]string{"join_proof": hex.EncodeToString(SignJoin(bob, inv))}}
	roundTrip(t, "invitation.json", &v)

	raw := golden.Unhex(t, v.Hex)
	if !bytes.Equal(raw, inv.Raw) || v.Text != inv.Token() {
		t.Fatal("the invitation no longer encodes to the stored bytes")
	}
	got, err := ParseToken(v.Text)
	if err != nil || !bytes.Equal(got.Raw, raw) {
		t.Fatalf("token: %v", err)
	}
	s, _ = Open(raw)
	golden.SameFields(t, "invitation", s.Body, v.Fields)
	if again, _ := canon.Marshal(got.InvitationBody); !bytes.Equal(again, s.Body) {
		t.Error("re-encoding the decoded invitation changes its body")
	}
	if err := got.CheckFor(goldenCard(t, bob), goldenTime); err != nil {
		t.Error(err)
	}
	if err := VerifyJoin(goldenCard(t, bob), got, golden.Unhex(t, v.Extra["join_proof"])); err != nil {
		t.Errorf("join proof: %v", err)
	}
}

// cardCase mutates the generic body of alice's card; alice signs the
// result, so a refusal is for the field, not the signature.
type cardCase struct {
	name   string
	valid  bool
	mutate func(body map[string]any)
}

func setName(n string) func(map[string]any) { return func(b map[string]any) { b["name"] = n } }

func setAddrs(addrs ...string) func(map[string]any) {
	return func(b map[string]any) {
		l := make([]any, len(addrs))
		for i, a := range addrs {
			l[i] = a
		}
		b["nodes"].([]any)[0].(map[string]any)["addrs"] = l
	}
}

// dnsAddr is a /dns/…/tcp/7700 multiaddr of exactly n bytes.
func dnsAddr(n int) string {
	host := strings.Repeat("a", n-len("/dns//tcp/7700"))
	for i := 60; i < len(host); i += 61 { // DNS labels of at most 63 bytes
		host = host[:i] + "." + host[i+1:]
	}
	return "/dns/" + host + "/tcp/7700"
}

var cardCases = []cardCase{
	{"unchanged", true, func(map[string]any) {}},
	{"name of 128 bytes", true, setName(strings.Repeat("é", 64))},
	{"name of 129 bytes", false, setName(strings.Repeat("é", 64) + "x")},
	{"name of white space only (U+0020 U+00A0 U+3000)", false, setName(" \u00a0\u3000")},
	{"name of U+200B only (not white space)", true, setName("\u200b")},
	{"name with a tab (control character)", false, setName("A\tB")},
	{"missing required key country", false, func(b map[string]any) { delete(b, "country") }},
	{"missing required key nodes[0].addrs", false, func(b map[string]any) { delete(b["nodes"].([]any)[0].(map[string]any), "addrs") }},
	{"empty addrs list", true, setAddrs()},
	{"unknown key", false, func(b map[string]any) { b["extra"] = "x" }},
	{"multiaddr of 256 bytes", true, setAddrs(dnsAddr(256))},
	{"multiaddr of 257 bytes", false, setAddrs(dnsAddr(257))},
	{"16 addresses", true, setAddrs(slices.Repeat([]string{"/ip4/192.0.2.10/tcp/7700"}, 16)...)},
	{"17 addresses", false, setAddrs(slices.Repeat([]string{"/ip4/192.0.2.10/tcp/7700"}, 17)...)},
	{"Unix socket address", false, setAddrs("/unix/tmp/concord.sock")},
	{"WebSocket address", false, setAddrs("/ip4/192.0.2.10/tcp/7700/ws")},
	{"address with /p2p/", true, setAddrs("/dns4/concord.example/udp/7700/quic-v1/p2p/12D3KooWHDWy4ZTxwHcPzezgsQ6RQffmBWj8Lj3XjCsvw6aATNjb")},
	{"country not in ISO 3166-1 (XKX)", false, func(b map[string]any) { b["country"] = "XKX" }},
	{"created with an offset", false, func(b map[string]any) { b["created"] = "2026-03-01T13:00:00+01:00" }},
}

func TestGoldenCardCases(t *testing.T) {
	alice := goldenIdentity(t, "alice")
	body, _ := Open(goldenCard(t, alice).Raw)
	var cases []goldenCase
	for _, c := range cardCases {
		var m map[string]any
		if err := canon.DecodeGeneric(body.Body, &m); err != nil {
			t.Fatal(err)
		}
		c.mutate(m)
		b, err := canon.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := canon.Marshal(Signed{Body: b, Sig: Sign(alice.Signing, DomainCard, b)})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, goldenCase{Name: c.name, Valid: c.valid, Hex: hex.EncodeToString(raw)})
	}
	stored := slices.Clone(cases)
	roundTrip(t, "card_cases.json", &stored)
	if !reflect.DeepEqual(stored, cases) {
		t.Error("card_cases.json is not what the cases generate: run with -update")
	}
	for _, c := range stored {
		_, err := ParseCard(golden.Unhex(t, c.Hex))
		t.Logf("%s: %v", c.Name, err)
		if (err == nil) != c.Valid {
			t.Errorf("%s: valid=%v, ParseCard says %v", c.Name, c.Valid, err)
		}
	}
}
