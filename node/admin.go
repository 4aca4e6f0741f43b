package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// writeEntry appends an entry written by this member to t: fill sets the
// payload (it sees the state before the entry), newKey is the key of the
// epoch the entry starts, if any. The entry is stored, then announced.
func (n *Node) writeEntry(ctx context.Context, t *topic, typ string, newKey *crypto.EpochKey,
	fill func(s *protocol.TopicState, e *protocol.LogEntry) error) (*protocol.TopicState, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := t.state.Clone()
	if err := n.appendEntry(next, typ, n.now(), func(e *protocol.LogEntry) error { return fill(next, e) }); err != nil {
		return nil, err
	}
	keys := t.keys
	if newKey != nil {
		keys = cloneKeys(keys)
		keys[newKey.Epoch] = newKey
	}
	if err := n.saveTopic(ctx, next, next.Len-1, keys, t.joined); err != nil {
		return nil, err
	}
	old := t.state
	t.state, t.keys = next, keys
	n.dropFormerPeers(old, next)
	n.announce(t, next.Entries[next.Len-1])
	n.spawn(func() { n.purgeFormers(n.ctx, t) })
	n.log.Info("topic log entry written", "topic", next.ID.String(), "type", typ, "index", next.Len-1, "epoch", next.Epoch)
	return next, nil
}

// requireAdmin returns a clear error unless this member administers s.
func (n *Node) requireAdmin(s *protocol.TopicState, action string) error {
	if !s.IsAdmin(n.id.MemberID()) {
		return api.Errorf(api.Forbidden, "only an admin of topic %q can %s; its owner is %s", s.Name, action, s.Owner)
	}
	return nil
}

// nextKey generates the key of the epoch after s's current one.
func nextKey(s *protocol.TopicState) (*crypto.EpochKey, error) {
	return crypto.GenerateEpochKey(s.Epoch + 1)
}

// remove expels a member and rotates to a new epoch whose key is wrapped
// to the remaining members only.
func (n *Node) remove(ctx context.Context, t *topic, memberRef, reason string) (*protocol.TopicState, string, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "remove members"); err != nil {
		return nil, "", err
	}
	member, err := resolveMember(s, memberRef)
	if err != nil {
		return nil, "", err
	}
	if member == s.Owner {
		return nil, "", api.Errorf(api.Conflict, "the owner of topic %q cannot be removed", s.Name)
	}
	key, err := nextKey(s)
	if err != nil {
		return nil, "", err
	}
	// The member's chain as we hold it without a gap stays acceptable
	// after the removal, pinned by its last envelope's ID, so that members
	// who missed some still get them by sync, and nothing else: not an
	// envelope planted at a far seq, not one signed later.
	lastSeq, lastID, err := n.contiguousHead(s.ID, member)
	if err != nil {
		return nil, "", err
	}
	next, err := n.writeEntry(ctx, t, protocol.EntryRemove, key, func(s *protocol.TopicState, e *protocol.LogEntry) error {
		r, err := s.NewRotate(key, member)
		e.Remove = &protocol.Remove{Member: member, Reason: reason, Rotate: r, LastSeq: lastSeq, LastID: lastID}
		return err
	})
	return next, member, err
}

// rotate starts a new epoch with a fresh key for the current members.
func (n *Node) rotate(ctx context.Context, t *topic) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "rotate its key"); err != nil {
		return nil, err
	}
	key, err := nextKey(s)
	if err != nil {
		return nil, err
	}
	return n.writeEntry(ctx, t, protocol.EntryRotate, key, func(s *protocol.TopicState, e *protocol.LogEntry) error {
		r, err := s.NewRotate(key, "")
		e.Rotate = &r
		return err
	})
}

// setRole grants or withdraws the admin role (owner only).
func (n *Node) setRole(ctx context.Context, t *topic, memberRef, role string) (*protocol.TopicState, string, error) {
	s, _ := t.snapshot()
	if s.Owner != n.id.MemberID() {
		return nil, "", api.Errorf(api.Forbidden, "only the owner of topic %q (%s) can change roles", s.Name, s.Owner)
	}
	if role != protocol.RoleAdmin && role != protocol.RoleMember {
		return nil, "", api.Errorf(api.Invalid, "role %q is not admin or member", role)
	}
	member, err := resolveMember(s, memberRef)
	if err != nil {
		return nil, "", err
	}
	next, err := n.writeEntry(ctx, t, protocol.EntryRole, nil, func(_ *protocol.TopicState, e *protocol.LogEntry) error {
		e.Role = &protocol.RoleChange{Member: member, Role: role}
		return nil
	})
	return next, member, err
}

// uninvite revokes a pending invitation by its nonce (hex, as printed by
// invite), so that its token can no longer be used.
func (n *Node) uninvite(ctx context.Context, t *topic, nonceHex string) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "revoke invitations"); err != nil {
		return nil, err
	}
	nonce, err := hex.DecodeString(strings.TrimSpace(nonceHex))
	if err != nil || len(nonce) != protocol.NonceLen {
		return nil, api.Errorf(api.Invalid, "nonce %q is not the %d-character hex nonce printed by `concord topic invite`", nonceHex, 2*protocol.NonceLen)
	}
	if err := nonceSettled(s, nonce); err != nil {
		return nil, err
	}
	next, err := n.writeEntry(ctx, t, protocol.EntryRevokeInvitation, nil, func(_ *protocol.TopicState, e *protocol.LogEntry) error {
		e.RevokeInvitation = &protocol.RevokeInvitation{Nonce: nonce}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := n.store.DeletePending(ctx, nonce); err != nil {
		n.log.Warn("forgetting a revoked invitation", "err", err)
	}
	return next, nil
}

// leave takes this member out of a topic of its own accord: the log
// records it and the epoch rotates to the remaining members.
func (n *Node) leave(ctx context.Context, t *topic, reason string) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	me := n.id.MemberID()
	if s.Owner == me {
		return nil, api.Errorf(api.Conflict, "the owner cannot leave topic %q", s.Name)
	}
	if err := notMember(s, me); err != nil {
		return nil, err
	}
	key, err := nextKey(s)
	if err != nil {
		return nil, err
	}
	// No publication of ours may slip in after the seq the entry records.
	t.publishing.Lock()
	defer t.publishing.Unlock()
	lastSeq, lastID, err := n.contiguousHead(s.ID, me)
	if err != nil {
		return nil, err
	}
	return n.writeEntry(ctx, t, protocol.EntryLeave, nil, func(s *protocol.TopicState, e *protocol.LogEntry) error {
		r, err := s.NewRotate(key, me)
		e.Leave = &protocol.Leave{Reason: reason, Rotate: r, LastSeq: lastSeq, LastID: lastID}
		return err
	})
}

// nonceSettled explains why an invitation already used or revoked cannot
// be revoked: the log would refuse the entry in its own words.
func nonceSettled(s *protocol.TopicState, nonce []byte) error {
	key := [protocol.NonceLen]byte(nonce)
	if idx, ok := s.RevokedNonces[key]; ok {
		return api.Errorf(api.Conflict, "invitation %x to topic %q was already revoked (log entry %d): nothing to do; its token cannot be used", nonce, s.Name, idx)
	}
	idx, ok := s.UsedNonces[key]
	if !ok {
		return nil
	}
	who := "a member"
	if e, err := protocol.DecodeEntry(s.Entries[idx]); err == nil && e.Card != nil {
		who = "member " + e.Card.ID
	}
	return api.Errorf(api.Conflict, "invitation %x to topic %q was already used: %s joined with it (log entry %d); to take them out, run `concord topic remove TOPIC MEMBER`", nonce, s.Name, who, idx)
}

// notMember explains why me, no longer a member of s, cannot leave it.
func notMember(s *protocol.TopicState, me string) error {
	if _, ok := s.Members[me]; ok {
		return nil
	}
	idx, ok := s.Removed[me]
	if !ok {
		return api.Errorf(api.Conflict, "this member does not belong to topic %q: nothing to leave", s.Name)
	}
	if e, err := protocol.DecodeEntry(s.Entries[idx]); err == nil && e.Type == protocol.EntryLeave {
		return api.Errorf(api.Conflict, "this member already left topic %q (log entry %d): nothing to do; the bulletins held here stay readable (`concord list --topic TOPIC`)", s.Name, idx)
	}
	return api.Errorf(api.Conflict, "this member was removed from topic %q (log entry %d), so it cannot leave it: nothing to do; the bulletins held here stay readable, and an admin can invite it back", s.Name, idx)
}

// contiguousHead returns the highest seq up to which we hold every
// envelope of author on a topic, and that envelope's ID (nil for none):
// what a remove or leave entry pins.
func (n *Node) contiguousHead(topic [32]byte, author string) (uint64, []byte, error) {
	vv, err := n.store.VersionVector(topic)
	if err != nil || vv[author] == 0 {
		return 0, nil, err
	}
	id, err := n.store.EnvelopeAt(topic, author, vv[author])
	if err != nil {
		return 0, nil, err
	}
	return vv[author], id[:], nil
}

// resolveMember finds a current member by ID, unique ID prefix (4+
// characters) or the country code of exactly one member.
func resolveMember(s *protocol.TopicState, ref string) (string, error) {
	ids, err := resolveMembersAs(s, []string{ref}, "member")
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// resolveMembers turns audience references (member IDs, unique prefixes,
// or country codes held by exactly one member) into member IDs.
func resolveMembers(s *protocol.TopicState, refs []string) ([]string, error) {
	return resolveMembersAs(s, refs, "audience")
}

// resolveMembersAs resolves refs among the current members of s, naming
// the references as what in its errors.
func resolveMembersAs(s *protocol.TopicState, refs []string, what string) ([]string, error) {
	cards := map[string]*crypto.Card{}
	for _, id := range s.CurrentMembers() {
		cards[id] = s.Members[id].Card
	}
	var out []string
	for _, ref := range refs {
		id, err := matchMember(cards, ref, what, fmt.Sprintf("current member of topic %q", s.Name))
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// resolveOriginator resolves a list --originator reference among every
// member, current or former, of topic t, or of all this node's topics
// when t is nil: a former member's bulletins stay listed.
func (n *Node) resolveOriginator(ref string, t *topic) (string, error) {
	topics, where := n.allTopics(), "member of any topic on this node"
	if t != nil {
		s, _ := t.snapshot()
		topics, where = []*topic{t}, fmt.Sprintf("member of topic %q, current or former", s.Name)
	}
	cards := map[string]*crypto.Card{}
	for _, t := range topics {
		s, _ := t.snapshot()
		for _, id := range s.CurrentMembers() {
			cards[id] = s.Members[id].Card
		}
		for id := range s.Removed {
			if c := s.Card(id); c != nil {
				cards[id] = c
			}
		}
	}
	return matchMember(cards, ref, "originator", where)
}

// matchMember is the one resolver of what a user names as a member: a
// member ID, a unique prefix of 4 or more characters, or the country code
// of exactly one of cards, all case-insensitive. what names the
// reference and where the candidates, in its errors.
func matchMember(cards map[string]*crypto.Card, ref, what, where string) (string, error) {
	ref = strings.TrimSpace(ref)
	lower := strings.ToLower(ref)
	var matches []string
	for id, c := range cards {
		if id == lower {
			return id, nil
		}
		if (len(ref) >= 4 && strings.HasPrefix(id, lower)) || strings.EqualFold(c.Country, ref) {
			matches = append(matches, id)
		}
	}
	slices.Sort(matches)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", api.Errorf(api.NotFound, "%s %q matches no %s: give a member ID, a unique prefix of 4 characters or more, or the country code of one member (see `concord topic members TOPIC`)", what, ref, where)
	}
	names := make([]string, len(matches))
	for i, id := range matches {
		names[i] = fmt.Sprintf("%s (%s, %s)", id, cards[id].Name, cards[id].Country)
	}
	return "", api.Errorf(api.Invalid, "%s %q matches %d members: %s; give a member ID or a longer prefix", what, ref, len(matches), strings.Join(names, ", "))
}
