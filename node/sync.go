package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/node/api"
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
	envs, more, err := n.store.EnvelopeRange(state.ID, req.Author, req.From, req.To, maxSyncPage, maxEnvelopesAsk)
	if err != nil {
		return SyncResponse{Error: "reading envelopes"}
	}
	return SyncResponse{Entries: envs, More: more}
}

// syncWith brings topic t up to date with peer p: log first, then the
// envelopes p holds beyond our version vector. It does nothing while the
// disk is below the store's reserve.
func (n *Node) syncWith(t *topic, p peer.ID) error {
	// Nothing fetched could be stored: do not download it.
	if err := store.CheckFree(n.store.Dir(), n.store.DiskReserve()); err != nil {
		return err
	}
	if err := n.fetchLog(t, p); err != nil {
		return err
	}
	fetched, err := n.fetchEnvelopes(n.ctx, t, p, "")
	t.markSynced(p, fetched, err)
	return err
}

// fetchEnvelopes fetches from p the envelopes of t we lack, for every
// current member or for one author only, and returns how many it stored.
func (n *Node) fetchEnvelopes(ctx context.Context, t *topic, p peer.ID, only string) (int, error) {
	state, _ := t.snapshot()
	theirs, err := n.askSyncCtx(ctx, p, SyncRequest{Kind: syncKindHeads, Topic: state.ID[:]})
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
		if only != "" && author != only {
			continue
		}
		// A former member's envelopes are accepted only on the chain its
		// removal pinned, fetched from its end backwards.
		last, _, former := state.FormerChain(author)
		if _, member := state.Members[author]; !member && !former {
			continue
		}
		if former {
			head = min(head, last)
		}
		if head <= ours[author] {
			continue
		}
		var k int
		if former {
			k, err = n.fetchFormer(ctx, t, p, author, ours[author]+1, head)
		} else {
			k, err = n.fetchRange(ctx, t, p, author, ours[author]+1, head)
		}
		stored += k
		if err != nil {
			return stored, err
		}
	}
	return stored, nil
}

// fetchRange fetches author's envelopes from..to from p and ingests them.
// Pages are asked for while earlier envelopes are being ingested. It
// stops early when the author's budget is spent: the next sync goes on.
func (n *Node) fetchRange(ctx context.Context, t *topic, p peer.ID, author string, from, to uint64) (int, error) {
	state, _ := t.snapshot()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetched := make(chan []byte, maxEnvelopesAsk)
	var fetchErr error
	go func() {
		defer close(fetched)
		fetchErr = n.fetchPages(ctx, state.ID, p, author, from, to, fetched)
	}()
	stored, overBudget := n.ingestAll(t, p, fetched, int(min(to-from+1, syncWorkers)), cancel)
	if overBudget {
		return stored, fmt.Errorf("stopped fetching the envelopes of %s: %w", author, errBudget)
	}
	return stored, fetchErr // set before fetched was closed
}

// formerWindow is how many envelopes of a former member are fetched at
// once: they are ingested from the last one down, each after the one
// that names it as prev, so a window is held in memory.
const formerWindow = 16

// fetchFormer fetches a former member's envelopes from..to from p,
// window by window from the end of the chain its removal pinned, and
// ingests each window from its last envelope down (see onFormerChain).
func (n *Node) fetchFormer(ctx context.Context, t *topic, p peer.ID, author string, from, to uint64) (int, error) {
	state, _ := t.snapshot()
	stored := 0
	for hi := to; hi >= from; {
		lo := max(from, hi-min(hi, formerWindow-1))
		ch := make(chan []byte, formerWindow)
		err := n.fetchPages(ctx, state.ID, p, author, lo, hi, ch)
		close(ch)
		window := make([][]byte, 0, formerWindow)
		for raw := range ch {
			window = append(window, raw)
		}
		for i := len(window) - 1; i >= 0; i-- {
			ok, ierr := n.ingestSynced(t, window[i])
			if ok {
				stored++
			}
			if ierr != nil {
				n.log.Debug("synced envelope of a former member rejected", "peer", p, "err", ierr)
			}
		}
		if err != nil {
			return stored, err
		}
		if lo == from {
			return stored, nil
		}
		hi = lo - 1
	}
	return stored, nil
}

// fetchPages asks p for author's envelopes from..to, page by page, and
// sends each envelope to out. A page must hold only that author's
// envelopes, in increasing seq within the range asked: anything else
// ends the fetch and gives p a strike.
func (n *Node) fetchPages(ctx context.Context, topic [32]byte, p peer.ID, author string, from, to uint64, out chan<- []byte) error {
	for from <= to {
		resp, err := n.askSyncCtx(ctx, p, SyncRequest{Kind: syncKindEnvelopes, Topic: topic[:], Author: author, From: from, To: to})
		if err != nil {
			return err
		}
		if resp.Error != "" {
			return fmt.Errorf("peer %s refused sync: %s", p, resp.Error)
		}
		next := from
		for _, raw := range resp.Entries {
			seq, err := pageSeq(raw, author, next, to)
			if err != nil {
				n.guard.strike(p)
				return fmt.Errorf("peer %s answered a request for %s seq %d..%d with %w", p, author, from, to, err)
			}
			select {
			case out <- raw:
			case <-ctx.Done():
				return ctx.Err()
			}
			next = seq + 1
		}
		if !resp.More || len(resp.Entries) == 0 {
			return nil
		}
		from = next
	}
	return nil
}

// pageSeq checks one envelope of a sync page: author's, seq in from..to.
func pageSeq(raw []byte, author string, from, to uint64) (uint64, error) {
	env, err := protocol.DecodeEnvelope(raw)
	switch {
	case err != nil:
		return 0, fmt.Errorf("a malformed envelope: %w", err)
	case env.Author != author:
		return 0, fmt.Errorf("an envelope of %s", env.Author)
	case env.Seq < from || env.Seq > to:
		return 0, fmt.Errorf("seq %d, outside %d..%d or out of order", env.Seq, from, to)
	}
	return env.Seq, nil
}

// syncWorkers is how many fetched envelopes are ingested at once.
// Decryption is the cost of ingesting, and it runs in parallel; the
// store's group commit writes those waiting for the disk together, and
// fewer, larger commits cost less.
const syncWorkers = 128

// ingestAll ingests what arrives on in, with that many workers, until in
// is closed, and returns how many envelopes were new. An author's
// envelopes may thus be stored out of order: the store accepts any order,
// as it does from gossip. When an envelope is over its author's budget,
// it calls stop and reports it.
func (n *Node) ingestAll(t *topic, p peer.ID, in <-chan []byte, workers int, stop func()) (stored int, overBudget bool) {
	var count atomic.Int64
	var over atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for raw := range in {
				if over.Load() {
					continue // drain: the fetch is being stopped
				}
				ok, err := n.ingestSynced(t, raw)
				if errors.Is(err, errBudget) && !over.Swap(true) {
					stop()
				}
				if err != nil {
					n.log.Debug("synced envelope rejected", "peer", p, "err", err)
				}
				if ok {
					count.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(count.Load()), over.Load()
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
	res, err := n.ingestWithGrace(n.ctx, t, env, math.MaxUint64)
	if err != nil {
		n.metrics.rejected.WithLabelValues("envelope", protocol.RejectionReason(err)).Inc()
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
			n.purgeFormers(n.ctx, t)
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
// never repeat one already used. It asks up to three member nodes at
// once and waits at most seqConfirmTimeout: a member that does not answer
// delays a publication by that much, not more, and the next publication
// asks again.
//
// On a node restored from a backup (Home.Restored), an unconfirmed topic
// with other members refuses the publication instead: the backup may
// predate envelopes this member signed, and reusing their sequence
// numbers would fork its own chain.
func (n *Node) confirmOwnSeq(ctx context.Context, t *topic) error {
	if t.seqConfirmed.Load() {
		return nil
	}
	me := n.id.MemberID()
	state, _ := t.snapshot()
	before, _ := n.store.LastOf(state.ID, me)
	ctx, cancel := context.WithTimeout(ctx, seqConfirmTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range n.ownSeqPeers(state, 3) {
		wg.Go(func() {
			if _, err := n.fetchEnvelopes(ctx, t, p, me); err == nil {
				t.seqConfirmed.Store(true)
			}
		})
	}
	wg.Wait()
	after, _ := n.store.LastOf(state.ID, me)
	if after.Seq > before.Seq {
		n.log.Warn("recovered our own envelopes from peers before publishing: the store had lost them",
			"topic", state.ID.String(), "stored_seq", before.Seq, "peers_seq", after.Seq)
	}
	switch {
	case t.seqConfirmed.Load():
	case len(state.Members) == 1:
		t.seqConfirmed.Store(true) // alone in the topic: nobody else holds our envelopes
	case n.restored.Load():
		return api.Errorf(api.Unavailable, "this node was restored from a backup, and no other member's node has confirmed its last sequence number on topic %q yet: publishing now could reuse one that a member holds; retry once a member's node answers (see concord peers)", state.Name)
	default:
		n.log.Warn("publishing without confirming our last sequence number: no member node answered in time",
			"topic", state.ID.String(), "seq", after.Seq, "waited", seqConfirmTimeout)
	}
	n.clearRestored()
	return nil
}

// clearRestored removes the restore marker once every topic this member
// belongs to with others has confirmed its last sequence number.
func (n *Node) clearRestored() {
	if !n.restored.Load() {
		return
	}
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		if _, member := s.Members[n.id.MemberID()]; member && len(s.Members) > 1 && !t.seqConfirmed.Load() {
			return
		}
	}
	if err := os.Remove(n.home.Restored()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		n.log.Warn("removing the restore marker", "err", err)
		return
	}
	n.restored.Store(false)
	n.log.Info("every topic confirmed this node's last sequence numbers since its restore: it publishes again")
}

// seqConfirmTimeout bounds how long a publication waits for confirmOwnSeq.
const seqConfirmTimeout = 3 * time.Second

// ownSeqPeers returns up to k connected nodes of other members of the topic.
func (n *Node) ownSeqPeers(state *protocol.TopicState, k int) []peer.ID {
	var out []peer.ID
	for _, p := range n.host.Network().Peers() {
		if m, ok := state.PeerMember(p); ok && m != n.id.MemberID() && len(out) < k {
			out = append(out, p)
		}
	}
	return out
}
