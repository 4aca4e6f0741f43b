package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/concordnet/concord/crypto"
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
	if err := n.appendEntry(next, typ, time.Now(), func(e *protocol.LogEntry) error { return fill(next, e) }); err != nil {
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
	n.log.Info("topic log entry written", "topic", next.ID.String(), "type", typ, "index", next.Len-1, "epoch", next.Epoch)
	return next, nil
}

// requireAdmin returns a clear error unless this member administers s.
func (n *Node) requireAdmin(s *protocol.TopicState, action string) error {
	if !s.IsAdmin(n.id.MemberID()) {
		return fmt.Errorf("only an admin of topic %q can %s; its owner is %s", s.Name, action, s.Owner)
	}
	return nil
}

// nextKey generates the key of the epoch after s's current one.
func nextKey(s *protocol.TopicState) (*crypto.EpochKey, error) {
	return crypto.GenerateEpochKey(s.Epoch + 1)
}

// Remove expels a member and rotates to a new epoch whose key is wrapped
// to the remaining members only.
func (n *Node) Remove(ctx context.Context, t *topic, memberRef, reason string) (*protocol.TopicState, string, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "remove members"); err != nil {
		return nil, "", err
	}
	member, err := resolveMember(s, memberRef)
	if err != nil {
		return nil, "", err
	}
	if member == s.Owner {
		return nil, "", fmt.Errorf("the owner of topic %q cannot be removed", s.Name)
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

// Rotate starts a new epoch with a fresh key for the current members.
func (n *Node) Rotate(ctx context.Context, t *topic) (*protocol.TopicState, error) {
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

// SetRole grants or withdraws the admin role (owner only).
func (n *Node) SetRole(ctx context.Context, t *topic, memberRef, role string) (*protocol.TopicState, string, error) {
	s, _ := t.snapshot()
	if s.Owner != n.id.MemberID() {
		return nil, "", fmt.Errorf("only the owner of topic %q (%s) can change roles", s.Name, s.Owner)
	}
	if role != protocol.RoleAdmin && role != protocol.RoleMember {
		return nil, "", fmt.Errorf("role %q is not admin or member", role)
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

// Uninvite revokes a pending invitation by its nonce (hex, as printed by
// invite), so that its token can no longer be used.
func (n *Node) Uninvite(ctx context.Context, t *topic, nonceHex string) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "revoke invitations"); err != nil {
		return nil, err
	}
	nonce, err := hex.DecodeString(strings.TrimSpace(nonceHex))
	if err != nil || len(nonce) != protocol.NonceLen {
		return nil, fmt.Errorf("nonce %q is not the %d-character hex nonce printed by `concord topic invite`", nonceHex, 2*protocol.NonceLen)
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

// Leave takes this member out of a topic of its own accord: the log
// records it and the epoch rotates to the remaining members.
func (n *Node) Leave(ctx context.Context, t *topic, reason string) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	me := n.id.MemberID()
	if s.Owner == me {
		return nil, fmt.Errorf("the owner cannot leave topic %q", s.Name)
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
