package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/concordnet/concord/crypto"
)

// MaxMessageSize bounds every GossipSub message (GossipSub's own default).
const MaxMessageSize = 1 << 20

// newHost builds the libp2p host: TCP and QUIC, Noise or TLS, yamux, no
// relays, no NAT port mapping (an agency's firewall is configured by its
// operators).
func newHost(id *crypto.Identity, listen []string, gater connmgr.ConnectionGater) (host.Host, error) {
	opts := []libp2p.Option{
		libp2p.Identity(id.Peer),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.DefaultMuxers,
		libp2p.DisableRelay(),
		libp2p.UserAgent("concord/" + Version()),
	}
	if gater != nil {
		opts = append(opts, libp2p.ConnectionGater(gater))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting libp2p on %v: %w", listen, err)
	}
	return h, nil
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
func newPubSub(ctx context.Context, h host.Host, log *slog.Logger, extra ...pubsub.Option) (*pubsub.PubSub, error) {
	opts := append([]pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMessageIdFn(MessageID),
		pubsub.WithMaxMessageSize(MaxMessageSize),
		pubsub.WithPeerExchange(false),
		pubsub.WithFloodPublish(true),
		pubsub.WithLogger(log.With("component", "pubsub")),
	}, extra...)
	return pubsub.NewGossipSub(ctx, h, opts...)
}
