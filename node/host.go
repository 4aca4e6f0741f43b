package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/crypto"
)

// MaxMessageSize bounds every GossipSub message (GossipSub's own default).
const MaxMessageSize = 1 << 20

// newHost builds the libp2p host: TCP and QUIC, Noise or TLS, yamux, no
// relays, no NAT port mapping (an agency's firewall is configured by its
// operators). It listens nowhere yet: listen does, address by address, so
// that each failure is seen.
func newHost(id *crypto.Identity, listen []string, gater connmgr.ConnectionGater) (host.Host, error) {
	opts := append(TransportOptions(),
		libp2p.Identity(id.Peer),
		libp2p.NoListenAddrs,
		libp2p.UserAgent("concord/"+Version()),
	)
	opts = append(opts, ExtraHostOptions...) // nil but in simulations (simulation.go)
	if gater != nil {
		opts = append(opts, libp2p.ConnectionGater(gater))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting libp2p on %v: %w", listen, err)
	}
	return h, nil
}

// listen opens a listener on every configured address. An address in use
// refuses the start: two daemons on one port would each get some of the
// connections. Any other failure (an address not on this machine, say) is
// a warning, unless no address listens at all.
func listen(h host.Host, addrs []string, log *slog.Logger) error {
	var failed []string
	for _, a := range addrs {
		err := listenOn(h, a)
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return fmt.Errorf("listen address %s is in use (another concord daemon or program?): choose another port in network.listen", a)
		case err != nil:
			log.Warn("not listening on a configured address: check that it belongs to this machine and its port is free, or remove it from network.listen",
				"addr", a, "err", err)
			failed = append(failed, a)
		}
	}
	if len(failed) == len(addrs) {
		return fmt.Errorf("could not listen on any address of network.listen (%s): see the warnings above, and fix network.listen", strings.Join(failed, ", "))
	}
	return nil
}

// listenOn opens one listener. The swarm's own Listen takes several
// addresses and keeps only a summary of their errors; AddListenAddr
// returns the transport's error itself.
func listenOn(h host.Host, addr string) error {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return err
	}
	if sw, ok := h.Network().(interface{ AddListenAddr(ma.Multiaddr) error }); ok {
		return sw.AddListenAddr(m)
	}
	return h.Network().Listen(m)
}

// TransportOptions are the libp2p transports, security and muxers of a
// node; benchmarks build their baseline hosts with the same. TCP does not
// set SO_REUSEPORT (libp2p's default): with it a second daemon on the same
// port starts and silently shares the connections. QUIC binds with plain
// sockets, which already refuse a port in use.
func TransportOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.DefaultMuxers,
		libp2p.DisableRelay(),
	}
}

// MessageID is the GossipSub message ID: the SHA-256 of the message data,
// which for a bulletin is its envelope ID. The same item arriving twice,
// by gossip or by sync, is therefore recognised as one.
func MessageID(m *pb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// newPubSub starts GossipSub with strict signing and content-hash IDs.
// Flood publishing sends our own messages to every peer subscribed to the
// topic, not only to mesh peers: topics hold at most a few hundred members,
// and a message published before the mesh has formed must not be lost.
func newPubSub(ctx context.Context, h host.Host, log *slog.Logger, appScore func(peer.ID) float64, extra ...pubsub.Option) (*pubsub.PubSub, error) {
	opts := append([]pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMessageIdFn(MessageID),
		pubsub.WithMaxMessageSize(MaxMessageSize),
		pubsub.WithPeerExchange(false),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerScore(peerScoreParams(appScore), peerScoreThresholds()),
		pubsub.WithLogger(log.With("component", "pubsub")),
	}, extra...)
	return pubsub.NewGossipSub(ctx, h, opts...)
}

// Peer scoring only punishes invalid messages: one invalid message costs
// 100 (the counter is squared), below the graylist threshold, so the
// peer's messages are ignored for about 2 s and it stays below the gossip
// threshold for about 20 s; repeated invalid messages add up quadratically. Time in mesh and delivery counters are
// left out: topics are small and quiet, and a quiet member is not a bad
// one. IP colocation is off: several agencies' nodes may share a NAT.
// appScore adds the node's own strikes (see guard): work a peer started
// without grounds, which GossipSub cannot see as an invalid message.
func peerScoreParams(appScore func(peer.ID) float64) *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		SkipAtomicValidation: true,
		AppSpecificScore:     appScore,
		AppSpecificWeight:    1,
		Topics:               map[string]*pubsub.TopicScoreParams{},
		DecayInterval:        time.Second,
		DecayToZero:          0.01,
		RetainScore:          10 * time.Minute,
	}
}

func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		SkipAtomicValidation:           true,
		TopicWeight:                    1,
		TimeInMeshQuantum:              time.Second, // unused (weight 0), but pubsub divides by it
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  0.9,
	}
}

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		SkipAtomicValidation: true,
		GossipThreshold:      -10,
		PublishThreshold:     -50,
		GraylistThreshold:    -80,
	}
}
