package crypto

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/internal/canon"
)

// Decoders take input from other states' nodes and from analysts'
// clipboards: they must never panic, and what they accept must be exactly
// the one encoding of what they return.

func FuzzParseCard(f *testing.F) {
	card := newCard(f, newIdentity(f), "FRA")
	f.Add(card.Raw)
	f.Add(newCard(f, newIdentity(f), "NGA").Raw)
	f.Add(card.Raw[:len(card.Raw)/2])
	f.Add([]byte{0x82, 0x40, 0x40})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCard(data)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Raw, data) {
			t.Fatal("Raw differs from the accepted input")
		}
		s, err := Open(data)
		if err != nil {
			t.Fatal(err)
		}
		body, err := canon.Marshal(c.CardBody)
		if err != nil || !bytes.Equal(body, s.Body) {
			t.Fatalf("accepted card body does not re-encode identically (%v)", err)
		}
	})
}

func FuzzParseArmoredCard(f *testing.F) {
	text := newCard(f, newIdentity(f), "BRA").Armor()
	f.Add(text)
	f.Add(strings.ReplaceAll(text, "\n", "\r\n"))
	f.Add("  " + text + "\n\n")
	f.Add(cardBegin + "\n" + cardEnd + "\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseArmoredCard([]byte(text))
		if err != nil {
			return
		}
		// What Armor writes is the only accepted text, up to CRLF line
		// ends and surrounding whitespace.
		normal := strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")) + "\n"
		if c.Armor() != normal {
			t.Fatalf("accepted text is not the card's armor:\n%q\n%q", normal, c.Armor())
		}
		if _, err := ParseCard(c.Raw); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	fx := newInvitationFixture(f)
	token := fx.inv.Token()
	f.Add(token)
	f.Add(" " + token[:40] + "\r\n" + token[40:] + "\n")
	f.Add(fx.invite(f, fx.inviteeCard, RoleAdmin, time.Minute).Token())
	f.Add(TokenPrefix)
	f.Add("concord-invite-9.x")
	f.Fuzz(func(t *testing.T, token string) {
		inv, err := ParseToken(token)
		if err != nil {
			return
		}
		if inv.Token() != strings.Map(dropSpace, token) {
			t.Fatal("accepted token differs from the invitation's token, whitespace aside")
		}
		s, err := Open(inv.Raw)
		if err != nil {
			t.Fatal(err)
		}
		body, err := canon.Marshal(inv.InvitationBody)
		if err != nil || !bytes.Equal(body, s.Body) {
			t.Fatalf("accepted invitation body does not re-encode identically (%v)", err)
		}
		// Whoever presents it, CheckFor answers without panicking.
		_ = inv.CheckFor(fx.inviteeCard, testNow)
	})
}
