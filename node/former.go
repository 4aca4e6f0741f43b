package node

import (
	"context"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// purgeFormers drops, for each former member of t, the envelopes this
// node holds above the seq its removal or leave pinned. A member cut off
// from the remover keeps accepting the removed member's envelopes until
// the removal reaches it; the remover and the members it reached first
// refuse them. Dropping them when the removal applies makes every member
// hold the same log whatever arrived first: nothing published after the
// removal is readable, and version vectors agree. This node's own
// envelopes are kept: should it be invited back, they continue its chain.
// Idempotent and cheap when there is nothing to drop (one seek per
// former member): run when a membership entry applies, when a topic loads
// and after each periodic sync, which closes the window where an envelope
// checked before the removal applied is stored after this ran.
func (n *Node) purgeFormers(ctx context.Context, t *topic) {
	state, keys := t.snapshot()
	if len(state.LastSeqs) == 0 {
		return
	}
	n.purgeMu.Lock() // one at a time: each reads what the last one left
	defer n.purgeMu.Unlock()
	for author, pin := range state.LastSeqs {
		if author == n.id.MemberID() {
			continue
		}
		if err := n.purgeFormer(ctx, state, keys, author, pin); err != nil {
			n.log.Error("dropping a former member's envelopes beyond its removal", "topic", state.ID.String(), "member", author, "err", err)
		}
	}
}

// purgeFormer drops author's envelopes above pin and rebuilds the records
// they touched from the envelopes that remain.
func (n *Node) purgeFormer(ctx context.Context, state *protocol.TopicState, keys map[uint64]*crypto.EpochKey, author string, pin uint64) error {
	beyond, err := n.store.Beyond(state.ID, author, pin)
	if err != nil || len(beyond.Envelopes) == 0 {
		return err
	}
	rebuilt := make(map[string][]*store.BulletinRecord, len(beyond.Records))
	for _, rec := range beyond.Records {
		parts, err := n.keptParts(state, keys, rec, beyond.Envelopes)
		if err != nil {
			return err
		}
		rebuilt[rec.ID] = parts
	}
	deleted, err := n.store.Purge(ctx, state.ID, author, pin, rebuilt)
	if err != nil {
		return err
	}
	n.log.Warn("dropped a former member's envelopes published after its removal", "topic", state.ID.String(),
		"member", author, "pinned_seq", pin, "keys_deleted", deleted, "records_changed", len(rebuilt))
	n.notify()
	return nil
}

// keptParts reopens the envelopes of rec's history that are not in gone
// and returns the record each makes alone, for the store to merge again.
func (n *Node) keptParts(state *protocol.TopicState, keys map[uint64]*crypto.EpochKey, rec store.BulletinRecord, gone map[[32]byte]uint64) ([]*store.BulletinRecord, error) {
	var parts []*store.BulletinRecord
	for _, h := range rec.History {
		if _, dropped := gone[h.Envelope]; dropped {
			continue
		}
		raw, err := n.store.Envelope(h.Envelope)
		if err != nil {
			return nil, err
		}
		env, err := protocol.DecodeEnvelope(raw)
		if err != nil {
			return nil, err
		}
		part, _, err := n.open(state, keys, env, n.now())
		if err != nil {
			n.log.Warn("a kept envelope no longer opens; its version is left out", "envelope", env.ID.String(), "err", err)
			continue
		}
		if part != nil {
			part.Received = rec.Received
			parts = append(parts, part)
		}
	}
	return parts, nil
}
