package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// resolveFork fetches p's whole copy of t's log and, if the fork rule
// (protocol.ResolveFork) prefers it to ours, adopts it. Two admins who
// wrote at the same index thus end, on every node, with the same log.
//
// Only a current member's node is asked, one resolution runs at a time per
// topic and one starts at most every forkInterval, and the log fetched is
// bounded in entries and bytes (see fetchWholeLog).
func (n *Node) resolveFork(t *topic, p peer.ID) error {
	state, _ := t.snapshot()
	if _, member := state.PeerMember(p); !member {
		return fmt.Errorf("not resolving a fork of topic %s with %s: it is not a current member's node", state.ID.Short(), p)
	}
	done, ok := n.guard.startFork(state.ID)
	if !ok {
		return fmt.Errorf("a fork resolution of topic %s ran less than %s ago or is running; the next sync retries", state.ID.Short(), forkInterval)
	}
	defer done()
	theirs, err := n.fetchWholeLog(state.ID, p, logBytes(state.Entries)+maxForkGrowth)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	winner, at, err := protocol.ResolveFork(t.state.Entries, theirs)
	if err != nil {
		return fmt.Errorf("resolving the log fork with %s: %w", p, err)
	}
	if len(winner) == int(t.state.Len) && (at == t.state.Len || sameEntry(winner, t.state.Entries, at)) {
		return nil // ours wins: p will adopt it when it hears from us
	}
	next, err := protocol.Replay(winner)
	if err != nil {
		return err
	}
	keys := n.keysFor(next, t.keys)
	texts := map[uint64]string{}
	for e, k := range keys {
		texts[e] = k.String()
	}
	if err := n.store.ReplaceTopic(n.ctx, store.TopicRecord{ID: next.ID, Joined: t.joined}, next.Entries, texts); err != nil {
		return err
	}
	n.log.Warn("topic log fork resolved: adopted the other branch", "topic", next.ID.String(), "fork_index", at,
		"discarded", t.state.Len-at, "peer", p)
	t.state, t.keys = next, keys
	n.dialMembers(next)
	return nil
}

func sameEntry(a, b [][]byte, i uint64) bool {
	return i < uint64(len(a)) && i < uint64(len(b)) && string(a[i]) == string(b[i])
}

// maxForkGrowth is how many bytes the other branch of a fork may hold
// beyond our whole log: a fork settles concurrent admin writes, so the
// branches differ by a few entries, not by megabytes.
const maxForkGrowth = 8 << 20

func logBytes(entries [][]byte) int {
	size := 0
	for _, e := range entries {
		size += len(e)
	}
	return size
}

// fetchWholeLog asks p for its copy of a topic log from genesis on, of at
// most maxJoinLog entries and maxBytes bytes.
func (n *Node) fetchWholeLog(id protocol.TopicID, p peer.ID, maxBytes int) ([][]byte, error) {
	var entries [][]byte
	size := 0
	for {
		resp, err := n.askSync(p, SyncRequest{Kind: syncKindLog, Topic: id[:], From: uint64(len(entries))})
		if err != nil {
			return nil, err
		}
		if resp.Error != "" {
			return nil, fmt.Errorf("peer %s refused log sync: %s", p, resp.Error)
		}
		entries = append(entries, resp.Entries...)
		size += logBytes(resp.Entries)
		if len(entries) > maxJoinLog || size > maxBytes {
			n.guard.strike(p)
			return nil, fmt.Errorf("peer %s's copy of topic log %s exceeds %d entries or %d bytes: not resolving the fork with it", p, id.Short(), maxJoinLog, maxBytes)
		}
		if !resp.More || len(resp.Entries) == 0 {
			return entries, nil
		}
	}
}

// keysFor returns the epoch keys this member holds for state: those it
// already had whose recipient is the epoch's in the log, and those the log
// wraps to it.
func (n *Node) keysFor(state *protocol.TopicState, have map[uint64]*crypto.EpochKey) map[uint64]*crypto.EpochKey {
	keys := map[uint64]*crypto.EpochKey{}
	for _, info := range state.Epochs {
		if k := have[info.Epoch]; k != nil && k.Recipient().String() == info.Recipient {
			keys[info.Epoch] = k
			continue
		}
		if k, err := n.unwrapEpoch(state, info.Epoch); err == nil && k != nil {
			keys[info.Epoch] = k
		}
	}
	return keys
}

// unwrapEpoch unwraps the key of epoch that the log wraps to this member
// and checks it is the key the log announces for that epoch. It returns
// nil, nil when the log wraps no key to us.
func (n *Node) unwrapEpoch(state *protocol.TopicState, epoch uint64) (*crypto.EpochKey, error) {
	wrapped := state.WrappedKeyFor(n.id.MemberID(), epoch)
	if wrapped == nil {
		return nil, nil
	}
	k, err := crypto.UnwrapEpochKey(epoch, wrapped, n.id.Age)
	if err != nil {
		return nil, fmt.Errorf("unwrapping the key of epoch %d: %w", epoch, err)
	}
	info, ok := state.EpochInfoFor(epoch)
	if !ok || k.Recipient().String() != info.Recipient {
		return nil, fmt.Errorf("the key wrapped to us for epoch %d is not the epoch's key announced in the log", epoch)
	}
	return k, nil
}
