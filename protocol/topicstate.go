package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
)

// ErrDuplicateEntry reports an entry the log already holds at its index;
// sync delivers those routinely, so callers usually ignore it.
var ErrDuplicateEntry = errors.New("entry is already in the log")

// Member is a current member of a topic.
type Member struct {
	Card  *crypto.Card
	Role  string
	Since uint64 // index of the entry that made it a member (0 for the owner)
}

// EpochInfo describes one epoch of a topic.
type EpochInfo struct {
	Epoch      uint64
	StartIndex uint64 // index of the rotate, remove or leave entry that started it
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
	// Removed maps a member that was removed or left (and was not added
	// again) to the index of the remove or leave entry.
	Removed map[string]uint64
	// LastSeqs maps each member in Removed to the last seq of its
	// envelopes still accepted (the entry's last_seq; see MayPublish).
	LastSeqs map[string]uint64
	// LastIDs maps each member in Removed whose last seq is not 0 to the
	// envelope ID at that seq (the entry's last_id; see FormerChain).
	LastIDs map[string][32]byte

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
		LastSeqs:      map[string]uint64{},
		LastIDs:       map[string][32]byte{},
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
// holds yields an error wrapping ErrDuplicateEntry. A different entry at
// an index the log already holds yields an error wrapping ErrLogFork only
// if it is a genuine competing entry (CheckForkEntry, at the cost of one
// replay of the log up to that index); otherwise a plain error saying what
// is wrong with it, so that a forged entry cannot start fork resolution.
func (s *TopicState) Apply(raw []byte) error {
	e, err := DecodeEntry(raw)
	if err != nil {
		return err
	}
	if err := s.check(e, true); err != nil {
		return fmt.Errorf("log entry %d: %w", e.Index, err)
	}
	s.commit(e)
	return nil
}

// check runs every rule without modifying the state, so that commit,
// which cannot fail, keeps Apply atomic. verifySig is false only to replay
// entries this state already accepted (stateAt).
func (s *TopicState) check(e *Entry, verifySig bool) error {
	if e.Type == EntryGenesis {
		return fmt.Errorf("a genesis entry cannot be appended: topic %s already has one", s.ID.Short())
	}
	if err := s.checkPosition(e); err != nil {
		return err
	}
	if err := s.checkAuthor(e, verifySig); err != nil {
		return err
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

// checkAuthor checks that the author may write e now and, if verifySig,
// that it signed e.
func (s *TopicState) checkAuthor(e *Entry, verifySig bool) error {
	author := s.Members[e.Author]
	switch {
	case author == nil:
		return fmt.Errorf("author %s is not a member of topic %s", e.Author, s.ID.Short())
	case author.Role != RoleAdmin && e.Type != EntryLeave: // any member may leave
		return fmt.Errorf("author %s is not an admin of topic %s", e.Author, s.ID.Short())
	}
	if verifySig {
		return verifyEntrySig(author.Card, e)
	}
	return nil
}

func verifyEntrySig(card *crypto.Card, e *Entry) error {
	if err := crypto.Verify(card.SignKey, crypto.DomainLogEntry, e.signed.Body, e.signed.Sig); err != nil {
		return fmt.Errorf("signature does not verify with the signing key of author %s", e.Author)
	}
	return nil
}

func (s *TopicState) checkPosition(e *Entry) error {
	if !bytes.Equal(e.Topic, s.ID[:]) {
		return fmt.Errorf("belongs to topic %x…, not %s", e.Topic[:6], s.ID.Short())
	}
	switch {
	case e.Index < s.Len && bytes.Equal(e.Raw, s.Entries[e.Index]):
		return ErrDuplicateEntry
	case e.Index < s.Len:
		if err := s.checkFork(e); err != nil {
			// %v, not %w: nothing in err may pass for ErrLogFork.
			return fmt.Errorf("topic %s already has a different entry at index %d, and this one is not a valid alternative to it: %v",
				s.ID.Short(), e.Index, err)
		}
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
	case EntryLeave:
		return s.checkLeave(e)
	case EntryPolicy:
		return s.checkPolicy(e)
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
		if e, err := DecodeEntry(s.Entries[idx]); err == nil && e.Type == EntryLeave {
			return fmt.Sprintf("left topic %s by entry %d", s.ID.Short(), idx)
		}
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
	return s.checkAddHistory(e.Add)
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
	return s.checkRotate(&r.Rotate, s.membersWithout(r.Member))
}

// checkLeave checks a leave entry, whose author is a member (checked by
// check) that leaves.
func (s *TopicState) checkLeave(e *Entry) error {
	if e.Author == s.Owner {
		return fmt.Errorf("the owner %s cannot leave topic %s: a topic keeps its owner until ownership is handed over to another member", e.Author, s.ID.Short())
	}
	return s.checkRotate(&e.Leave.Rotate, s.membersWithout(e.Author))
}

// membersWithout returns the current members except id, sorted.
func (s *TopicState) membersWithout(id string) []string {
	return slices.DeleteFunc(s.CurrentMembers(), func(m string) bool { return m == id })
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
		if e.Add.Rotate != nil { // history from-join: the new epoch first
			s.startEpoch(e.Add.Rotate, e.Index)
		}
		s.commitAdd(e)
	case EntryPolicy:
		s.Policy.History = storedHistory(e.Policy.History)
	case EntryRemove:
		s.removeMember(e.Remove.Member, e.Index, e.Remove.LastSeq, e.Remove.LastID)
		s.startEpoch(&e.Remove.Rotate, e.Index)
	case EntryLeave:
		s.removeMember(e.Author, e.Index, e.Leave.LastSeq, e.Leave.LastID)
		s.startEpoch(&e.Leave.Rotate, e.Index)
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
	delete(s.LastSeqs, id)
	delete(s.LastIDs, id)
	s.cards[id] = e.Card
	s.addPeers(id, e.Card)
	s.UsedNonces[[NonceLen]byte(e.Add.Nonce)] = e.Index
	cur := &s.Epochs[len(s.Epochs)-1]
	i, _ := slices.BinarySearch(cur.Members, id)
	cur.Members = slices.Insert(slices.Clone(cur.Members), i, id)
	s.wrapped[s.Epoch][id] = e.Add.Key
	// Past keys let the member read earlier epochs, not publish to them:
	// the epochs' member sets are unchanged.
	for _, k := range e.Add.Past {
		s.wrapped[k.Epoch][id] = k.Key
	}
}

// removeMember ends id's membership; the caller starts the next epoch.
// lastID was checked by DecodeEntry: 32 bytes when lastSeq > 0, else absent.
func (s *TopicState) removeMember(id string, index, lastSeq uint64, lastID []byte) {
	s.removePeers(s.Members[id].Card)
	delete(s.Members, id)
	s.Removed[id] = index
	s.LastSeqs[id] = lastSeq
	if lastSeq > 0 {
		s.LastIDs[id] = [32]byte(lastID)
	}
}

// MayPublish reports whether an envelope of author with this seq may be
// accepted on the topic now by its position alone: author is a member, or
// a former member and seq is at most the last seq its removal (or leave)
// entry recorded, so that what it published before reaches every member
// while nothing it signs later does. For a former member the caller must
// also check the envelope against the pinned chain (FormerChain). Its
// epoch is checked apart (CheckEnvelope).
func (s *TopicState) MayPublish(author string, seq uint64) bool {
	if _, ok := s.Members[author]; ok {
		return true
	}
	last, ok := s.LastSeqs[author]
	return ok && seq <= last
}

// FormerChain returns what the remove or leave entry of a former member
// (removed or left, and not added again) pinned of its envelope chain:
// the last seq still accepted and, when that seq is not 0, the envelope ID
// at it. former is false for current members and strangers. A receiver
// accepts an envelope of a former member only if seq < lastSeq and the
// stored envelope at seq + 1 names it as prev, or seq == lastSeq and its
// ID is lastID: so the former member, who still holds its signing key,
// cannot sign a different history up to lastSeq after the fact.
func (s *TopicState) FormerChain(author string) (lastSeq uint64, lastID [32]byte, former bool) {
	lastSeq, former = s.LastSeqs[author]
	return lastSeq, s.LastIDs[author], former
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

// RemovedAt returns the index of the remove or leave entry that ended
// member's membership, if member was a member, is not one now, and was not
// added again since.
func (s *TopicState) RemovedAt(member string) (index uint64, ok bool) {
	index, ok = s.Removed[member]
	return index, ok
}

// EntryHash returns the hash (SHA-256 of the raw bytes) of the entry at
// index, if the log holds it. The hash of entry 0 is the topic ID; that of
// the last entry is Head.
func (s *TopicState) EntryHash(index uint64) ([32]byte, bool) {
	if index >= s.Len {
		return [32]byte{}, false
	}
	if index == s.Len-1 {
		return s.Head, true
	}
	return sha256.Sum256(s.Entries[index]), true
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
// rotate, remove, leave or add entry that gave it, or nil.
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
// except the one named by without (a member being removed, or the author
// of a leave entry; "" for none).
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
	c.LastSeqs = maps.Clone(s.LastSeqs)
	c.LastIDs = maps.Clone(s.LastIDs)
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
