package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/concordnet/concord/internal/canon"
)

// InvitationVersion is the invitation body format version.
const InvitationVersion = 1

// Roles a topic member can hold.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
)

// Invitation limits.
const (
	MaxInvitationBytes = 16 << 10
	MaxInvitationTTL   = 30 * 24 * time.Hour
	MaxTopicNameLen    = 128
	InvitationNonceLen = 16
)

// TokenPrefix starts every invitation token; the digit is the token format
// version, so a later format is recognised and refused clearly.
const TokenPrefix = "concord-invite-1."

// InviterInfo identifies the inviter and says how to reach it.
type InviterInfo struct {
	ID      string     `cbor:"id" json:"id"`
	SignKey []byte     `cbor:"sign_key" json:"sign_key"`
	Nodes   []CardNode `cbor:"nodes" json:"nodes"`
}

// InviteeInfo names the only member that may use an invitation: its member
// ID, the node it joins from, and a hash of its age recipient (the
// recipient itself is in its card, which the invitee presents).
type InviteeInfo struct {
	ID      string `cbor:"id" json:"id"`
	Peer    string `cbor:"peer" json:"peer"`
	AgeHash []byte `cbor:"age_hash" json:"age_hash"`
}

// InvitationBody is the signed content of an invitation.
type InvitationBody struct {
	V         int         `cbor:"v" json:"v"`
	Topic     []byte      `cbor:"topic" json:"topic"`
	Category  string      `cbor:"category" json:"category"`
	TopicName string      `cbor:"topic_name" json:"topic_name"`
	Head      []byte      `cbor:"head" json:"head"`
	HeadIndex uint64      `cbor:"head_index" json:"head_index"`
	Inviter   InviterInfo `cbor:"inviter" json:"inviter"`
	Invitee   InviteeInfo `cbor:"invitee" json:"invitee"`
	Role      string      `cbor:"role" json:"role"`
	Nonce     []byte      `cbor:"nonce" json:"nonce"`
	Created   time.Time   `cbor:"created" json:"created"`
	Expires   time.Time   `cbor:"expires" json:"expires"`
}

// Invitation is a verified invitation. Raw holds the exact signed bytes
// (a Signed container), which the token carries and the join proof covers.
type Invitation struct {
	InvitationBody
	Raw []byte `json:"-"`
}

// ErrInvitationAltered reports a token or invitation whose bytes are not
// exactly what an inviter signed.
var ErrInvitationAltered = errors.New("invitation token was altered or corrupted")

// NewInvitation creates and signs an invitation for the member of card
// invitee to join a topic, from the node listed first on its card. The
// invitation expires ttl after now.
func NewInvitation(inviter *Identity, inviterNodes []CardNode, invitee *Card,
	topic [32]byte, category, topicName string, head [32]byte, headIndex uint64,
	role string, ttl time.Duration, now time.Time) (*Invitation, error) {
	if inviter == nil || invitee == nil || len(invitee.Nodes) == 0 {
		return nil, errors.New("creating an invitation: the inviter's identity and the invitee's verified card are required")
	}
	nonce := make([]byte, InvitationNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	created := now.UTC().Truncate(time.Second)
	body := InvitationBody{
		V:         InvitationVersion,
		Topic:     topic[:],
		Category:  category,
		TopicName: topicName,
		Head:      head[:],
		HeadIndex: headIndex,
		Inviter:   InviterInfo{ID: inviter.MemberID(), SignKey: inviter.Signing.Public().(ed25519.PublicKey), Nodes: copyNodes(inviterNodes)},
		Invitee:   InviteeInfo{ID: invitee.ID, Peer: invitee.Nodes[0].Peer, AgeHash: ageHash(invitee.Age)},
		Role:      role,
		Nonce:     nonce,
		Created:   created,
		Expires:   created.Add(ttl).Truncate(time.Second),
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	raw, _, err := Seal(inviter.Signing, DomainInvitation, body)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxInvitationBytes {
		return nil, fmt.Errorf("invitation would be %d bytes, more than the %d allowed: list fewer inviter nodes or addresses", len(raw), MaxInvitationBytes)
	}
	return &Invitation{InvitationBody: body, Raw: raw}, nil
}

func copyNodes(nodes []CardNode) []CardNode {
	out := make([]CardNode, len(nodes))
	for i, n := range nodes {
		out[i] = CardNode{Peer: n.Peer, Addrs: append([]string{}, n.Addrs...)}
	}
	return out
}

// ageHash is what an invitation stores of the invitee's age recipient.
func ageHash(recipient string) []byte {
	sum := sha256.Sum256([]byte(recipient))
	return sum[:]
}

// Token returns the invitation as one line of text that survives
// copy-paste and email: TokenPrefix then the unpadded base64url of Raw.
func (inv *Invitation) Token() string {
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(inv.Raw)
}

// NonceHex returns the nonce in hex, the form in which topic logs record
// used and revoked invitations.
func (inv *Invitation) NonceHex() string { return hex.EncodeToString(inv.Nonce) }

// TopicID returns the topic the invitation is for.
func (inv *Invitation) TopicID() (id [32]byte) {
	copy(id[:], inv.Topic)
	return id
}

// ParseToken decodes and verifies an invitation token. Whitespace anywhere
// in it (mail clients wrap long lines) is ignored. It does not check
// expiry or who presents it: see CheckFor.
func ParseToken(token string) (*Invitation, error) {
	token = strings.Map(dropSpace, token)
	if !strings.HasPrefix(token, TokenPrefix) {
		if strings.HasPrefix(token, "concord-invite-") {
			return nil, fmt.Errorf("invitation token format %q is not supported by this version of concord (want %q): upgrade concord, or check that the token was copied unchanged", tokenFormat(token), TokenPrefix)
		}
		return nil, fmt.Errorf("not an invitation token: it must start with %q (copy the whole token from the inviter's message)", TokenPrefix)
	}
	enc := token[len(TokenPrefix):]
	if len(enc) > base64.RawURLEncoding.EncodedLen(MaxInvitationBytes) {
		return nil, fmt.Errorf("invitation token is %d characters, more than the %d allowed", len(token), len(TokenPrefix)+base64.RawURLEncoding.EncodedLen(MaxInvitationBytes))
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w (bad base64url: %v): copy the whole token again from the inviter's message", ErrInvitationAltered, err)
	}
	return ParseInvitation(raw)
}

// tokenFormat returns the format part of a token ("concord-invite-N."),
// shortened so that an error message never repeats a whole token.
func tokenFormat(token string) string {
	f, _, _ := strings.Cut(token, ".")
	if len(f) > len(TokenPrefix)+8 {
		f = f[:len(TokenPrefix)+8] + "…"
	}
	return f
}

func dropSpace(r rune) rune {
	if unicode.IsSpace(r) {
		return -1
	}
	return r
}

// ParseInvitation decodes and verifies an invitation's binary form (Raw),
// as a token carries it or a topic log embeds it: canonical encoding,
// inviter signature, then field validity.
func ParseInvitation(raw []byte) (*Invitation, error) {
	if len(raw) > MaxInvitationBytes {
		return nil, fmt.Errorf("invitation is %d bytes, more than the %d allowed", len(raw), MaxInvitationBytes)
	}
	s, err := Open(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (malformed: %v): copy the whole token again from the inviter's message", ErrInvitationAltered, err)
	}
	var body InvitationBody
	if err := canon.Unmarshal(s.Body, &body); err != nil {
		return nil, fmt.Errorf("%w (malformed: %v): copy the whole token again from the inviter's message", ErrInvitationAltered, err)
	}
	// The signature is checked before the fields so that any change to a
	// token is reported as such, not as whichever field it happened to hit.
	if err := Verify(body.Inviter.SignKey, DomainInvitation, s.Body, s.Sig); err != nil {
		return nil, fmt.Errorf("%w (the inviter's signature does not verify): copy the whole token again from the inviter's message", ErrInvitationAltered)
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	return &Invitation{InvitationBody: body, Raw: append([]byte(nil), raw...)}, nil
}
