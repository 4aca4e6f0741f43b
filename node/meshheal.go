package node

import (
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/protocol"
)

// GossipSub learns a peer's subscriptions once, when the peer's stream
// opens, and forgets them when its own stream to the peer dies. When a
// connection closes as another to the same peer opens (a dial the other
// side's gater refused a moment before it learned of us, then its own
// dial), GossipSub may keep the stale peer entry and never hear the
// subscriptions again: the nodes stay connected, but neither counts the
// other on the topic, and nothing is forwarded between them. So a member's
// node that is connected yet missing from a topic's GossipSub peers at
// meshMissedChecks checks in a row (longer than a join takes to subscribe)
// is disconnected and dialed again, which makes both sides announce their
// subscriptions afresh.
const (
	meshCheckEvery   = 5 * time.Second
	meshMissedChecks = 3
	meshRedialAfter  = time.Minute // at most one reconnection per peer this often
)

// meshHealer remembers, between checks, the peers found missing.
type meshHealer struct {
	mu       sync.Mutex
	missing  map[peer.ID]int       // consecutive checks that found it missing
	redialed map[peer.ID]time.Time // last reconnection
}

// meshLoop checks the topics' GossipSub peers every meshCheckEvery.
func (n *Node) meshLoop() {
	n.every(meshCheckEvery, func() { n.healMesh(time.Now()) })
}

// healMesh reconnects the member nodes missing from a topic's GossipSub
// peers at meshMissedChecks checks in a row.
func (n *Node) healMesh(now time.Time) {
	missing := n.missingTopicPeers()
	h := &n.mesh
	h.mu.Lock()
	if h.redialed == nil {
		h.redialed = map[peer.ID]time.Time{}
	}
	var redial []peer.ID
	counts := map[peer.ID]int{}
	for p := range missing {
		counts[p] = h.missing[p] + 1
		if counts[p] >= meshMissedChecks && now.Sub(h.redialed[p]) >= meshRedialAfter {
			redial = append(redial, p)
			h.redialed[p], counts[p] = now, 0
		}
	}
	for p, at := range h.redialed {
		if now.Sub(at) >= meshRedialAfter {
			delete(h.redialed, p)
		}
	}
	h.missing = counts
	h.mu.Unlock()
	for _, p := range redial {
		n.log.Info("member node connected but not a GossipSub peer on its topic; reconnecting", "peer", p)
		n.metrics.meshRedials.Inc()
		n.host.Network().ClosePeer(p)
	}
	if len(redial) > 0 {
		n.dialAllMembers()
	}
}

// missingTopicPeers lists the connected nodes of current members that
// GossipSub does not count as peers on one of their topics' channels.
func (n *Node) missingTopicPeers() map[peer.ID]bool {
	out := map[peer.ID]bool{}
	connected := n.host.Network().Peers()
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		for _, name := range []string{protocol.TopicString(s.Category, s.ID), protocol.LogTopicString(s.Category, s.ID)} {
			subscribed := n.ps.ListPeers(name)
			for _, p := range connected {
				if _, member := s.PeerMember(p); member && !slices.Contains(subscribed, p) {
					out[p] = true
				}
			}
		}
	}
	return out
}
