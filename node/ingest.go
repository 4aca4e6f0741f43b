package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Envelopes returns the envelopes this node holds for a topic (ID, unique
// ID prefix or name), exactly as received, by author and sequence number.
func (n *Node) Envelopes(topicRef string) ([][]byte, error) {
	t, err := n.resolveTopic(topicRef)
	if err != nil {
		return nil, err
	}
	s, _ := t.snapshot()
	return n.store.TopicEnvelopes(s.ID)
}

// ErrDuplicate reports an envelope the node already holds.
var ErrDuplicate = errors.New("envelope already stored")

// Ingest runs an envelope received by other means than GossipSub (a
// file, a benchmark, sync) through the same validation, decryption and
// durable storage as gossip.
func (n *Node) Ingest(ctx context.Context, raw []byte) error {
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		return err
	}
	t := n.topicByID(env.TopicID())
	if t == nil {
		return fmt.Errorf("envelope %s is for a topic this node does not belong to", env.ID.Short())
	}
	res, err := n.ingest(ctx, t, env)
	switch {
	case err != nil:
		n.metrics.rejected.WithLabelValues("envelope", protocol.RejectionReason(err)).Inc()
		return err
	case res == store.Duplicate:
		return ErrDuplicate
	}
	return nil
}
