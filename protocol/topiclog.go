package protocol

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

// Log entry types. Each entry carries exactly one payload, under the CBOR
// key equal to its type.
const (
	EntryGenesis          = "genesis"
	EntryRotate           = "rotate"
	EntryAdd              = "add"
	EntryRemove           = "remove"
	EntryRole             = "role"
	EntryRevokeInvitation = "revoke-invitation"
	EntryLeave            = "leave"
	EntryPolicy           = "policy"
)

var entryTypes = []string{EntryGenesis, EntryRotate, EntryAdd, EntryRemove, EntryRole, EntryRevokeInvitation, EntryLeave, EntryPolicy}

// Member roles in a topic. Admins write the topic log; the owner is always
// an admin. The one exception is a leave entry, which any member but the
// owner writes for itself.
const (
	RoleMember = crypto.RoleMember
	RoleAdmin  = crypto.RoleAdmin
)

// Limits on log entry fields.
const (
	NonceLen           = crypto.InvitationNonceLen
	MaxReasonLen       = 1024    // removal or leave reason, bytes
	MaxWrappedKeyBytes = 8 << 10 // one age-encrypted epoch identity
	// MaxMembers bounds a topic so that a rotate entry, which carries about
	// 1.8 KB per member, always fits in MaxLogEntryBytes: a topic too big
	// to rotate could never remove anyone. 256 holds every Member State of
	// the United Nations (193) and the international bodies beside them.
	MaxMembers = 256
)

// maxClockSkew is how far an entry's timestamp may go back from its
// predecessor's: admins' clocks differ, but a log must not travel back in
// time by more than this.
const maxClockSkew = 5 * time.Minute

// LogEntry is the signed body of a topic log entry.
type LogEntry struct {
	V      int       `cbor:"v"`
	Topic  []byte    `cbor:"topic,omitempty"` // absent in genesis
	Index  uint64    `cbor:"index"`
	Prev   []byte    `cbor:"prev,omitempty"` // SHA-256 of the previous entry; absent in genesis
	Author string    `cbor:"author"`
	TS     time.Time `cbor:"ts"`
	Type   string    `cbor:"type"`

	Genesis          *Genesis          `cbor:"genesis,omitempty"`
	Rotate           *Rotate           `cbor:"rotate,omitempty"`
	Add              *Add              `cbor:"add,omitempty"`
	Remove           *Remove           `cbor:"remove,omitempty"`
	Role             *RoleChange       `cbor:"role,omitempty"`
	RevokeInvitation *RevokeInvitation `cbor:"revoke-invitation,omitempty"`
	Leave            *Leave            `cbor:"leave,omitempty"`
	Policy           *PolicyChange     `cbor:"policy,omitempty"`
}

// Genesis creates a topic. Owner is the owner's raw signed member card.
type Genesis struct {
	Category string `cbor:"category"`
	Name     string `cbor:"name"`
	Policy   Policy `cbor:"policy"`
	Owner    []byte `cbor:"owner"`
}

// Policy holds a topic's rules that every member applies locally.
type Policy struct {
	MaxAgeDays uint32 `cbor:"max_age_days"` // retention; 0 = no limit
	// History is what a new member may read (history.go); absent means
	// HistoryCurrentEpoch.
	History string `cbor:"history,omitempty"`
}

// Rotate starts a new epoch. Keys wraps the epoch's age identity to every
// member of the topic once the entry applies, sorted by member ID.
type Rotate struct {
	Epoch     uint64       `cbor:"epoch"`
	Recipient string       `cbor:"recipient"` // age1pq1… recipient of the new epoch
	Keys      []WrappedKey `cbor:"keys"`
}

// WrappedKey is an epoch identity age-encrypted to one member.
type WrappedKey struct {
	Member string `cbor:"member"`
	Key    []byte `cbor:"key"`
}

// Add admits a member who holds an invitation. Key is the current epoch's
// identity wrapped to the new member, so it can read from now on.
//
// History records the history granted (absent: HistoryCurrentEpoch). With
// HistoryFromJoin, Rotate starts a new epoch wrapped to the members before
// the add, and Key is that new epoch's identity; with HistoryAll, Past
// wraps earlier epochs' identities to the new member (history.go).
type Add struct {
	Card    []byte    `cbor:"card"`
	Role    string    `cbor:"role"`
	Nonce   []byte    `cbor:"nonce"`
	Key     []byte    `cbor:"key"`
	History string    `cbor:"history,omitempty"`
	Rotate  *Rotate   `cbor:"rotate,omitempty"`
	Past    []PastKey `cbor:"past,omitempty"`
}

// Remove expels a member and rotates in the same entry, so that no
// bulletin can be encrypted to a key the removed member holds once the
// removal is known. LastSeq is the highest seq of the removed member's
// envelopes on the topic that the writer held: those up to it are still
// accepted and synced after the removal, so that what the member published
// before it reaches every member; nothing later is. LastID is the envelope
// ID of that envelope, present exactly when LastSeq is: it pins the
// member's chain, so that the former member cannot sign a different
// history up to LastSeq after its removal.
type Remove struct {
	Member  string `cbor:"member"`
	Reason  string `cbor:"reason"`
	Rotate  Rotate `cbor:"rotate"`
	LastSeq uint64 `cbor:"last_seq,omitempty"`
	LastID  []byte `cbor:"last_id,omitempty"`
}

// RoleChange sets a member's role. Only the owner writes it.
type RoleChange struct {
	Member string `cbor:"member"`
	Role   string `cbor:"role"`
}

// RevokeInvitation makes an invitation nonce unusable.
type RevokeInvitation struct {
	Nonce []byte `cbor:"nonce"`
}

// Leave is written by a member that leaves the topic of its own accord;
// the entry's author is the member that leaves. Like a removal it rotates
// in the same entry: the leaving member makes the next epoch's key and
// wraps it to every remaining member, not to itself. The owner cannot
// leave.
type Leave struct {
	Reason  string `cbor:"reason"` // may be empty
	Rotate  Rotate `cbor:"rotate"`
	LastSeq uint64 `cbor:"last_seq,omitempty"` // the leaving member's last seq, as in Remove
	LastID  []byte `cbor:"last_id,omitempty"`  // envelope ID at LastSeq, as in Remove
}

// Entry is a decoded log entry: its body, its exact bytes and its hash.
type Entry struct {
	LogEntry
	Raw  []byte
	Hash [32]byte
	// Card is the verified member card a genesis (owner) or add entry
	// carries; nil for other types.
	Card   *crypto.Card
	signed crypto.Signed
}

// DecodeEntry decodes a log entry and checks everything that does not
// depend on the log it belongs to: size, canonical form, field validity and
// exactly one payload matching the type. It does not verify the signature,
// which needs the author's card from the log.
func DecodeEntry(raw []byte) (*Entry, error) {
	if len(raw) > MaxLogEntryBytes {
		return nil, fmt.Errorf("log entry is %d bytes, more than the %d allowed", len(raw), MaxLogEntryBytes)
	}
	s, err := crypto.Open(raw)
	if err != nil {
		return nil, fmt.Errorf("log entry is malformed: %w", err)
	}
	e := &Entry{Raw: append([]byte(nil), raw...), Hash: sha256.Sum256(raw), signed: s}
	if err := canon.Unmarshal(s.Body, &e.LogEntry); err != nil {
		return nil, fmt.Errorf("log entry is malformed: %w", err)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("log entry %d: %w", e.Index, err)
	}
	return e, nil
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("field %q: %s", field, fmt.Sprintf(format, args...))
}

func (e *Entry) check() error {
	if e.V != ProtocolVersion {
		return fieldErr("v", "version %d is not supported (want %d)", e.V, ProtocolVersion)
	}
	if err := e.checkPayloadPresence(); err != nil {
		return err
	}
	if err := e.checkHeader(); err != nil {
		return err
	}
	return e.checkPayload()
}

func (e *Entry) checkPayloadPresence() error {
	if !slices.Contains(entryTypes, e.Type) {
		return fieldErr("type", "%q is not a log entry type (want one of %s)", clip(e.Type), strings.Join(entryTypes, ", "))
	}
	var present []string
	for typ, ok := range map[string]bool{
		EntryGenesis: e.Genesis != nil, EntryRotate: e.Rotate != nil, EntryAdd: e.Add != nil,
		EntryRemove: e.Remove != nil, EntryRole: e.Role != nil, EntryRevokeInvitation: e.RevokeInvitation != nil,
		EntryLeave: e.Leave != nil, EntryPolicy: e.Policy != nil,
	} {
		if ok {
			present = append(present, typ)
		}
	}
	if len(present) != 1 || present[0] != e.Type {
		return fmt.Errorf("a %q entry must carry exactly one payload, %q (found %d payloads)", e.Type, e.Type, len(present))
	}
	return nil
}

// checkHeader checks the chaining fields, which genesis lacks.
func (e *Entry) checkHeader() error {
	if e.Type == EntryGenesis {
		switch {
		case e.Index != 0:
			return fieldErr("index", "a genesis entry has index 0, not %d", e.Index)
		case e.Topic != nil:
			return fieldErr("topic", "must be absent in a genesis entry")
		case e.Prev != nil:
			return fieldErr("prev", "must be absent in a genesis entry")
		}
	} else {
		switch {
		case e.Index == 0:
			return fieldErr("index", "index 0 is the genesis entry, not a %q entry", e.Type)
		case len(e.Topic) != hashLen:
			return fieldErr("topic", "is %d bytes, want %d", len(e.Topic), hashLen)
		case len(e.Prev) != hashLen:
			return fieldErr("prev", "is %d bytes, want %d", len(e.Prev), hashLen)
		}
	}
	if !crypto.ValidMemberID(e.Author) {
		return fieldErr("author", "%q is not a member ID", clip(e.Author))
	}
	return checkTS("ts", e.TS)
}

func checkTS(field string, ts time.Time) error {
	if ts.IsZero() {
		return fieldErr(field, "is missing")
	}
	if _, off := ts.Zone(); off != 0 {
		return fieldErr(field, "must be in UTC")
	}
	return nil
}

func (e *Entry) checkPayload() error {
	switch e.Type {
	case EntryGenesis:
		return e.checkGenesis()
	case EntryRotate:
		return checkRotate("rotate", e.Rotate)
	case EntryAdd:
		return e.checkAdd()
	case EntryRemove:
		r := e.Remove
		if err := checkMemberField("remove.member", r.Member); err != nil {
			return err
		}
		if err := checkReason("remove.reason", r.Reason); err != nil {
			return err
		}
		if err := checkLastID("remove.last_id", r.LastSeq, r.LastID); err != nil {
			return err
		}
		return checkRotate("remove.rotate", &r.Rotate)
	case EntryLeave:
		return e.checkLeave()
	case EntryPolicy:
		return checkHistory("policy.history", e.Policy.History, true)
	case EntryRole:
		if err := checkMemberField("role.member", e.Role.Member); err != nil {
			return err
		}
		return checkRole("role.role", e.Role.Role)
	default: // EntryRevokeInvitation
		return checkNonce("revoke-invitation.nonce", e.RevokeInvitation.Nonce)
	}
}

func (e *Entry) checkGenesis() error {
	g := e.Genesis
	if _, err := LookupCategory(g.Category); err != nil {
		return fieldErr("genesis.category", "%v", err)
	}
	if err := crypto.CheckName(g.Name); err != nil {
		return fieldErr("genesis.name", "%v", err)
	}
	if err := checkHistory("genesis.policy.history", g.Policy.History, false); err != nil {
		return err
	}
	card, err := crypto.ParseCard(g.Owner)
	if err != nil {
		return fieldErr("genesis.owner", "%v", err)
	}
	if card.ID != e.Author {
		return fmt.Errorf("author %s is not the owner %s whose card the genesis carries", e.Author, card.ID)
	}
	e.Card = card
	return nil
}

func (e *Entry) checkAdd() error {
	a := e.Add
	card, err := crypto.ParseCard(a.Card)
	if err != nil {
		return fieldErr("add.card", "%v", err)
	}
	if err := checkRole("add.role", a.Role); err != nil {
		return err
	}
	if err := checkNonce("add.nonce", a.Nonce); err != nil {
		return err
	}
	if err := checkWrappedKey("add.key", a.Key); err != nil {
		return err
	}
	if err := checkAddHistory(a); err != nil {
		return err
	}
	e.Card = card
	return nil
}

func (e *Entry) checkLeave() error {
	l := e.Leave
	if err := checkReason("leave.reason", l.Reason); err != nil {
		return err
	}
	if err := checkLastID("leave.last_id", l.LastSeq, l.LastID); err != nil {
		return err
	}
	if err := checkRotate("leave.rotate", &l.Rotate); err != nil {
		return err
	}
	// Checked here, without the log: the member that leaves must not keep
	// the key of the epoch its departure starts.
	if _, found := slices.BinarySearchFunc(l.Rotate.Keys, e.Author, func(k WrappedKey, id string) int {
		return strings.Compare(k.Member, id)
	}); found {
		return fieldErr("leave.rotate.keys", "wraps the new epoch's key to %s, the member that leaves", e.Author)
	}
	return nil
}

func checkRotate(field string, r *Rotate) error {
	if r.Epoch == 0 {
		return fieldErr(field+".epoch", "epoch 0 has no key; the first rotate starts epoch 1")
	}
	rcpt, err := age.ParseHybridRecipient(r.Recipient)
	if err != nil {
		// age's error quotes the whole recipient (about 2,000 characters).
		return fieldErr(field+".recipient", "not an age post-quantum recipient (age1pq1…)")
	}
	if rcpt.String() != r.Recipient {
		return fieldErr(field+".recipient", "not in canonical (lowercase) form")
	}
	if len(r.Keys) == 0 {
		return fieldErr(field+".keys", "is empty; a topic always has at least its owner")
	}
	for i, k := range r.Keys {
		f := fmt.Sprintf("%s.keys[%d]", field, i)
		if err := checkMemberField(f+".member", k.Member); err != nil {
			return err
		}
		// Sorted and unique: one encoding per key set, and "each member
		// once" is checked here rather than against the log.
		if i > 0 && k.Member <= r.Keys[i-1].Member {
			return fieldErr(f+".member", "keys must be sorted by member ID without duplicates (%s after %s)", k.Member, r.Keys[i-1].Member)
		}
		if err := checkWrappedKey(f+".key", k.Key); err != nil {
			return err
		}
	}
	return nil
}

// checkLastID requires the envelope ID of the last envelope exactly when
// there is a last envelope (lastSeq ≥ 1).
func checkLastID(field string, lastSeq uint64, id []byte) error {
	switch {
	case lastSeq == 0 && len(id) != 0:
		return fieldErr(field, "must be absent when last_seq is absent (the member published nothing)")
	case lastSeq > 0 && len(id) != hashLen:
		return fieldErr(field, "is %d bytes, want the %d-byte ID of the member's envelope at last_seq %d", len(id), hashLen, lastSeq)
	}
	return nil
}

func checkMemberField(field, id string) error {
	if !crypto.ValidMemberID(id) {
		return fieldErr(field, "%q is not a member ID", clip(id))
	}
	return nil
}

func checkRole(field, role string) error {
	if role != RoleMember && role != RoleAdmin {
		return fieldErr(field, "%q is not a role (want %q or %q)", clip(role), RoleMember, RoleAdmin)
	}
	return nil
}

func checkNonce(field string, n []byte) error {
	if len(n) != NonceLen {
		return fieldErr(field, "is %d bytes, want %d", len(n), NonceLen)
	}
	return nil
}

func checkWrappedKey(field string, k []byte) error {
	if len(k) == 0 || len(k) > MaxWrappedKeyBytes {
		return fieldErr(field, "is %d bytes, want 1 to %d", len(k), MaxWrappedKeyBytes)
	}
	return nil
}

func checkReason(field, r string) error {
	if len(r) > MaxReasonLen {
		return fieldErr(field, "is %d bytes, at most %d allowed", len(r), MaxReasonLen)
	}
	if !utf8.ValidString(r) {
		return fieldErr(field, "is not valid UTF-8")
	}
	return nil
}

// SignEntry signs e as identity id and returns the entry's bytes. The
// timestamp is stored in UTC. The result is decoded again before it is
// returned, so an entry that no node would accept is refused here.
func SignEntry(id *crypto.Identity, e *LogEntry) ([]byte, error) {
	if e.Author != id.MemberID() {
		return nil, fmt.Errorf("log entry author %s is not the signing member %s", e.Author, id.MemberID())
	}
	body := *e
	body.TS = body.TS.UTC()
	raw, _, err := crypto.Seal(id.Signing, crypto.DomainLogEntry, body)
	if err != nil {
		return nil, err
	}
	if _, err := DecodeEntry(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// NewGenesis creates the genesis entry of a new topic owned by owner. The
// topic ID is the SHA-256 of the returned bytes. The next entry must be a
// rotate to epoch 1 wrapped to the owner.
func NewGenesis(owner *crypto.Identity, ownerCard *crypto.Card, category, name string, policy Policy, now time.Time) ([]byte, error) {
	if ownerCard.ID != owner.MemberID() {
		return nil, fmt.Errorf("owner card %s is not the card of member %s", ownerCard.ID, owner.MemberID())
	}
	return SignEntry(owner, &LogEntry{
		V:       ProtocolVersion,
		Author:  ownerCard.ID,
		TS:      now,
		Type:    EntryGenesis,
		Genesis: &Genesis{Category: category, Name: name, Policy: policy, Owner: ownerCard.Raw},
	})
}
