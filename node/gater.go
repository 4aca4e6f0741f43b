package node

import (
	"fmt"
	"regexp"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
)

// gater is the connection gater: an inbound connection is admitted only
// from the node of a member that shares a topic with us, a peer the
// config names (network.allow, network.bootstrap), or the node of an
// invitee whose invitation is pending. Everyone else is refused right
// after the security handshake, when the remote peer ID is proven.
// Outbound connections are ours to choose and are not gated.
type gater struct{ n *Node }

func (g gater) InterceptPeerDial(peer.ID) bool               { return true }
func (g gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }
func (g gater) InterceptAccept(network.ConnMultiaddrs) bool  { return true }
func (g gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

func (g gater) InterceptSecured(dir network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	if g.n.cutOff(p) {
		return false
	}
	if dir == network.DirOutbound || g.n.admits(p) {
		return true
	}
	g.n.metrics.refused.Inc()
	g.n.log.Debug("connection refused: not a member, configured peer or invitee", "peer", p)
	return false
}

// admits reports whether an inbound connection from p is allowed.
func (n *Node) admits(p peer.ID) bool {
	if n.allowed[p] {
		return true
	}
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		if _, ok := s.PeerMember(p); ok {
			return true
		}
	}
	pending, err := n.store.AllPending()
	if err != nil {
		n.log.Error("reading pending invitations", "err", err)
		return false
	}
	now := time.Now()
	for _, inv := range pending {
		if inv.Peer == p.String() && now.Before(inv.Expires) {
			return true
		}
	}
	return false
}

// allowedPeers collects the peer IDs the config admits unconditionally.
func allowedPeers(cfg Config) map[peer.ID]bool {
	out := map[peer.ID]bool{}
	for _, s := range cfg.Network.Allow {
		if id, err := peer.Decode(s); err == nil {
			out[id] = true
		}
	}
	for _, s := range cfg.Network.Bootstrap {
		if info, err := peer.AddrInfoFromString(s); err == nil {
			out[info.ID] = true
		}
	}
	return out
}

// subscriptionFilter keeps GossipSub to Concord topics. We subscribe only
// to the topics we hold. Of a peer's subscriptions we track only
// well-formed Concord topic names, at most maxPeerSubscriptions an RPC:
// GossipSub announces a subscription once, so one that arrives before we
// join the topic (an admin creating a topic with members already
// connected) must be remembered, or that peer would never count as a
// topic peer. Messages on topics we do not hold are dropped by GossipSub.
type subscriptionFilter struct{ n *Node }

const maxPeerSubscriptions = 512

var concordTopicName = regexp.MustCompile(`^/concord/1/[a-z0-9-]{1,64}/[0-9a-f]{64}(/log)?$`)

func (f subscriptionFilter) CanSubscribe(topic string) bool {
	f.n.topicsMu.RLock()
	defer f.n.topicsMu.RUnlock()
	return f.n.pubsubNames[topic]
}

func (f subscriptionFilter) FilterIncomingSubscriptions(from peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	if f.n.deafSubs.Load() {
		return nil, nil
	}
	if len(subs) > maxPeerSubscriptions {
		return nil, fmt.Errorf("peer %s announced %d subscriptions in one RPC, more than %d", from, len(subs), maxPeerSubscriptions)
	}
	return pubsub.FilterSubscriptions(subs, concordTopicName.MatchString), nil
}

// cutOff reports whether tests partitioned p away from this node.
func (n *Node) cutOff(p peer.ID) bool {
	if n.isolated.Load() {
		return true
	}
	_, blocked := n.blocked.Load(p)
	return blocked
}
