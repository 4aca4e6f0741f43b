package crypto

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/internal/canon"
)

// CardVersion is the member card format version.
const CardVersion = 1

// Limits on a card's content.
const (
	MaxNameLen      = 128
	MaxCardNodes    = 8
	MaxNodeAddrs    = 16
	MaxCardBytes    = 16 << 10
	maxMultiaddrLen = 256
)

// CardNode is one node a member certifies: its libp2p peer ID and where it
// listens.
type CardNode struct {
	Peer  string   `cbor:"peer" json:"peer"`
	Addrs []string `cbor:"addrs" json:"addrs"`
}

// CardBody is the signed content of a member card.
type CardBody struct {
	V       int        `cbor:"v" json:"v"`
	ID      string     `cbor:"id" json:"id"`
	Name    string     `cbor:"name" json:"name"`
	Country string     `cbor:"country" json:"country"`
	SignKey []byte     `cbor:"sign_key" json:"sign_key"`
	Age     string     `cbor:"age" json:"age"`
	Nodes   []CardNode `cbor:"nodes" json:"nodes"`
	Created time.Time  `cbor:"created" json:"created"`
}

// Card is a verified member card. Raw holds the exact signed bytes, which
// are what gets embedded in invitations and topic logs.
type Card struct {
	CardBody
	Raw []byte `json:"-"`
}

// NewCard builds and signs the card of identity id.
func NewCard(id *Identity, name, country string, addrs []string, created time.Time) (*Card, error) {
	body := CardBody{
		V:       CardVersion,
		ID:      id.MemberID(),
		Name:    name,
		Country: country,
		SignKey: id.Signing.Public().(ed25519.PublicKey),
		Age:     id.Age.Recipient().String(),
		Nodes:   []CardNode{{Peer: id.PeerID().String(), Addrs: append([]string{}, addrs...)}},
		Created: created.UTC().Truncate(time.Second),
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	raw, _, err := Seal(id.Signing, DomainCard, body)
	if err != nil {
		return nil, err
	}
	return &Card{CardBody: body, Raw: raw}, nil
}

// ParseCard decodes a card's binary form and verifies it completely:
// canonical encoding, field validity, member ID and signature.
func ParseCard(raw []byte) (*Card, error) {
	if len(raw) > MaxCardBytes {
		return nil, fmt.Errorf("member card is %d bytes, more than the %d allowed", len(raw), MaxCardBytes)
	}
	s, err := Open(raw)
	if err != nil {
		return nil, fmt.Errorf("member card is malformed: %w", err)
	}
	var body CardBody
	if err := canon.Unmarshal(s.Body, &body); err != nil {
		return nil, fmt.Errorf("member card is malformed: %w", err)
	}
	// The signature first: an altered card is reported as altered, not by
	// whichever field the alteration happened to break.
	if len(body.SignKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("member card field %q: is %d bytes, want %d", "sign_key", len(body.SignKey), ed25519.PublicKeySize)
	}
	if err := Verify(body.SignKey, DomainCard, s.Body, s.Sig); err != nil {
		return nil, fmt.Errorf("member card signature does not verify: the card was altered or not signed by its own key; ask its owner for a fresh copy (`concord id --card`)")
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	return &Card{CardBody: body, Raw: append([]byte(nil), raw...)}, nil
}

func (b *CardBody) check() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("member card field %q: %s", field, fmt.Sprintf(format, args...))
	}
	if b.V != CardVersion {
		return bad("v", "version %d is not supported (want %d)", b.V, CardVersion)
	}
	if len(b.SignKey) != ed25519.PublicKeySize {
		return bad("sign_key", "is %d bytes, want %d", len(b.SignKey), ed25519.PublicKeySize)
	}
	if want := MemberIDFromKey(b.SignKey); b.ID != want {
		return bad("id", "%q does not match the signing key (want %q)", b.ID, want)
	}
	if err := CheckName(b.Name); err != nil {
		return bad("name", "%v", err)
	}
	if err := CheckCountry(b.Country); err != nil {
		return bad("country", "%v", err)
	}
	if r, err := age.ParseHybridRecipient(b.Age); err != nil {
		return bad("age", "not an age post-quantum recipient (age1pq1…): %v", err)
	} else if r.String() != b.Age {
		// Invitations commit to a hash of this string, so it must have one spelling.
		return bad("age", "recipient is not in its canonical form %q", r.String())
	}
	if err := checkNodes(b.Nodes, "nodes", "", bad); err != nil {
		return err
	}
	if b.Created.IsZero() {
		return bad("created", "is missing")
	}
	if b.Created.Location() != time.UTC {
		return bad("created", "must be in UTC (written with Z)")
	}
	return nil
}

// CheckName validates a member's display name.
func CheckName(name string) error { return checkText(name, MaxNameLen) }

// checkText validates a short, human-readable, single-line text. Names come
// from other states and end up on analysts' terminals, so control
// characters (escape sequences included) are refused, not just line breaks.
func checkText(s string, maxLen int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("is empty")
	case len(s) > maxLen:
		return fmt.Errorf("is %d bytes, at most %d allowed", len(s), maxLen)
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("contains control characters")
	}
	return nil
}

// CheckPeerID validates a libp2p peer ID written in its canonical (base58)
// form. Other spellings of the same ID (CIDv1) are refused so that peer IDs
// can be compared as strings.
func CheckPeerID(s string) error {
	id, err := peer.Decode(s)
	if err != nil {
		return fmt.Errorf("%q is not a libp2p peer ID: %v", s, err)
	}
	if id.String() != s {
		return fmt.Errorf("peer ID %q is not in its canonical form %q", s, id.String())
	}
	return nil
}

// CheckCountry validates an ISO 3166-1 alpha-3 country code.
func CheckCountry(code string) error {
	if _, ok := countries[code]; !ok {
		return fmt.Errorf("%q is not an ISO 3166-1 alpha-3 country code (for example FRA, NGA, BRA)", code)
	}
	return nil
}

// CountryName returns the short English name of an alpha-3 code.
func CountryName(code string) string { return countries[code] }

// CheckMultiaddr validates a multiaddr string as a card may carry it:
// an IP address or DNS name, then TCP or QUIC v1, then optionally the
// node's /p2p/ ID. That is every address a node listens on and dials;
// anything else (Unix sockets, WebSockets, relay circuits) would be
// carried by every card and log replica and never dialed.
func CheckMultiaddr(s string) error {
	if len(s) > maxMultiaddrLen {
		return fmt.Errorf("multiaddr is %d bytes, at most %d allowed", len(s), maxMultiaddrLen)
	}
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return fmt.Errorf("%q is not a valid multiaddr: %v", s, err)
	}
	if !cardAddrShape(m) {
		return fmt.Errorf("%q is not an address a node dials: want /ip4, /ip6, /dns, /dns4 or /dns6, then /tcp/PORT or /udp/PORT/quic-v1, then optionally /p2p/<peer-id>", s)
	}
	return nil
}

// cardAddrShape reports whether m is host/tcp/PORT or
// host/udp/PORT/quic-v1, with an optional trailing /p2p/.
func cardAddrShape(m ma.Multiaddr) bool {
	if n := len(m); n > 0 && m[n-1].Code() == ma.P_P2P {
		m = m[:n-1]
	}
	if len(m) < 2 {
		return false
	}
	switch m[0].Code() {
	case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
	default:
		return false
	}
	return len(m) == 2 && m[1].Code() == ma.P_TCP ||
		len(m) == 3 && m[1].Code() == ma.P_UDP && m[2].Code() == ma.P_QUIC_V1
}

// Recipient returns the card's age recipient.
func (c *Card) Recipient() *age.HybridRecipient {
	r, err := age.ParseHybridRecipient(c.Age)
	if err != nil {
		panic(err) // checked by ParseCard and NewCard
	}
	return r
}

// PeerIDs returns the peer IDs of the card's nodes.
func (c *Card) PeerIDs() []peer.ID {
	ids := make([]peer.ID, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		if id, err := peer.Decode(n.Peer); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// HasPeer reports whether the card certifies peer p.
func (c *Card) HasPeer(p peer.ID) bool {
	for _, id := range c.PeerIDs() {
		if id == p {
			return true
		}
	}
	return false
}

// Text armor: a card travels by email and copy-paste as base64 between
// BEGIN/END lines, 64 characters a line.
const (
	cardBegin = "-----BEGIN CONCORD MEMBER CARD-----"
	cardEnd   = "-----END CONCORD MEMBER CARD-----"
	lineWidth = 64
	// Four base64 characters per three bytes, a newline per line, and room
	// for the BEGIN/END lines and CRLF line ends.
	maxArmoredCardLen = (MaxCardBytes+2)/3*4*(lineWidth+2)/lineWidth + 256
)

func notBase64(r rune) bool {
	return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '/' || r == '=')
}

// Armor returns the card's text form.
func (c *Card) Armor() string {
	enc := base64.StdEncoding.EncodeToString(c.Raw)
	var b strings.Builder
	b.WriteString(cardBegin + "\n")
	for len(enc) > lineWidth {
		b.WriteString(enc[:lineWidth] + "\n")
		enc = enc[lineWidth:]
	}
	b.WriteString(enc + "\n" + cardEnd + "\n")
	return b.String()
}

// ParseArmoredCard decodes and verifies a card's text form. Surrounding
// whitespace and CRLF line ends are tolerated; anything else that differs
// from what Armor writes is refused.
func ParseArmoredCard(text []byte) (*Card, error) {
	if len(text) > maxArmoredCardLen {
		return nil, fmt.Errorf("member card text is %d bytes, more than the %d allowed: is this really a card?", len(text), maxArmoredCardLen)
	}
	text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) < 3 || lines[0] != cardBegin {
		return nil, fmt.Errorf("not a member card: the text must start with %q (create one with `concord id --card`)", cardBegin)
	}
	if lines[len(lines)-1] != cardEnd {
		return nil, fmt.Errorf("member card is truncated: the text must end with %q", cardEnd)
	}
	body := lines[1 : len(lines)-1]
	for i, l := range body {
		if len(l) == 0 || len(l) > lineWidth || (i < len(body)-1 && len(l) != lineWidth) {
			return nil, fmt.Errorf("member card line %d is malformed: was the card re-wrapped or edited?", i+2)
		}
		// The base64 decoder skips stray '\r' and '\n'; refusing them here
		// keeps one armored text per card.
		if j := strings.IndexFunc(l, notBase64); j >= 0 {
			r, _ := utf8.DecodeRuneInString(l[j:])
			return nil, fmt.Errorf("member card line %d has the character %q at column %d, which is not base64: was the card edited?", i+2, r, j+1)
		}
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.Join(body, ""))
	if err != nil {
		return nil, fmt.Errorf("member card is corrupted (bad base64: %v)", err)
	}
	return ParseCard(raw)
}

// checkNodes checks the nodes of a card or of an inviter: 1 to
// MaxCardNodes, each with a peer ID and at most MaxNodeAddrs addresses of
// the shapes CheckMultiaddr takes. fail names the field (under field) and
// what is wrong; hint ends the message about their count.
func checkNodes(nodes []CardNode, field, hint string, fail func(field, format string, args ...any) error) error {
	if len(nodes) == 0 || len(nodes) > MaxCardNodes {
		return fail(field, "has %d nodes, want 1 to %d%s", len(nodes), MaxCardNodes, hint)
	}
	for i, n := range nodes {
		if err := CheckPeerID(n.Peer); err != nil {
			return fail(fmt.Sprintf("%s[%d].peer", field, i), "%v", err)
		}
		if len(n.Addrs) > MaxNodeAddrs {
			return fail(fmt.Sprintf("%s[%d].addrs", field, i), "has %d addresses, at most %d allowed", len(n.Addrs), MaxNodeAddrs)
		}
		for j, a := range n.Addrs {
			if err := CheckMultiaddr(a); err != nil {
				return fail(fmt.Sprintf("%s[%d].addrs[%d]", field, i, j), "%v", err)
			}
		}
	}
	return nil
}
