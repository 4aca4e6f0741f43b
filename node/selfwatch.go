package node

import (
	"crypto/ed25519"
	"errors"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/store"
	cprotocol "github.com/concordnet/concord/protocol"
)

// A restored copy of a home running beside the original, or a stolen key,
// shows as envelopes signed by this member that this node did not sign:
// every envelope it signs is stored before it is gossiped, so one that
// arrives from elsewhere, new to the store, and signed after this process
// started, was signed by another node holding the same keys. Envelopes
// signed before the start are not counted: a node restored from a backup
// legitimately recovers what it had published since (see confirmOwnSeq).

// clashLogEvery spaces out the ERROR lines of an ongoing identity clash.
const clashLogEvery = time.Minute

// selfWatch remembers the last identity clash seen.
type selfWatch struct {
	mu     sync.Mutex
	last   time.Time // last clash seen
	logged time.Time // last ERROR line written
}

// IdentityClash returns when another node last presented this node's
// identity (its peer ID and member keys), and whether one ever did since
// the daemon started.
func (n *Node) IdentityClash() (time.Time, bool) {
	n.selfwatch.mu.Lock()
	defer n.selfwatch.mu.Unlock()
	return n.selfwatch.last, !n.selfwatch.last.IsZero()
}

// noticeOwnEnvelope is called by ingest with the store's verdict on an
// envelope that came from another node (gossip or sync).
func (n *Node) noticeOwnEnvelope(env *cprotocol.Envelope, res store.PutResult, err error) {
	if err != nil || res == store.Duplicate || env.Author != n.id.MemberID() || env.TS.Before(n.started) {
		return
	}
	n.identityClash("sync or gossip", env)
}

// noticeSelfOrigin judges a GossipSub message that claims this node's
// peer ID as its origin but was received from another peer (GossipSub
// drops it before our validators see it). Its pubsub signature is not
// checked yet at that point, so only an envelope signed with our member
// key, after our start, that we do not hold, counts.
func (n *Node) noticeSelfOrigin(data []byte) {
	env, err := cprotocol.DecodeEnvelope(data)
	if err != nil || env.Author != n.id.MemberID() || env.TS.Before(n.started) {
		return
	}
	if env.VerifySignature(n.ownCard()) != nil {
		return
	}
	if _, err := n.store.Envelope(env.ID); !errors.Is(err, store.ErrNotFound) {
		return // ours, echoed back; or the store cannot tell
	}
	n.identityClash("gossip", env)
}

// ownCard is the part of our card that verifies our signatures.
func (n *Node) ownCard() *crypto.Card {
	return &crypto.Card{CardBody: crypto.CardBody{ID: n.id.MemberID(), SignKey: n.id.Signing.Public().(ed25519.PublicKey)}}
}

// identityClash records a clash and logs it at ERROR, at most once per
// clashLogEvery.
func (n *Node) identityClash(via string, env *cprotocol.Envelope) {
	w := &n.selfwatch
	w.mu.Lock()
	now := time.Now()
	w.last = now
	quiet := !w.logged.IsZero() && now.Sub(w.logged) < clashLogEvery
	if !quiet {
		w.logged = now
	}
	w.mu.Unlock()
	if quiet {
		return
	}
	n.log.Error("another node is running with this node's identity (peer ID "+n.host.ID().String()+"): a restored copy or a stolen key; stop one of them",
		"member", env.Author, "topic", env.TopicID().String(), "seq", env.Seq, "envelope", env.ID.String(), "signed", env.TS, "seen_via", via)
}

// selfTracer hands GossipSub's self-origin rejections to noticeSelfOrigin;
// it ignores every other pubsub event.
type selfTracer struct{ n *Node }

var _ pubsub.RawTracer = selfTracer{}

func (t selfTracer) RejectMessage(msg *pubsub.Message, reason string) {
	if reason == pubsub.RejectSelfOrigin {
		t.n.noticeSelfOrigin(msg.GetData())
	}
}

func (selfTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (selfTracer) OnClosedOutboundStream(peer.ID)                       {}
func (selfTracer) Join(string)                                          {}
func (selfTracer) Leave(string)                                         {}
func (selfTracer) Graft(peer.ID, string)                                {}
func (selfTracer) Prune(peer.ID, string)                                {}
func (selfTracer) ValidateMessage(*pubsub.Message)                      {}
func (selfTracer) DeliverMessage(*pubsub.Message)                       {}
func (selfTracer) DuplicateMessage(*pubsub.Message)                     {}
func (selfTracer) ThrottlePeer(peer.ID)                                 {}
func (selfTracer) RecvRPC(*pubsub.RPC)                                  {}
func (selfTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (selfTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (selfTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (selfTracer) UndeliverableMessage(*pubsub.Message)                 {}
