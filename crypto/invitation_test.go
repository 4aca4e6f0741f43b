package crypto

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
)

// invitationFixture is an inviter (FRA) inviting a partner (NGA).
type invitationFixture struct {
	inviter, invitee *Identity
	inviterCard      *Card
	inviteeCard      *Card
	inv              *Invitation
}

func newInvitationFixture(t testing.TB) *invitationFixture {
	t.Helper()
	f := &invitationFixture{inviter: newIdentity(t), invitee: newIdentity(t)}
	f.inviterCard = newCard(t, f.inviter, "FRA")
	f.inviteeCard = newCard(t, f.invitee, "NGA")
	f.inv = f.invite(t, f.inviteeCard, RoleMember, 72*time.Hour)
	return f
}

func (f *invitationFixture) invite(t testing.TB, card *Card, role string, ttl time.Duration) *Invitation {
	t.Helper()
	inv, err := NewInvitation(f.inviter, f.inviterCard.Nodes, card, sha256.Sum256([]byte("genesis")),
		"drug-trafficking", "West Africa cocaine route", sha256.Sum256([]byte("head")), 4, role, ttl, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestInvitationTokenRoundTrip(t *testing.T) {
	f := newInvitationFixture(t)
	token := f.inv.Token()
	if !strings.HasPrefix(token, TokenPrefix) || strings.ContainsAny(token, " \n=+/") {
		t.Fatalf("token is not one URL-safe line: %q", token)
	}
	got, err := ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Raw, f.inv.Raw) || got.Token() != token {
		t.Fatal("round trip changed the invitation")
	}
	b := got.InvitationBody
	if b.Inviter.ID != f.inviter.MemberID() || b.Invitee.ID != f.invitee.MemberID() ||
		b.Invitee.Peer != f.invitee.PeerID().String() || b.Role != RoleMember ||
		b.Category != "drug-trafficking" || b.HeadIndex != 4 || got.TopicID() != sha256.Sum256([]byte("genesis")) {
		t.Fatalf("fields changed: %+v", b)
	}
	if !b.Created.Equal(testNow) || !b.Expires.Equal(testNow.Add(72*time.Hour)) {
		t.Fatalf("times %v, %v", b.Created, b.Expires)
	}
	if len(got.NonceHex()) != 2*InvitationNonceLen || got.NonceHex() == f.invite(t, f.inviteeCard, RoleMember, time.Hour).NonceHex() {
		t.Fatal("nonce is not 16 fresh random bytes")
	}
	if err := got.CheckFor(f.inviteeCard, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// Mail clients wrap long lines and add indentation or CRLF.
func TestInvitationTokenSurvivesWhitespace(t *testing.T) {
	f := newInvitationFixture(t)
	token := f.inv.Token()
	var b strings.Builder
	b.WriteString("\n  \t")
	for i := 0; i < len(token); i += 20 {
		b.WriteString(token[i:min(i+20, len(token))])
		b.WriteString([]string{"\r\n", "\n    ", " ", "\u00a0", "\t"}[i/20%5])
	}
	b.WriteString(" \r\n")
	got, err := ParseToken(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Raw, f.inv.Raw) {
		t.Fatal("invitation changed")
	}
}

// Every character of a token matters: changing or dropping any one of them
// must fail.
func TestInvitationTokenTamperEveryPosition(t *testing.T) {
	token := newInvitationFixture(t).inv.Token()
	const alphabet = "AQgw-_9z."
	for i := range len(token) {
		tried := 0
		for _, r := range []byte(alphabet) {
			if r == token[i] || tried == 2 {
				continue
			}
			tried++
			mod := token[:i] + string(r) + token[i+1:]
			assertTokenRefused(t, mod, i)
		}
		assertTokenRefused(t, token[:i]+token[i+1:], i)
	}
}

func assertTokenRefused(t *testing.T, token string, i int) {
	t.Helper()
	_, err := ParseToken(token)
	if err == nil {
		t.Fatalf("token changed at character %d was accepted", i)
	}
	if i >= len(TokenPrefix) && !errors.Is(err, ErrInvitationAltered) {
		t.Fatalf("token changed at character %d: got %v, want ErrInvitationAltered", i, err)
	}
}

func TestParseTokenClearErrors(t *testing.T) {
	f := newInvitationFixture(t)
	cases := map[string]string{
		"":                                       "not an invitation token",
		"hello world":                            "not an invitation token",
		"concord-invite-2.AAAA":                  `"concord-invite-2" is not supported`,
		TokenPrefix + "A":                        "altered or corrupted",
		TokenPrefix + "!!!!":                     "altered or corrupted",
		f.inv.Token()[:100]:                      "altered or corrupted",
		TokenPrefix + strings.Repeat("A", 30000): "more than",
	}
	for in, want := range cases {
		_, err := ParseToken(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseToken(%.30q): got %v, want an error containing %q", in, err, want)
		}
	}
}

func TestInvitationSignedByAnotherKeyOrDomain(t *testing.T) {
	f := newInvitationFixture(t)
	for name, raw := range map[string][]byte{
		"another key":    sealed(t, f.invitee, DomainInvitation, f.inv.InvitationBody),
		"another domain": sealed(t, f.inviter, DomainCard, f.inv.InvitationBody),
	} {
		if _, err := ParseInvitation(raw); !errors.Is(err, ErrInvitationAltered) {
			t.Errorf("%s: got %v, want ErrInvitationAltered", name, err)
		}
	}
}

// A validly signed invitation with a bad field is refused with the name of
// the field.
func TestInvitationFieldChecks(t *testing.T) {
	f := newInvitationFixture(t)
	cases := map[string]func(b *InvitationBody){
		`"v"`:             func(b *InvitationBody) { b.V = 2 },
		`"topic"`:         func(b *InvitationBody) { b.Topic = b.Topic[:31] },
		`"category"`:      func(b *InvitationBody) { b.Category = "Drug Trafficking" },
		`"topic_name"`:    func(b *InvitationBody) { b.TopicName = "a\x1b[2Jb" },
		`"head"`:          func(b *InvitationBody) { b.Head = nil },
		`"inviter.id"`:    func(b *InvitationBody) { b.Inviter.ID = f.invitee.MemberID() },
		`"inviter.nodes"`: func(b *InvitationBody) { b.Inviter.Nodes = nil },
		`"inviter.nodes[0].peer"`: func(b *InvitationBody) {
			b.Inviter.Nodes = []CardNode{{Peer: "not-a-peer"}}
		},
		`"invitee.id"`:       func(b *InvitationBody) { b.Invitee.ID = "NOTANID" },
		`"invitee.peer"`:     func(b *InvitationBody) { b.Invitee.Peer = "" },
		`"invitee.age_hash"`: func(b *InvitationBody) { b.Invitee.AgeHash = []byte{1} },
		`"role"`:             func(b *InvitationBody) { b.Role = "owner" },
		`"nonce"`:            func(b *InvitationBody) { b.Nonce = b.Nonce[:15] },
		`"expires"`:          func(b *InvitationBody) { b.Expires = b.Created },
	}
	for field, change := range cases {
		b := f.inv.InvitationBody
		b.Inviter.Nodes = copyNodes(b.Inviter.Nodes)
		change(&b)
		_, err := ParseInvitation(sealed(t, f.inviter, DomainInvitation, b))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("changed %s: got %v, want an error naming it", field, err)
		}
	}
}

func TestNewInvitationRefusesBadArguments(t *testing.T) {
	f := newInvitationFixture(t)
	topic, head := sha256.Sum256([]byte("t")), sha256.Sum256([]byte("h"))
	type args struct {
		card                 *Card
		category, name, role string
		ttl                  time.Duration
	}
	ok := args{f.inviteeCard, "terrorism", "Sahel", RoleAdmin, time.Hour}
	cases := map[string]func(a *args){
		`"role"`:       func(a *args) { a.role = "owner" },
		`"expires"`:    func(a *args) { a.ttl = 0 },
		"at most":      func(a *args) { a.ttl = MaxInvitationTTL + time.Hour },
		`"category"`:   func(a *args) { a.category = "" },
		`"topic_name"`: func(a *args) { a.name = " " },
		"itself":       func(a *args) { a.card = f.inviterCard },
	}
	for want, change := range cases {
		a := ok
		change(&a)
		_, err := NewInvitation(f.inviter, f.inviterCard.Nodes, a.card, topic, a.category, a.name, head, 0, a.role, a.ttl, testNow)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %s, got %v", want, err)
		}
	}
	if _, err := NewInvitation(f.inviter, nil, f.inviteeCard, topic, "terrorism", "Sahel", head, 0, RoleAdmin, time.Hour, testNow); err == nil {
		t.Error("invitation without inviter nodes accepted")
	}
}

func TestInvitationExpired(t *testing.T) {
	f := newInvitationFixture(t)
	if err := f.inv.CheckFor(f.inviteeCard, f.inv.Expires.Add(-time.Second)); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
	err := f.inv.CheckFor(f.inviteeCard, f.inv.Expires)
	if !errors.Is(err, ErrInvitationExpired) || errors.Is(err, ErrNotInvitee) {
		t.Fatalf("got %v, want ErrInvitationExpired", err)
	}
	for _, want := range []string{f.inv.Expires.Format(time.RFC3339), "new one", f.inviter.MemberID()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestInvitationPresentedBySomeoneElse(t *testing.T) {
	f := newInvitationFixture(t)
	other := newCard(t, newIdentity(t), "BRA")

	otherNode := *f.invitee // same member, another node
	otherNode.Peer = newIdentity(t).Peer
	otherAge := *f.invitee // same member and node, another age key
	otherAge.Age = newIdentity(t).Age

	cases := map[string]*Card{
		"member " + f.invitee.MemberID():      other,
		"node " + f.invitee.PeerID().String(): newCard(t, &otherNode, "NGA"),
		"age key":                             newCard(t, &otherAge, "NGA"),
		"no member card":                      nil,
	}
	for want, card := range cases {
		err := f.inv.CheckFor(card, testNow)
		if !errors.Is(err, ErrNotInvitee) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want ErrNotInvitee mentioning %q", err, want)
		}
	}
}

// A member that certifies several nodes can use an invitation with any card
// that still lists the invited node.
func TestInvitationInviteeWithSeveralNodes(t *testing.T) {
	f := newInvitationFixture(t)
	second := newIdentity(t)
	body := f.inviteeCard.CardBody
	body.Nodes = append(body.Nodes, CardNode{Peer: second.PeerID().String()})
	card, err := ParseCard(sealed(t, f.invitee, DomainCard, body))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.inv.CheckFor(card, testNow); err != nil {
		t.Fatal(err)
	}
}
