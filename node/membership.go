package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// DefaultInvitationTTL is how long an invitation stays valid by default.
const DefaultInvitationTTL = 72 * time.Hour

// CreateTopic writes a new topic's genesis and first rotate, stores them
// and joins the topic's GossipSub topics.
func (n *Node) CreateTopic(ctx context.Context, category, name string, policy protocol.Policy) (*protocol.TopicState, error) {
	if _, err := protocol.LookupCategory(category); err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	for _, t := range n.allTopics() {
		if s, _ := t.snapshot(); s.Name == name {
			return nil, api.Errorf(api.Conflict, "this node already belongs to a topic named %q (%s); choose another name", name, s.ID.Short())
		}
	}
	card, err := n.Card()
	if err != nil {
		return nil, err
	}
	now := n.now()
	genesis, err := protocol.NewGenesis(n.id, card, category, name, policy, now)
	if err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	state, err := protocol.NewTopicState(genesis)
	if err != nil {
		return nil, err
	}
	key, err := crypto.GenerateEpochKey(1)
	if err != nil {
		return nil, err
	}
	if err := n.appendEntry(state, protocol.EntryRotate, now, func(e *protocol.LogEntry) error {
		r, err := state.NewRotate(key, "")
		e.Rotate = &r
		return err
	}); err != nil {
		return nil, err
	}
	keys := map[uint64]*crypto.EpochKey{1: key}
	if err := n.saveTopic(ctx, state, 0, keys, now); err != nil {
		return nil, err
	}
	n.log.Info("topic created", "topic", state.ID.String(), "category", category, "name", name)
	return state, n.attach(&topic{state: state, keys: keys, joined: now})
}

// appendEntry builds the next entry of state as this member, lets fill
// set its payload, signs it and applies it to state.
func (n *Node) appendEntry(state *protocol.TopicState, typ string, now time.Time, fill func(*protocol.LogEntry) error) error {
	e := state.NextEntry(n.id.MemberID(), typ, now)
	if err := fill(e); err != nil {
		return err
	}
	raw, err := protocol.SignEntry(n.id, e)
	if err != nil {
		return err
	}
	return state.Apply(raw)
}

// invite issues an invitation for the member of card to join topic t.
func (n *Node) invite(ctx context.Context, t *topic, card *crypto.Card, role string, ttl time.Duration) (*crypto.Invitation, error) {
	return n.inviteWith(ctx, t, card, role, ttl, "")
}

// inviteWith is invite with a history policy for this invitee alone
// (empty: the topic's, when the invitee joins).
func (n *Node) inviteWith(ctx context.Context, t *topic, card *crypto.Card, role string, ttl time.Duration, history string) (*crypto.Invitation, error) {
	if err := checkHistory(history); err != nil {
		return nil, err
	}
	state, _ := t.snapshot()
	me := n.id.MemberID()
	if !state.IsAdmin(me) {
		return nil, api.Errorf(api.Forbidden, "only an admin of topic %q can invite; ask its owner %s", state.Name, state.Owner)
	}
	if _, ok := state.Members[card.ID]; ok {
		return nil, api.Errorf(api.Conflict, "member %s (%s, %s) is already a member of topic %q", card.ID, card.Name, card.Country, state.Name)
	}
	mine, err := n.Card()
	if err != nil {
		return nil, err
	}
	inv, err := crypto.NewInvitation(n.id, mine.Nodes, card, state.ID, state.Category, state.Name,
		state.Head, state.Len-1, role, ttl, n.now())
	if err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	pending := storePending(state.ID, inv)
	pending.History = history
	if err := n.store.PutPending(ctx, inv.Nonce, pending); err != nil {
		return nil, err
	}
	n.log.Info("invitation issued", "topic", state.ID.String(), "invitee", card.ID, "nonce", inv.NonceHex(), "expires", inv.Expires)
	return inv, nil
}

// acceptJoin admits the invitee of inv, who presented card and proof over
// a connection from peer remote: it appends the add entry (with the
// current epoch key wrapped to the newcomer), stores and announces it, and
// returns the whole log.
func (n *Node) acceptJoin(ctx context.Context, inv *crypto.Invitation, card *crypto.Card, proof []byte, remote string) ([][]byte, error) {
	if inv.Inviter.ID != n.id.MemberID() {
		return nil, fmt.Errorf("this invitation was issued by member %s, not by this node's member", inv.Inviter.ID)
	}
	t := n.topicByID(inv.TopicID())
	if t == nil {
		return nil, fmt.Errorf("this node no longer belongs to topic %x…", inv.Topic[:6])
	}
	pending, err := n.store.Pending(inv.Nonce)
	if err != nil {
		return nil, fmt.Errorf("invitation %s is unknown here or was already used or revoked; ask for a new one", inv.NonceHex())
	}
	if err := inv.CheckFor(card, n.now()); err != nil {
		return nil, err
	}
	if remote != inv.Invitee.Peer {
		return nil, fmt.Errorf("%w: it is for node %s, but was presented by node %s", crypto.ErrNotInvitee, inv.Invitee.Peer, remote)
	}
	if err := crypto.VerifyJoin(card, inv, proof); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	next := t.state.Clone()
	if t.keys[next.Epoch] == nil {
		return nil, fmt.Errorf("this node lacks the key of epoch %d of topic %q", next.Epoch, next.Name)
	}
	// The history granted: the invitation's override, else the policy.
	history := cmp.Or(pending.History, next.HistoryOf())
	var newKey *crypto.EpochKey
	err = n.appendEntry(next, protocol.EntryAdd, n.now(), func(e *protocol.LogEntry) error {
		e.Add = &protocol.Add{Card: card.Raw, Role: inv.Role, Nonce: inv.Nonce}
		newKey, err = grantAdd(next, t.keys, e.Add, card, history)
		return err
	})
	if err != nil {
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
	t.state, t.keys = next, keys
	if err := n.store.DeletePending(ctx, inv.Nonce); err != nil {
		n.log.Warn("could not forget a used invitation", "nonce", inv.NonceHex(), "err", err)
	}
	n.announce(t, next.Entries[next.Len-1])
	n.log.Info("member joined", "topic", next.ID.String(), "member", card.ID, "name", card.Name, "country", card.Country, "history", history)
	return next.Entries, nil
}

// announce publishes a log entry on the topic's log channel.
func (n *Node) announce(t *topic, raw []byte) {
	if err := t.log.Publish(n.ctx, raw); err != nil {
		n.log.Warn("announcing log entry", "err", err)
	}
}

// completeJoin installs a topic whose log the inviter sent back after a
// join: replays it, checks we are in it and unwraps the current epoch key.
func (n *Node) completeJoin(ctx context.Context, inv *crypto.Invitation, entries [][]byte) (*protocol.TopicState, error) {
	state, err := protocol.Replay(entries)
	if err != nil {
		return nil, fmt.Errorf("the inviter sent a topic log that does not verify: %w", err)
	}
	if state.ID != inv.TopicID() {
		return nil, errors.New("the inviter sent the log of another topic")
	}
	me := n.id.MemberID()
	if _, ok := state.Members[me]; !ok {
		return nil, errors.New("the inviter's topic log does not add this member")
	}
	key, err := n.unwrapEpoch(state, state.Epoch)
	if err != nil || key == nil {
		return nil, fmt.Errorf("the inviter's log gives this member no usable key for epoch %d: %v", state.Epoch, err)
	}
	// With history all, the add wraps earlier epochs' keys to us too.
	keys := n.keysFor(state, nil)
	if t := n.topicByID(state.ID); t != nil {
		return state, n.rejoin(ctx, t, state, keys)
	}
	now := n.now()
	if err := n.saveTopic(ctx, state, 0, keys, now); err != nil {
		return nil, err
	}
	n.log.Info("joined topic", "topic", state.ID.String(), "category", state.Category, "name", state.Name, "epoch", state.Epoch)
	return state, n.attach(&topic{state: state, keys: keys, joined: now})
}

// rejoin installs the log of a topic this node was removed from and has
// been invited back to; it keeps the keys of the epochs it could read.
func (n *Node) rejoin(ctx context.Context, t *topic, state *protocol.TopicState, granted map[uint64]*crypto.EpochKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := cloneKeys(t.keys)
	maps.Copy(keys, granted)
	if err := n.saveTopic(ctx, state, 0, keys, t.joined); err != nil {
		return err
	}
	t.state, t.keys = state, keys
	n.log.Info("rejoined topic", "topic", state.ID.String(), "name", state.Name, "epoch", state.Epoch)
	n.dialMembers(state)
	return nil
}

// applyEntry applies a log entry received from the network to its topic:
// stores it, unwraps a new epoch key addressed to us, and dials members
// who were added. Duplicates are reported with protocol.ErrDuplicateEntry.
func (n *Node) applyEntry(ctx context.Context, t *topic, raw []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := t.state.Clone()
	if err := next.Apply(raw); err != nil {
		return err
	}
	keys := t.keys
	if next.Epoch != t.state.Epoch {
		// A key that does not unwrap is the writing admin's fault, not the
		// entry's: membership still changes, and we lack that epoch's key.
		k, err := n.unwrapEpoch(next, next.Epoch)
		if err != nil {
			n.log.Error("no key for the new epoch", "topic", next.ID.String(), "epoch", next.Epoch, "err", err)
		}
		if k != nil {
			keys = cloneKeys(keys)
			keys[next.Epoch] = k
		}
	}
	if err := n.saveTopic(ctx, next, next.Len-1, keys, t.joined); err != nil {
		return localError{err}
	}
	old := t.state
	t.state, t.keys = next, keys
	n.dropFormerPeers(old, next)
	n.dialMembers(next)
	n.spawn(func() { n.purgeFormers(n.ctx, t) })
	return nil
}

// formerPeerGrace is how long a former member's node stays connected
// after the entry that ended its membership, so that it learns of it.
const formerPeerGrace = 5 * time.Second

// dropFormerPeers closes the connections of the nodes of members that old
// had and next has not, once no topic we share admits them any more: the
// gater refuses them at the handshake, and an open connection must not
// outlive that.
func (n *Node) dropFormerPeers(old, next *protocol.TopicState) {
	var gone []peer.ID
	for id, m := range old.Members {
		if _, still := next.Members[id]; !still {
			gone = append(gone, m.Card.PeerIDs()...)
		}
	}
	if len(gone) == 0 {
		return
	}
	n.spawn(func() { // admits reads every topic: not under this one's lock
		// A moment first, for the entry to reach the former member.
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(formerPeerGrace):
		}
		for _, p := range gone {
			if p != n.host.ID() && !n.admits(p) {
				n.log.Info("closing the connections of a former member's node: it shares no topic with us any more", "peer", p)
				n.host.Network().ClosePeer(p)
			}
		}
	})
}

func cloneKeys(m map[uint64]*crypto.EpochKey) map[uint64]*crypto.EpochKey {
	out := make(map[uint64]*crypto.EpochKey, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// localError marks a failure of this node (its disk), not of the input.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }
