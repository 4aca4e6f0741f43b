package node

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Envelope sync over /concord/sync/1: peers compare version vectors
// ("heads") and fetch what they lack by author and seq range
// ("envelopes"), always after the topic log, so that the keys of new
// epochs arrive before the bulletins that need them. Fetched envelopes go
// through the same validation as gossip (ingest), except that they may be
// of any past epoch.
const (
	syncKindHeads     = "heads"
	syncKindEnvelopes = "envelopes"
	maxEnvelopesAsk   = 256
)

// syncInterval is how often a node syncs each topic with one connected
// member, besides on every connection and on every gap it notices.
var syncInterval = 30 * time.Second

func (n *Node) serveHeads(state *protocol.TopicState) SyncResponse {
	vv, err := n.store.VersionVector(state.ID)
	if err != nil {
		return SyncResponse{Error: "reading version vector"}
	}
	return SyncResponse{Heads: vv, LogLen: state.Len}
}

func (n *Node) serveEnvelopes(state *protocol.TopicState, req SyncRequest) SyncResponse {
	if req.Author == "" || req.From == 0 || (req.To > 0 && req.To < req.From) {
		return SyncResponse{Error: "envelopes request needs an author and a seq range starting at 1 or more"}
	}
	envs, more, err := n.store.EnvelopeRange(state.ID, req.Author, req.From, req.To, maxSyncResponse-1<<20, maxEnvelopesAsk)
	if err != nil {
		return SyncResponse{Error: "reading envelopes"}
	}
	return SyncResponse{Entries: envs, More: more}
}

// syncWith brings topic t up to date with peer p: log first, then the
// envelopes p holds beyond our version vector.
func (n *Node) syncWith(t *topic, p peer.ID) error {
	if err := n.fetchLog(t, p); err != nil {
		return err
	}
	fetched, err := n.fetchEnvelopes(t, p, "")
	t.markSynced(p, fetched, err)
	return err
}

// fetchEnvelopes fetches from p the envelopes of t we lack, for every
// current member or for one author only, and returns how many it stored.
func (n *Node) fetchEnvelopes(t *topic, p peer.ID, only string) (int, error) {
	state, _ := t.snapshot()
	theirs, err := n.askSync(p, SyncRequest{Kind: syncKindHeads, Topic: state.ID[:]})
	if err != nil {
		return 0, err
	}
	if theirs.Error != "" {
		return 0, fmt.Errorf("peer %s refused sync: %s", p, theirs.Error)
	}
	ours, err := n.store.VersionVector(state.ID)
	if err != nil {
		return 0, err
	}
	stored := 0
	for author, head := range theirs.Heads {
		// A former member's envelopes are accepted up to the last seq its
		// removal recorded, as on gossip.
		if last, former := state.LastSeqs[author]; former {
			head = min(head, last)
		} else if _, member := state.Members[author]; !member {
			continue
		}
		if head <= ours[author] || (only != "" && author != only) {
			continue
		}
		k, err := n.fetchRange(t, p, author, ours[author]+1, head)
		stored += k
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

// fetchRange fetches author's envelopes from..to from p and ingests them.
// Pages are asked for while earlier envelopes are being ingested.
func (n *Node) fetchRange(t *topic, p peer.ID, author string, from, to uint64) (int, error) {
	state, _ := t.snapshot()
	fetched := make(chan []byte, maxEnvelopesAsk)
	var fetchErr error
	go func() {
		defer close(fetched)
		fetchErr = n.fetchPages(state.ID, p, author, from, to, fetched)
	}()
	stored := n.ingestAll(t, p, fetched, int(min(to-from+1, syncWorkers)))
	return stored, fetchErr // set before fetched was closed
}

// fetchPages asks p for author's envelopes from..to, page by page, and
// sends each envelope to out.
func (n *Node) fetchPages(topic [32]byte, p peer.ID, author string, from, to uint64, out chan<- []byte) error {
	for from <= to {
		resp, err := n.askSync(p, SyncRequest{Kind: syncKindEnvelopes, Topic: topic[:], Author: author, From: from, To: to})
		if err != nil {
			return err
		}
		if resp.Error != "" {
			return fmt.Errorf("peer %s refused sync: %s", p, resp.Error)
		}
		for _, raw := range resp.Entries {
			out <- raw
		}
		if !resp.More || len(resp.Entries) == 0 {
			return nil
		}
		last, err := protocol.DecodeEnvelope(resp.Entries[len(resp.Entries)-1])
		if err != nil {
			return err
		}
		if last.Seq < from {
			return fmt.Errorf("peer %s answered seq %d to a request from seq %d", p, last.Seq, from)
		}
		from = last.Seq + 1
	}
	return nil
}

// syncWorkers is how many fetched envelopes are ingested at once.
// Decryption is the cost of ingesting, and it runs in parallel; the
// store's group commit writes those waiting for the disk together, and
// fewer, larger commits cost less.
const syncWorkers = 128

// ingestAll ingests what arrives on in, with that many workers, until in
// is closed, and returns how many envelopes were new. An author's
// envelopes may thus be stored out of order: the store accepts any order,
// as it does from gossip.
func (n *Node) ingestAll(t *topic, p peer.ID, in <-chan []byte, workers int) int {
	var stored atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for raw := range in {
				ok, err := n.ingestSynced(t, raw)
				if err != nil {
					n.log.Debug("synced envelope rejected", "peer", p, "err", err)
				}
				if ok {
					stored.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(stored.Load())
}

// ingestSynced validates and stores one envelope fetched by sync.
func (n *Node) ingestSynced(t *topic, raw []byte) (bool, error) {
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		n.metrics.rejected.WithLabelValues("envelope", protocol.RejectionReason(err)).Inc()
		return false, err
	}
	s, _ := t.snapshot()
	if env.TopicID() != s.ID {
		return false, errors.New("peer sent an envelope of another topic")
	}
	res, reason, err := n.ingestWithGrace(n.ctx, t, env, math.MaxUint64)
	if err != nil {
		n.metrics.rejected.WithLabelValues("envelope", reason).Inc()
		return false, err
	}
	return res == store.Stored, nil
}

// syncLoop syncs every topic with one random connected member node every
// syncInterval.
func (n *Node) syncLoop() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(syncInterval):
		}
		for _, t := range n.allTopics() {
			if p, ok := n.randomMemberPeer(t); ok {
				if err := n.syncWith(t, p); err != nil {
					n.log.Debug("periodic sync", "peer", p, "err", err)
				}
			}
		}
	}
}

// randomMemberPeer picks a connected node of another member of t.
func (n *Node) randomMemberPeer(t *topic) (peer.ID, bool) {
	s, _ := t.snapshot()
	var peers []peer.ID
	for _, p := range n.host.Network().Peers() {
		if m, ok := s.PeerMember(p); ok && m != n.id.MemberID() {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		return "", false
	}
	return peers[rand.IntN(len(peers))], true
}

// confirmOwnSeq learns, before this node's first publication on t since
// it started, whether members hold envelopes of ours that our store lacks
// (a lost or restored database), and fetches them: our next seq must
// never repeat one already used. It asks up to three member nodes.
func (n *Node) confirmOwnSeq(ctx context.Context, t *topic) {
	if t.seqConfirmed.Load() {
		return
	}
	me := n.id.MemberID()
	state, _ := t.snapshot()
	before, _ := n.store.LastOf(state.ID, me)
	asked := 0
	for _, p := range n.host.Network().Peers() {
		s, _ := t.snapshot()
		if m, ok := s.PeerMember(p); !ok || m == me {
			continue
		}
		asked++
		if _, err := n.fetchEnvelopes(t, p, me); err == nil {
			t.seqConfirmed.Store(true)
		}
		if asked == 3 || ctx.Err() != nil {
			break
		}
	}
	after, _ := n.store.LastOf(state.ID, me)
	switch {
	case after.Seq > before.Seq:
		n.log.Warn("recovered our own envelopes from peers before publishing: the store had lost them",
			"topic", state.ID.String(), "stored_seq", before.Seq, "peers_seq", after.Seq)
	case !t.seqConfirmed.Load():
		s, _ := t.snapshot()
		if len(s.Members) == 1 {
			t.seqConfirmed.Store(true) // alone in the topic: nobody else holds our envelopes
		} else {
			n.log.Warn("publishing without confirming our last sequence number: no member node reachable", "topic", s.ID.String(), "seq", after.Seq)
		}
	}
}
