package crypto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Errors of CheckFor and VerifyJoin, usable with errors.Is.
var (
	// ErrInvitationExpired reports an invitation used after its expiry.
	ErrInvitationExpired = errors.New("invitation has expired")
	// ErrNotInvitee reports an invitation presented by someone other than
	// the member and node it was issued to.
	ErrNotInvitee = errors.New("invitation was issued to someone else")
)

const maxCategoryLen = 64

// CheckFor checks that the holder of card may use the invitation at now:
// the card is the invitee's (member ID, node and age key) and the
// invitation has not expired. Whether its nonce was already used or
// revoked is for the topic log to say.
func (inv *Invitation) CheckFor(card *Card, now time.Time) error {
	if err := inv.checkInvitee(card); err != nil {
		return err
	}
	if !now.Before(inv.Expires) {
		return fmt.Errorf("%w: it expired on %s; ask the inviter (member %s) for a new one",
			ErrInvitationExpired, inv.Expires.UTC().Format(time.RFC3339), inv.Inviter.ID)
	}
	return nil
}

func (inv *Invitation) checkInvitee(card *Card) error {
	if card == nil {
		return fmt.Errorf("%w: no member card was presented", ErrNotInvitee)
	}
	want := inv.Invitee
	if card.ID != want.ID {
		return fmt.Errorf("%w: it is for member %s, not member %s (%s, %s): use the invitation addressed to you, or ask the inviter to invite this card",
			ErrNotInvitee, want.ID, card.ID, card.Name, card.Country)
	}
	p, err := peer.Decode(want.Peer)
	if err != nil || !card.HasPeer(p) {
		return fmt.Errorf("%w: it is for node %s, which the card of member %s does not list: join from that node, or ask the inviter for an invitation for this node",
			ErrNotInvitee, want.Peer, card.ID)
	}
	if subtle.ConstantTimeCompare(ageHash(card.Age), want.AgeHash) != 1 {
		return fmt.Errorf("%w: the age key on the card of member %s is not the one the invitation was issued to (the card changed since): ask the inviter for a new invitation for the current card",
			ErrNotInvitee, card.ID)
	}
	return nil
}

// check validates every field of a body, naming the field that is wrong.
func (b *InvitationBody) check() error {
	for _, c := range []func() error{b.checkTopic, b.checkInviter, b.checkInvitee, b.checkGrant} {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func badInvitation(field, format string, args ...any) error {
	return fmt.Errorf("invitation field %q: %s", field, fmt.Sprintf(format, args...))
}

func (b *InvitationBody) checkTopic() error {
	if b.V != InvitationVersion {
		return badInvitation("v", "version %d is not supported (want %d): upgrade concord or ask for a version %d invitation", b.V, InvitationVersion, InvitationVersion)
	}
	if len(b.Topic) != sha256.Size {
		return badInvitation("topic", "is %d bytes, want %d", len(b.Topic), sha256.Size)
	}
	if err := checkSlug(b.Category); err != nil {
		return badInvitation("category", "%v", err)
	}
	if err := checkText(b.TopicName, MaxTopicNameLen); err != nil {
		return badInvitation("topic_name", "%v", err)
	}
	if len(b.Head) != sha256.Size {
		return badInvitation("head", "is %d bytes, want %d", len(b.Head), sha256.Size)
	}
	return nil
}

// checkSlug checks the syntax of a crime category slug. Which slugs exist
// is the protocol package's taxonomy, checked by the caller.
func checkSlug(s string) error {
	if s == "" || len(s) > maxCategoryLen || s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("%q is not a category slug (lowercase words joined by '-', such as drug-trafficking)", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' && s[i-1] != '-') {
			return fmt.Errorf("%q is not a category slug (lowercase words joined by '-', such as drug-trafficking)", s)
		}
	}
	return nil
}

func (b *InvitationBody) checkInviter() error {
	in := b.Inviter
	if len(in.SignKey) != ed25519.PublicKeySize {
		return badInvitation("inviter.sign_key", "is %d bytes, want %d", len(in.SignKey), ed25519.PublicKeySize)
	}
	if want := MemberIDFromKey(in.SignKey); in.ID != want {
		return badInvitation("inviter.id", "%q does not match the inviter's signing key (want %q)", in.ID, want)
	}
	if err := checkNodes(in.Nodes, "inviter.nodes", " (the invitee must be able to reach the inviter)", badInvitation); err != nil {
		return err
	}
	return nil
}

func (b *InvitationBody) checkInvitee() error {
	in := b.Invitee
	if !ValidMemberID(in.ID) {
		return badInvitation("invitee.id", "%q is not a member ID (%d lowercase base32 characters)", in.ID, MemberIDLen)
	}
	if in.ID == b.Inviter.ID {
		return badInvitation("invitee.id", "the inviter %s cannot invite itself", in.ID)
	}
	if err := CheckPeerID(in.Peer); err != nil {
		return badInvitation("invitee.peer", "%v", err)
	}
	if len(in.AgeHash) != sha256.Size {
		return badInvitation("invitee.age_hash", "is %d bytes, want %d", len(in.AgeHash), sha256.Size)
	}
	return nil
}

func (b *InvitationBody) checkGrant() error {
	if b.Role != RoleMember && b.Role != RoleAdmin {
		return badInvitation("role", "%q is not a role (want %q or %q)", b.Role, RoleMember, RoleAdmin)
	}
	if len(b.Nonce) != InvitationNonceLen {
		return badInvitation("nonce", "is %d bytes, want %d", len(b.Nonce), InvitationNonceLen)
	}
	if b.Created.IsZero() {
		return badInvitation("created", "is missing")
	}
	if b.Created.Location() != time.UTC || b.Expires.Location() != time.UTC {
		return fmt.Errorf("invitation times must be in UTC (written with Z)")
	}
	if !b.Expires.After(b.Created) {
		return badInvitation("expires", "%s is not after the creation time %s (give a positive validity of at least a second)",
			b.Expires.UTC().Format(time.RFC3339), b.Created.UTC().Format(time.RFC3339))
	}
	if ttl := b.Expires.Sub(b.Created); ttl > MaxInvitationTTL {
		return badInvitation("expires", "the invitation is valid for %s, at most %s allowed", ttl, MaxInvitationTTL)
	}
	return nil
}
