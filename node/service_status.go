package node

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// Status reports the node's state.
func (s *Service) Status(context.Context) (api.Status, error) {
	n := s.n
	count, err := n.store.CountBulletins()
	if err != nil {
		return api.Status{}, classify(api.Internal, err)
	}
	evidence, err := n.store.Equivocations()
	if err != nil {
		return api.Status{}, classify(api.Internal, err)
	}
	equivocations := []api.Equivocation{}
	for _, e := range evidence {
		equivocations = append(equivocations, api.Equivocation{Topic: protocol.TopicID(e.Topic).String(),
			Author: e.Author, Seq: e.Seq, Envelope: protocol.EnvelopeID(e.Envelope).String()})
	}
	return api.Status{
		MemberID:      n.id.MemberID(),
		PeerID:        n.host.ID().String(),
		Name:          n.cfg.Member.Name,
		Country:       n.cfg.Member.Country,
		Addrs:         n.Addrs(),
		Version:       Version(),
		Started:       n.started.UTC(),
		Uptime:        time.Since(n.started).Round(time.Second).String(),
		Peers:         len(n.host.Network().Peers()),
		Topics:        len(n.allTopics()),
		Bulletins:     count,
		Equivocations: equivocations,
		Sync:          n.syncStatus(),
		Disk:          n.diskStatus(),
	}, nil
}

// Identity returns who the node is, with its card.
func (s *Service) Identity(context.Context) (api.Identity, error) {
	card, err := s.n.Card()
	if err != nil {
		return api.Identity{}, classify(api.Internal, err)
	}
	return IdentityOf(card), nil
}

// IdentityOf renders a card as the API's identity object.
func IdentityOf(card *crypto.Card) api.Identity {
	var addrs []string
	for _, nd := range card.Nodes {
		addrs = append(addrs, nd.Addrs...)
	}
	return api.Identity{
		MemberID:  card.ID,
		PeerID:    card.Nodes[0].Peer,
		Recipient: card.Age,
		Name:      card.Name,
		Country:   card.Country,
		Addrs:     addrs,
		Card:      card.Armor(),
	}
}

// Peers lists the connected peers, by peer ID.
func (s *Service) Peers(context.Context) ([]api.Peer, error) {
	n := s.n
	peers := []api.Peer{}
	for _, id := range n.host.Network().Peers() {
		conns := n.host.Network().ConnsToPeer(id)
		if len(conns) == 0 {
			continue
		}
		p := api.Peer{PeerID: id.String(), Direction: strings.ToLower(conns[0].Stat().Direction.String()), Member: n.memberOfPeer(id)}
		for _, c := range conns {
			p.Addrs = append(p.Addrs, c.RemoteMultiaddr().String())
		}
		if l := n.host.Peerstore().LatencyEWMA(id); l > 0 {
			p.Latency = l.Round(time.Microsecond).String()
		}
		peers = append(peers, p)
	}
	slices.SortFunc(peers, func(a, b api.Peer) int { return strings.Compare(a.PeerID, b.PeerID) })
	return peers, nil
}

// Connect dials a peer: a failure is the network's or the peer's.
func (s *Service) Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error) {
	id, err := s.n.Connect(ctx, req.Addr)
	if err != nil {
		return api.ConnectResponse{}, classify(api.Unavailable, err)
	}
	return api.ConnectResponse{PeerID: id.String()}, nil
}

// Backup writes an unencrypted backup archive to w. The socket is 0600 in
// the home, so whoever may read the stream may read the keys in the home
// anyway; the CLI encrypts it before writing it.
func (s *Service) Backup(_ context.Context, w io.Writer) error {
	start := time.Now()
	db, err := s.n.Backup(w)
	if err != nil {
		s.n.log.Error("backup failed", "err", err)
		return classify(api.Internal, err)
	}
	s.n.log.Info("backup taken", "db_bytes", db.Bytes, "badger_version", db.BadgerVersion, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// syncStatus reports each topic's version vector, gaps and last syncs.
func (n *Node) syncStatus() []api.TopicSync {
	out := []api.TopicSync{}
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		vv, highest, err := n.store.Heads(s.ID)
		if err != nil {
			continue
		}
		ts := api.TopicSync{Topic: s.ID.String(), Name: s.Name, VersionVector: vv}
		for author, h := range highest {
			if h > vv[author] {
				if ts.Gaps == nil {
					ts.Gaps = map[string]uint64{}
				}
				ts.Gaps[author] = h
			}
		}
		for p, r := range t.syncRecords() {
			member, _ := s.PeerMember(p)
			ts.LastSync = append(ts.LastSync, api.PeerSync{Peer: p.String(), Member: member, At: r.At, Fetched: r.Fetched, Error: r.Err})
		}
		slices.SortFunc(ts.LastSync, func(a, b api.PeerSync) int { return strings.Compare(a.Peer, b.Peer) })
		for _, r := range n.budgets.refusals(s.ID) {
			if ts.OverBudget == nil {
				ts.OverBudget = map[string]uint64{}
			}
			ts.OverBudget[r.Author] = r.Refused
		}
		out = append(out, ts)
	}
	return out
}

// memberOfPeer names the member that certifies peer p in any topic.
func (n *Node) memberOfPeer(p peer.ID) string {
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		if id, ok := s.PeerMember(p); ok {
			return id
		}
	}
	return ""
}
