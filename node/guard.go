package node

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/protocol"
)

// The guard bounds the work a peer can make this node do. A peer that is
// a member's node can send messages that start work beyond their own
// validation: a log sync when an envelope names an epoch or an author we
// do not know yet, a fork resolution, a sync stream to serve. Each is
// counted here, per peer and in total, and a peer whose message started
// work that proved unwarranted gets a strike, which lowers its GossipSub
// score (see appScore) until it decays.
const (
	// hintInterval is how often one peer's messages may start a log sync
	// on one topic; one runs at a time per (peer, topic).
	hintInterval = 10 * time.Second
	// forkInterval is how often a fork resolution may start per topic;
	// one runs at a time per topic.
	forkInterval = 10 * time.Second
	// maxServedPerPeer and maxServedTotal bound the sync and join streams
	// served at once; a stream waits up to serveWait for a slot.
	maxServedPerPeer = 2
	maxServedTotal   = 6
	serveWait        = 5 * time.Second
	// maxAsking bounds our own sync requests in flight, so that answers
	// held in memory are bounded too.
	maxAsking = 6
	// strikePenalty is the score one strike costs: two strikes put a peer
	// below the graylist threshold (-80). strikeHalfLife is how fast it
	// decays.
	strikePenalty  = 50
	strikeHalfLife = time.Minute
)

// errBusy answers a sync request that found no free slot.
var errBusy = errors.New("busy: too many sync streams at once; retry later")

type hintKey struct {
	peer  peer.ID
	topic [32]byte
}

type penalty struct {
	score float64 // positive, before decay
	at    time.Time
}

type guard struct {
	now func() time.Time

	mu        sync.Mutex
	hints     spaced[hintKey]
	forks     spaced[[32]byte]
	served    map[peer.ID]int
	penalties map[peer.ID]penalty

	servedTotal chan struct{} // slots of streams served
	asking      chan struct{} // slots of our own requests
}

// spaced lets one piece of work per key run at a time, and start at most
// once per interval. The guard's mutex protects it.
type spaced[K comparable] struct {
	interval time.Duration
	started  map[K]time.Time
	running  map[K]bool
}

func newSpaced[K comparable](interval time.Duration) spaced[K] {
	return spaced[K]{interval: interval, started: map[K]time.Time{}, running: map[K]bool{}}
}

func newGuard() *guard {
	return &guard{
		now:         time.Now,
		hints:       newSpaced[hintKey](hintInterval),
		forks:       newSpaced[[32]byte](forkInterval),
		served:      map[peer.ID]int{},
		penalties:   map[peer.ID]penalty{},
		servedTotal: make(chan struct{}, maxServedTotal),
		asking:      make(chan struct{}, maxAsking),
	}
}

// startSpaced reports whether the work of key k in sp may start now; if
// so, done must be called when it ends.
func startSpaced[K comparable](g *guard, sp *spaced[K], k K) (done func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if sp.running[k] || now.Sub(sp.started[k]) < sp.interval {
		return nil, false
	}
	sp.running[k], sp.started[k] = true, now
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(sp.running, k)
	}, true
}

// startHint reports whether a log sync with p on topic may start now on
// the word of p's messages; if so, done must be called when it ends.
func (g *guard) startHint(p peer.ID, topic [32]byte) (done func(), ok bool) {
	return startSpaced(g, &g.hints, hintKey{p, topic})
}

// startFork reports whether a fork resolution of topic may start now; if
// so, done must be called when it ends.
func (g *guard) startFork(topic [32]byte) (done func(), ok bool) {
	return startSpaced(g, &g.forks, topic)
}

// startServing takes a slot to serve a stream of p: at most
// maxServedPerPeer per peer, refused at once beyond it, and at most
// maxServedTotal in all, waited for up to serveWait.
func (g *guard) startServing(ctx context.Context, p peer.ID) (done func(), err error) {
	g.mu.Lock()
	if g.served[p] >= maxServedPerPeer {
		g.mu.Unlock()
		return nil, errBusy
	}
	g.served[p]++
	g.mu.Unlock()
	release := func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.served[p]--; g.served[p] == 0 {
			delete(g.served, p)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, serveWait)
	defer cancel()
	select {
	case g.servedTotal <- struct{}{}:
		return func() { <-g.servedTotal; release() }, nil
	case <-ctx.Done():
		release()
		return nil, errBusy
	}
}

// startAsking takes a slot for one of our own sync requests.
func (g *guard) startAsking(ctx context.Context) (done func(), err error) {
	select {
	case g.asking <- struct{}{}:
		return func() { <-g.asking }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// strike records that p made us do work it had no grounds for.
func (g *guard) strike(p peer.ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	g.penalties[p] = penalty{score: g.decayed(p, now) + strikePenalty, at: now}
}

// appScore is GossipSub's application-specific score of p: minus its
// strikes, halved every strikeHalfLife.
func (g *guard) appScore(p peer.ID) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return -g.decayed(p, g.now())
}

func (g *guard) decayed(p peer.ID, now time.Time) float64 {
	pen, ok := g.penalties[p]
	if !ok {
		return 0
	}
	s := pen.score * math.Exp2(-now.Sub(pen.at).Seconds()/strikeHalfLife.Seconds())
	if s < 1 {
		delete(g.penalties, p)
		return 0
	}
	return s
}

// logHint handles an envelope that names an epoch or an author our log
// does not know yet: our log may be behind (a rotate or an add not yet
// received), or the envelope is forged. Its signature is checked first
// when we hold the author's card; then a log sync with the peer that sent
// it may start (see hintedLogSync), after which the author's envelopes
// are fetched from it.
func (n *Node) logHint(t *topic, p peer.ID, env *protocol.Envelope, reason string) pubsub.ValidationResult {
	state, _ := t.snapshot()
	if card := state.Card(env.Author); card != nil {
		if err := env.VerifySignature(card); err != nil {
			return n.rejectEnvelope(p, protocol.RejectionReason(err), err)
		}
	}
	n.metrics.rejected.WithLabelValues("envelope", reason).Inc()
	n.hintedLogSync(t, p, func(s *protocol.TopicState) bool {
		if env.Epoch > s.Epoch || s.Card(env.Author) == nil {
			return false
		}
		if _, err := n.fetchEnvelopes(n.ctx, t, p, env.Author); err != nil {
			n.log.Debug("sync after a log hint", "peer", p, "err", err)
		}
		return true
	})
	return pubsub.ValidationIgnore
}

// hintedLogSync syncs t's log with p in the background because a message
// of p said our log is behind, at most once per hintInterval per (peer,
// topic), and only with a current member's node. warranted is called with
// the log after the sync: if it returns false, p's message had no grounds
// and p gets a strike.
func (n *Node) hintedLogSync(t *topic, p peer.ID, warranted func(*protocol.TopicState) bool) {
	state, _ := t.snapshot()
	if _, member := state.PeerMember(p); !member {
		return
	}
	done, ok := n.guard.startHint(p, state.ID)
	if !ok {
		n.metrics.rejected.WithLabelValues("sync", protocol.ReasonHintLimited).Inc()
		return
	}
	n.spawn(func() {
		defer done()
		if err := n.fetchLog(t, p); err != nil {
			n.log.Debug("log sync on a hint", "topic", state.ID.String(), "peer", p, "err", err)
		}
		if s, _ := t.snapshot(); !warranted(s) {
			n.log.Debug("peer's message named log state it does not hold; strike", "peer", p, "topic", state.ID.String())
			n.metrics.rejected.WithLabelValues("sync", protocol.ReasonUnwarrantedHint).Inc()
			n.guard.strike(p)
		}
	})
}

// onFormerChain checks an envelope of a member that was removed or left
// against the chain its removal pinned (protocol.TopicState.FormerChain):
// the last envelope must be the one pinned, and each earlier one must be
// named as prev by its stored successor, so that nothing the former member
// signs after its removal is accepted, whatever seq it claims. Envelopes
// are therefore accepted from the pinned end down (see fetchFormer).
func (n *Node) onFormerChain(state *protocol.TopicState, env *protocol.Envelope) error {
	last, lastID, former := state.FormerChain(env.Author)
	switch {
	case !former:
		return nil
	case env.Seq == last && env.ID != lastID:
		return fmt.Errorf("envelope %s: seq %d of former member %s is not the envelope its removal pinned (%s)",
			env.ID.Short(), env.Seq, env.Author, protocol.EnvelopeID(lastID).Short())
	case env.Seq == last:
		return nil
	}
	next, err := n.store.PrevAt(state.ID, env.Author, env.Seq+1)
	if err != nil {
		return fmt.Errorf("envelope %s of former member %s: its successor seq %d is not held yet, so it cannot be tied to the chain its removal pinned: %w",
			env.ID.Short(), env.Author, env.Seq+1, err)
	}
	if next != env.ID {
		return fmt.Errorf("envelope %s: seq %d of former member %s is not the one its successor names", env.ID.Short(), env.Seq, env.Author)
	}
	return nil
}
