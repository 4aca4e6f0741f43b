package node

import (
	"maps"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Hooks for simulations and benchmarks that run many nodes in one
// process (concord-bench's un scenario). A daemon never uses them.

// ExtraHostOptions are appended to the libp2p options of every node this
// process starts afterwards, e.g. a bandwidth reporter. Nil in a daemon.
var ExtraHostOptions []libp2p.Option

// PeerID returns the libp2p peer ID of this node.
func (n *Node) PeerID() peer.ID { return n.host.ID() }

// PartitionFrom cuts this node off peers: their connections are closed
// and new ones refused, either way, until HealPartition. It simulates a
// network partition; call it on both sides.
func (n *Node) PartitionFrom(peers []peer.ID) {
	for _, p := range peers {
		n.blocked.Store(p, struct{}{})
		n.host.Network().ClosePeer(p)
	}
}

// HealPartition undoes PartitionFrom. The member loop reconnects within
// its period; DialMembers does at once. Heal both sides before dialing:
// a dial the other side still refuses backs off as any failed dial does.
func (n *Node) HealPartition() { n.blocked.Clear() }

// DialMembers dials the member nodes of every topic that are not
// connected and not backing off, as the member loop does every 30 s.
func (n *Node) DialMembers() { n.dialAllMembers() }

// ConnectedPeers is how many peers the node holds connections with.
func (n *Node) ConnectedPeers() int { return len(n.host.Network().Peers()) }

// VersionVector returns, for a topic, each author's highest sequence
// number up to which this node holds every envelope: two nodes with equal
// vectors hold the same envelopes of the topic.
func (n *Node) VersionVector(topicRef string) (map[string]uint64, error) {
	t, err := n.resolveTopic(topicRef)
	if err != nil {
		return nil, err
	}
	s, _ := t.snapshot()
	vv, err := n.store.VersionVector(s.ID)
	return maps.Clone(vv), err
}
