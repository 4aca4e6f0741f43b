package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/peer"

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
)

var entryTypes = []string{EntryGenesis, EntryRotate, EntryAdd, EntryRemove, EntryRole, EntryRevokeInvitation}

// Member roles in a topic. Admins write the topic log; the owner is always
// an admin.
const (
	RoleMember = crypto.RoleMember
	RoleAdmin  = crypto.RoleAdmin
)

// Limits on log entry fields.
const (
	NonceLen           = crypto.InvitationNonceLen
	MaxReasonLen       = 1024    // removal reason, bytes
	MaxWrappedKeyBytes = 8 << 10 // one age-encrypted epoch identity
	// MaxMembers bounds a topic so that a rotate entry, which carries about
	// 1.8 KB per member, always fits in MaxLogEntryBytes: a topic too big
	// to rotate could never remove anyone.
	MaxMembers = 128
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
type Add struct {
	Card  []byte `cbor:"card"`
	Role  string `cbor:"role"`
	Nonce []byte `cbor:"nonce"`
	Key   []byte `cbor:"key"`
}

// Remove expels a member and rotates in the same entry, so that no
// bulletin can be encrypted to a key the removed member holds once the
// removal is known.
type Remove struct {
	Member string `cbor:"member"`
	Reason string `cbor:"reason"`
	Rotate Rotate `cbor:"rotate"`
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
		if err := checkReason(r.Reason); err != nil {
			return err
		}
		return checkRotate("remove.rotate", &r.Rotate)
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
	e.Card = card
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

func checkReason(r string) error {
	if len(r) > MaxReasonLen {
		return fieldErr("remove.reason", "is %d bytes, at most %d allowed", len(r), MaxReasonLen)
	}
	if !utf8.ValidString(r) {
		return fieldErr("remove.reason", "is not valid UTF-8")
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

// ErrDuplicateEntry reports an entry the log already holds at its index;
// sync delivers those routinely, so callers usually ignore it.
var ErrDuplicateEntry = errors.New("entry is already in the log")

// ErrLogFork reports a different entry at an index the log already holds:
// two admins wrote concurrently. PreferredEntry decides which one stays.
var ErrLogFork = errors.New("log fork")

// PreferredEntry chooses between two different entries at the same index
// of the same log, so that every node settles on the same branch: the
// owner's entry wins, otherwise the one with the lower hash.
func PreferredEntry(a, b *Entry, owner string) *Entry {
	if (a.Author == owner) != (b.Author == owner) {
		if a.Author == owner {
			return a
		}
		return b
	}
	if bytes.Compare(a.Hash[:], b.Hash[:]) <= 0 {
		return a
	}
	return b
}

// Member is a current member of a topic.
type Member struct {
	Card  *crypto.Card
	Role  string
	Since uint64 // index of the entry that made it a member (0 for the owner)
}

// EpochInfo describes one epoch of a topic.
type EpochInfo struct {
	Epoch      uint64
	StartIndex uint64 // index of the rotate or remove entry that started it
	Recipient  string // age1pq1… recipient bulletins of the epoch are encrypted to
	// Members holds everyone who received the epoch's key: the members when
	// it started and those added during it. Sorted; never modified in
	// place, so clones may share it.
	Members []string
}

// TopicState is a topic log replayed: who belongs to the topic, with which
// role, and which epochs exist. It is a pure function of the log's entries.
type TopicState struct {
	ID       TopicID
	Category string
	Name     string
	Policy   Policy
	Owner    string // member ID of the owner

	Members map[string]*Member
	Removed map[string]uint64 // removed (and not re-added) member → index of the removal

	Epoch          uint64 // current epoch; 0 until the first rotate
	EpochRecipient string // recipient of the current epoch
	Epochs         []EpochInfo

	// Invitation nonces → index of the entry that used or revoked them.
	UsedNonces    map[[NonceLen]byte]uint64
	RevokedNonces map[[NonceLen]byte]uint64

	Head    [32]byte // hash of the last entry
	Len     uint64   // number of entries
	Entries [][]byte // raw entries, in order

	lastTS  time.Time
	cards   map[string]*crypto.Card      // latest card of every member ever admitted
	peers   map[peer.ID]string           // peer certified by a current member → member
	wrapped map[uint64]map[string][]byte // epoch → member → wrapped epoch identity
}

// NewTopicState starts a topic's state from its genesis entry, whose
// signature it verifies with the owner card the entry carries.
func NewTopicState(genesisRaw []byte) (*TopicState, error) {
	e, err := DecodeEntry(genesisRaw)
	if err != nil {
		return nil, err
	}
	if e.Type != EntryGenesis {
		return nil, fmt.Errorf("log entry %d: a topic log starts with a genesis entry, not a %q entry", e.Index, e.Type)
	}
	if err := crypto.Verify(e.Card.SignKey, crypto.DomainLogEntry, e.signed.Body, e.signed.Sig); err != nil {
		return nil, fmt.Errorf("log entry 0: signature does not verify with the signing key of owner %s", e.Author)
	}
	g := e.Genesis
	s := &TopicState{
		ID:            e.Hash,
		Category:      g.Category,
		Name:          g.Name,
		Policy:        g.Policy,
		Owner:         e.Author,
		Members:       map[string]*Member{e.Author: {Card: e.Card, Role: RoleAdmin, Since: 0}},
		Removed:       map[string]uint64{},
		UsedNonces:    map[[NonceLen]byte]uint64{},
		RevokedNonces: map[[NonceLen]byte]uint64{},
		Head:          e.Hash,
		Len:           1,
		Entries:       [][]byte{e.Raw},
		lastTS:        e.TS,
		cards:         map[string]*crypto.Card{e.Author: e.Card},
		peers:         map[peer.ID]string{},
		wrapped:       map[uint64]map[string][]byte{},
	}
	s.addPeers(e.Author, e.Card)
	return s, nil
}

// Replay rebuilds a topic's state from its raw entries, genesis first.
func Replay(entries [][]byte) (*TopicState, error) {
	if len(entries) == 0 {
		return nil, errors.New("topic log is empty: it needs at least its genesis entry")
	}
	s, err := NewTopicState(entries[0])
	if err != nil {
		return nil, err
	}
	for _, raw := range entries[1:] {
		if err := s.Apply(raw); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Apply verifies the next log entry against the state and applies it. It
// is atomic: on error the state is unchanged. An entry the log already
// holds yields an error wrapping ErrDuplicateEntry; a different entry at
// an index the log already holds, one wrapping ErrLogFork.
func (s *TopicState) Apply(raw []byte) error {
	e, err := DecodeEntry(raw)
	if err != nil {
		return err
	}
	if err := s.check(e); err != nil {
		return fmt.Errorf("log entry %d: %w", e.Index, err)
	}
	s.commit(e)
	return nil
}

// check runs every rule without modifying the state, so that commit,
// which cannot fail, keeps Apply atomic.
func (s *TopicState) check(e *Entry) error {
	if e.Type == EntryGenesis {
		return fmt.Errorf("a genesis entry cannot be appended: topic %s already has one", s.ID.Short())
	}
	if err := s.checkPosition(e); err != nil {
		return err
	}
	author := s.Members[e.Author]
	switch {
	case author == nil:
		return fmt.Errorf("author %s is not a member of topic %s", e.Author, s.ID.Short())
	case author.Role != RoleAdmin:
		return fmt.Errorf("author %s is not an admin of topic %s", e.Author, s.ID.Short())
	}
	if err := crypto.Verify(author.Card.SignKey, crypto.DomainLogEntry, e.signed.Body, e.signed.Sig); err != nil {
		return fmt.Errorf("signature does not verify with the signing key of author %s", e.Author)
	}
	if e.TS.Before(s.lastTS.Add(-maxClockSkew)) {
		return fmt.Errorf("timestamp %s is more than %s before the previous entry's (%s)",
			e.TS.Format(time.RFC3339), maxClockSkew, s.lastTS.Format(time.RFC3339))
	}
	if s.Epoch == 0 && e.Type != EntryRotate {
		return fmt.Errorf("the entry after genesis must be a rotate to epoch 1, not a %q entry", e.Type)
	}
	return s.checkPayload(e)
}

func (s *TopicState) checkPosition(e *Entry) error {
	if !bytes.Equal(e.Topic, s.ID[:]) {
		return fmt.Errorf("belongs to topic %x…, not %s", e.Topic[:6], s.ID.Short())
	}
	switch {
	case e.Index < s.Len && bytes.Equal(e.Raw, s.Entries[e.Index]):
		return ErrDuplicateEntry
	case e.Index < s.Len:
		return fmt.Errorf("%w: topic %s already has a different entry at index %d", ErrLogFork, s.ID.Short(), e.Index)
	case e.Index > s.Len:
		return fmt.Errorf("index %d is beyond the end of the log of topic %s (length %d): entries %d to %d are missing",
			e.Index, s.ID.Short(), s.Len, s.Len, e.Index-1)
	case !bytes.Equal(e.Prev, s.Head[:]):
		return fmt.Errorf("prev %x… is not the hash of entry %d (%x…)", e.Prev[:6], s.Len-1, s.Head[:6])
	}
	return nil
}

func (s *TopicState) checkPayload(e *Entry) error {
	switch e.Type {
	case EntryRotate:
		return s.checkRotate(e.Rotate, s.CurrentMembers())
	case EntryAdd:
		return s.checkAdd(e)
	case EntryRemove:
		return s.checkRemove(e)
	case EntryRole:
		return s.checkRole(e)
	default: // EntryRevokeInvitation; genesis was refused earlier
		return s.checkNonceFree(e.RevokeInvitation.Nonce)
	}
}

// checkRotate checks that r starts the next epoch with a fresh recipient
// and wraps its key to exactly members (sorted).
func (s *TopicState) checkRotate(r *Rotate, members []string) error {
	if r.Epoch != s.Epoch+1 {
		return fmt.Errorf("rotate to epoch %d, want epoch %d (the current epoch + 1)", r.Epoch, s.Epoch+1)
	}
	for _, ep := range s.Epochs {
		if ep.Recipient == r.Recipient {
			return fmt.Errorf("rotate to epoch %d reuses the recipient of epoch %d, which past members may hold", r.Epoch, ep.Epoch)
		}
	}
	i := 0
	for _, k := range r.Keys {
		if i < len(members) && members[i] < k.Member {
			return fmt.Errorf("rotate to epoch %d does not wrap the key to member %s", r.Epoch, members[i])
		}
		if i == len(members) || members[i] != k.Member {
			return fmt.Errorf("rotate to epoch %d wraps the key to %s, who %s", r.Epoch, k.Member, s.notMemberReason(k.Member))
		}
		i++
	}
	if i < len(members) {
		return fmt.Errorf("rotate to epoch %d does not wrap the key to member %s", r.Epoch, members[i])
	}
	return nil
}

// notMemberReason explains, for an error, why id is not a current member.
func (s *TopicState) notMemberReason(id string) string {
	if idx, ok := s.Removed[id]; ok {
		return fmt.Sprintf("was removed from topic %s by entry %d", s.ID.Short(), idx)
	}
	if _, ok := s.Members[id]; ok {
		return fmt.Sprintf("is being removed from topic %s by this entry", s.ID.Short())
	}
	return fmt.Sprintf("is not a member of topic %s", s.ID.Short())
}

func (s *TopicState) checkAdd(e *Entry) error {
	id := e.Card.ID
	if _, ok := s.Members[id]; ok {
		return fmt.Errorf("member %s is already a member of topic %s", id, s.ID.Short())
	}
	if len(s.Members) >= MaxMembers {
		return fmt.Errorf("topic %s already has %d members, the most a rotate entry can carry", s.ID.Short(), MaxMembers)
	}
	if err := s.checkNonceFree(e.Add.Nonce); err != nil {
		return err
	}
	// An admin may admit members; only the owner creates admins, as only
	// the owner changes roles.
	if e.Add.Role == RoleAdmin && e.Author != s.Owner {
		return fmt.Errorf("only the owner %s can add an admin; author %s is not the owner", s.Owner, e.Author)
	}
	for _, p := range e.Card.PeerIDs() {
		if other, ok := s.peers[p]; ok {
			return fmt.Errorf("card of %s certifies node %s, which member %s already certifies", id, p, other)
		}
	}
	return nil
}

func (s *TopicState) checkNonceFree(n []byte) error {
	key := [NonceLen]byte(n)
	if idx, ok := s.UsedNonces[key]; ok {
		return fmt.Errorf("invitation nonce %x was already used by entry %d", n, idx)
	}
	if idx, ok := s.RevokedNonces[key]; ok {
		return fmt.Errorf("invitation nonce %x was revoked by entry %d", n, idx)
	}
	return nil
}

func (s *TopicState) checkRemove(e *Entry) error {
	r := e.Remove
	if r.Member == s.Owner {
		return fmt.Errorf("the owner %s cannot be removed from topic %s", r.Member, s.ID.Short())
	}
	m := s.Members[r.Member]
	if m == nil {
		return fmt.Errorf("cannot remove %s, who %s", r.Member, s.notMemberReason(r.Member))
	}
	if m.Role == RoleAdmin && e.Author != s.Owner {
		return fmt.Errorf("only the owner %s can remove admin %s", s.Owner, r.Member)
	}
	remaining := s.CurrentMembers()
	remaining = slices.DeleteFunc(remaining, func(id string) bool { return id == r.Member })
	return s.checkRotate(&r.Rotate, remaining)
}

func (s *TopicState) checkRole(e *Entry) error {
	r := e.Role
	switch {
	case e.Author != s.Owner:
		return fmt.Errorf("only the owner %s can change roles; author %s is not the owner", s.Owner, e.Author)
	case r.Member == s.Owner:
		return fmt.Errorf("the role of the owner %s cannot change", r.Member)
	case s.Members[r.Member] == nil:
		return fmt.Errorf("cannot change the role of %s, who %s", r.Member, s.notMemberReason(r.Member))
	case s.Members[r.Member].Role == r.Role:
		return fmt.Errorf("member %s already has role %q", r.Member, r.Role)
	}
	return nil
}

// commit applies a checked entry. It cannot fail.
func (s *TopicState) commit(e *Entry) {
	switch e.Type {
	case EntryRotate:
		s.startEpoch(e.Rotate, e.Index)
	case EntryAdd:
		s.commitAdd(e)
	case EntryRemove:
		id := e.Remove.Member
		s.removePeers(s.Members[id].Card)
		delete(s.Members, id)
		s.Removed[id] = e.Index
		s.startEpoch(&e.Remove.Rotate, e.Index)
	case EntryRole:
		m := *s.Members[e.Role.Member] // copy: clones share Member values
		m.Role = e.Role.Role
		s.Members[e.Role.Member] = &m
	case EntryRevokeInvitation:
		s.RevokedNonces[[NonceLen]byte(e.RevokeInvitation.Nonce)] = e.Index
	}
	s.Head = e.Hash
	s.Len++
	s.Entries = append(s.Entries, e.Raw)
	s.lastTS = e.TS
}

func (s *TopicState) commitAdd(e *Entry) {
	id := e.Card.ID
	s.Members[id] = &Member{Card: e.Card, Role: e.Add.Role, Since: e.Index}
	delete(s.Removed, id)
	s.cards[id] = e.Card
	s.addPeers(id, e.Card)
	s.UsedNonces[[NonceLen]byte(e.Add.Nonce)] = e.Index
	cur := &s.Epochs[len(s.Epochs)-1]
	i, _ := slices.BinarySearch(cur.Members, id)
	cur.Members = slices.Insert(slices.Clone(cur.Members), i, id)
	s.wrapped[s.Epoch][id] = e.Add.Key
}

func (s *TopicState) startEpoch(r *Rotate, index uint64) {
	s.Epoch = r.Epoch
	s.EpochRecipient = r.Recipient
	s.Epochs = append(s.Epochs, EpochInfo{Epoch: r.Epoch, StartIndex: index, Recipient: r.Recipient, Members: s.CurrentMembers()})
	keys := make(map[string][]byte, len(r.Keys))
	for _, k := range r.Keys {
		keys[k.Member] = k.Key
	}
	s.wrapped[r.Epoch] = keys
}

func (s *TopicState) addPeers(id string, c *crypto.Card) {
	for _, p := range c.PeerIDs() {
		s.peers[p] = id
	}
}

func (s *TopicState) removePeers(c *crypto.Card) {
	for _, p := range c.PeerIDs() {
		delete(s.peers, p)
	}
}

// CurrentMembers returns the member IDs of the current members, sorted.
func (s *TopicState) CurrentMembers() []string {
	ids := make([]string, 0, len(s.Members))
	for id := range s.Members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// EpochInfoFor returns the description of an epoch, if it exists.
func (s *TopicState) EpochInfoFor(epoch uint64) (EpochInfo, bool) {
	// Epochs are numbered 1, 2, 3… without gaps.
	if epoch == 0 || epoch > uint64(len(s.Epochs)) {
		return EpochInfo{}, false
	}
	return s.Epochs[epoch-1], true
}

// MemberAt reports whether member held the key of epoch, that is, was a
// member at some point during it.
func (s *TopicState) MemberAt(member string, epoch uint64) bool {
	info, ok := s.EpochInfoFor(epoch)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(info.Members, member)
	return found
}

// IsAdmin reports whether member is a current admin.
func (s *TopicState) IsAdmin(member string) bool {
	m := s.Members[member]
	return m != nil && m.Role == RoleAdmin
}

// Card returns the latest card of a current or past member, or nil. Past
// members' cards are kept so that their envelopes from before their
// removal can still be verified.
func (s *TopicState) Card(member string) *crypto.Card { return s.cards[member] }

// PeerMember returns the current member whose card certifies peer p.
func (s *TopicState) PeerMember(p peer.ID) (member string, ok bool) {
	member, ok = s.peers[p]
	return member, ok
}

// WrappedKeyFor returns the identity of epoch wrapped to member, from the
// rotate, remove or add entry that gave it, or nil.
func (s *TopicState) WrappedKeyFor(member string, epoch uint64) []byte {
	return s.wrapped[epoch][member]
}

// NextEntry returns the next entry of the log prefilled with its chaining
// fields; the caller sets the payload matching typ and signs it with
// SignEntry.
func (s *TopicState) NextEntry(author, typ string, now time.Time) *LogEntry {
	return &LogEntry{
		V:      ProtocolVersion,
		Topic:  append([]byte(nil), s.ID[:]...),
		Index:  s.Len,
		Prev:   append([]byte(nil), s.Head[:]...),
		Author: author,
		TS:     now.UTC(),
		Type:   typ,
	}
}

// NewRotate wraps k, the key of the next epoch, to every current member
// except the one named by without (a member being removed; "" for none).
func (s *TopicState) NewRotate(k *crypto.EpochKey, without string) (Rotate, error) {
	if k.Epoch != s.Epoch+1 {
		return Rotate{}, fmt.Errorf("epoch key is for epoch %d, want epoch %d (the current epoch + 1)", k.Epoch, s.Epoch+1)
	}
	r := Rotate{Epoch: k.Epoch, Recipient: k.Recipient().String()}
	for _, id := range s.CurrentMembers() {
		if id == without {
			continue
		}
		wrapped, err := crypto.WrapEpochKey(k, s.Members[id].Card.Recipient())
		if err != nil {
			return Rotate{}, err
		}
		r.Keys = append(r.Keys, WrappedKey{Member: id, Key: wrapped})
	}
	return r, nil
}

// Clone returns an independent copy of the state. Raw entries, cards and
// wrapped keys are immutable and shared.
func (s *TopicState) Clone() *TopicState {
	c := *s
	c.Members = make(map[string]*Member, len(s.Members))
	for id, m := range s.Members {
		mc := *m
		c.Members[id] = &mc
	}
	c.Removed = maps.Clone(s.Removed)
	c.Epochs = slices.Clone(s.Epochs)
	c.UsedNonces = maps.Clone(s.UsedNonces)
	c.RevokedNonces = maps.Clone(s.RevokedNonces)
	c.Entries = slices.Clone(s.Entries)
	c.cards = maps.Clone(s.cards)
	c.peers = maps.Clone(s.peers)
	c.wrapped = make(map[uint64]map[string][]byte, len(s.wrapped))
	for ep, keys := range s.wrapped {
		c.wrapped[ep] = maps.Clone(keys)
	}
	return &c
}
