package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/protocol"
)

// Log catch-up over /concord/sync/1: a node that missed topic log entries
// (it was offline, or joined while others were being added) asks a
// member's node for the entries from an index on. The log is what carries
// membership and epoch keys, so it is fetched before anything else.
//
// An answer holds at most maxSyncPage bytes of entries or envelopes (an
// envelope or log entry is at most 1 MiB, so a page holds at least four),
// so a stream served costs about twice that in memory, and guard bounds
// how many are served at once. A served stream must be read within
// syncServeTimeout.
const (
	syncKindLog      = "log"
	maxSyncRequest   = 4 << 10
	maxSyncPage      = 4 << 20
	maxSyncResponse  = maxSyncPage + 1<<20
	maxEntriesPerAsk = 1024
	syncTimeout      = 30 * time.Second
	syncServeTimeout = 15 * time.Second
)

// SyncRequest asks a peer for part of a topic. Kind "log" asks for the
// topic log's entries from index From on.
// Head is the hash of the asker's entry at From-1 (absent when From is 0),
// so that the peer can tell a log that forked below From.
//
// Kind "heads" asks for the peer's version vector of the topic; kind
// "envelopes" asks for Author's envelopes with seq From to To.
type SyncRequest struct {
	Kind   string `cbor:"kind"`
	Topic  []byte `cbor:"topic"`
	From   uint64 `cbor:"from"`
	To     uint64 `cbor:"to,omitempty"`
	Head   []byte `cbor:"head,omitempty"`
	Author string `cbor:"author,omitempty"`
}

// SyncResponse answers a SyncRequest. More says the peer holds entries
// beyond the ones sent, to ask for next; Diverged says its entry at
// From-1 is not the asker's Head: the logs forked.
//
// Heads answers "heads": author → highest seq up to which the peer holds
// every envelope. Entries holds log entries or envelopes.
type SyncResponse struct {
	Entries  [][]byte          `cbor:"entries,omitempty"`
	Heads    map[string]uint64 `cbor:"heads,omitempty"`
	LogLen   uint64            `cbor:"log_len,omitempty"`
	More     bool              `cbor:"more,omitempty"`
	Diverged bool              `cbor:"diverged,omitempty"`
	Error    string            `cbor:"error,omitempty"`
}

func (n *Node) handleSyncStream(s network.Stream) {
	remote := s.Conn().RemotePeer()
	bad := func(err error) SyncResponse { return SyncResponse{Error: err.Error()} }
	done, err := n.guard.startServing(n.ctx, remote)
	if err != nil {
		n.metrics.rejected.WithLabelValues("sync", protocol.ReasonBusy).Inc()
		serve(s, maxSyncRequest, syncServeTimeout, bad, func(*SyncRequest) SyncResponse { return bad(err) })
		return
	}
	defer done()
	serve(s, maxSyncRequest, syncServeTimeout, bad, func(req *SyncRequest) SyncResponse {
		return n.serveSync(req, remote)
	})
}

func (n *Node) serveSync(req *SyncRequest, remote peer.ID) SyncResponse {
	if len(req.Topic) != 32 {
		return SyncResponse{Error: "sync request: topic must be 32 bytes"}
	}
	t := n.topicByID([32]byte(req.Topic))
	if t == nil {
		return SyncResponse{Error: "unknown topic"}
	}
	state, _ := t.snapshot()
	// Only current members are served: a removed member or a stranger
	// learns nothing, not even the membership.
	if _, ok := state.PeerMember(remote); !ok {
		n.metrics.rejected.WithLabelValues("sync", protocol.ReasonNotMember).Inc()
		return SyncResponse{Error: "not a member of this topic"}
	}
	switch req.Kind {
	case syncKindLog:
		return serveLog(state, *req)
	case syncKindHeads:
		return n.serveHeads(state)
	case syncKindEnvelopes:
		return n.serveEnvelopes(state, *req)
	}
	return SyncResponse{Error: fmt.Sprintf("unknown sync kind %q", req.Kind)}
}

// serveLog answers a "log" request: entries from req.From on, or
// Diverged if our entry before them is not the asker's head.
func serveLog(state *protocol.TopicState, req SyncRequest) SyncResponse {
	if req.From > 0 {
		if h, ok := state.EntryHash(req.From - 1); ok && string(h[:]) != string(req.Head) {
			return SyncResponse{Diverged: true}
		}
	}
	var resp SyncResponse
	resp.Entries, resp.More = logPage(state.Entries, req.From)
	return resp
}

// logPage returns the log entries from index from on that fit one answer
// (at most maxEntriesPerAsk, and at most maxSyncPage bytes), and whether
// entries were left out.
func logPage(entries [][]byte, from uint64) (page [][]byte, more bool) {
	size := 0
	for i := from; i < uint64(len(entries)); i++ {
		raw := entries[i]
		if len(page) == maxEntriesPerAsk || size+len(raw) > maxSyncPage {
			return page, true
		}
		page = append(page, raw)
		size += len(raw)
	}
	return page, false
}

// fetchLog asks p for the entries of t after ours and applies them.
func (n *Node) fetchLog(t *topic, p peer.ID) error {
	for {
		state, _ := t.snapshot()
		resp, err := n.askSync(p, SyncRequest{Kind: syncKindLog, Topic: state.ID[:], From: state.Len, Head: state.Head[:]})
		if err != nil {
			return err
		}
		if resp.Error != "" {
			return fmt.Errorf("peer %s refused log sync: %s", p, resp.Error)
		}
		if resp.Diverged {
			return n.resolveFork(t, p)
		}
		for _, raw := range resp.Entries {
			err := n.applyEntry(n.ctx, t, raw)
			var local localError
			switch {
			case errors.As(err, &local):
				return err
			case errors.Is(err, protocol.ErrLogFork):
				// A valid competing entry: their log forked from ours.
				n.log.Info("log does not continue ours; resolving the fork", "peer", p, "err", err)
				return n.resolveFork(t, p)
			case err != nil && !errors.Is(err, protocol.ErrDuplicateEntry):
				n.metrics.rejected.WithLabelValues("log-entry", protocol.ReasonInvalidEntry).Inc()
				n.guard.strike(p)
				return fmt.Errorf("peer %s sent an invalid log entry: %w", p, err)
			}
			if err == nil {
				n.metrics.accepted.WithLabelValues("log-entry").Inc()
			}
		}
		if !resp.More || len(resp.Entries) == 0 {
			return nil
		}
	}
}

func (n *Node) askSync(p peer.ID, req SyncRequest) (*SyncResponse, error) {
	return n.askSyncCtx(n.ctx, p, req)
}

// askSyncCtx sends one sync request within ctx and syncTimeout; at most
// maxAsking run at once.
func (n *Node) askSyncCtx(ctx context.Context, p peer.ID, req SyncRequest) (*SyncResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	done, err := n.guard.startAsking(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var resp SyncResponse
	if err := n.request(ctx, p, protocol.SyncProtocol, req, maxSyncResponse, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// syncLogsWith catches up, in the background, every topic we share with
// peer p, log first (called when p connects and when a gap is seen).
func (n *Node) syncLogsWith(p peer.ID) {
	for _, t := range n.allTopics() {
		state, _ := t.snapshot()
		if _, ok := state.PeerMember(p); !ok {
			continue
		}
		// A peer that reconnects over and over starts one sync per
		// hintInterval; periodic sync covers the rest.
		done, ok := n.guard.startHint(p, state.ID)
		if !ok {
			continue
		}
		n.spawn(func() {
			defer done()
			if err := n.syncWith(t, p); err != nil {
				n.log.Debug("sync", "topic", state.ID.String(), "peer", p, "err", err)
			}
		})
	}
}

// connNotifee starts a log sync with every member node that connects.
type connNotifee struct{ n *Node }

func (c connNotifee) Connected(_ network.Network, conn network.Conn) {
	p := conn.RemotePeer()
	c.n.spawn(func() { c.n.syncLogsWith(p) })
}
func (connNotifee) Disconnected(network.Network, network.Conn) {}
func (connNotifee) Listen(network.Network, ma.Multiaddr)       {}
func (connNotifee) ListenClose(network.Network, ma.Multiaddr)  {}
