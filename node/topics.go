package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// graceEpochs is how many epochs behind the current one an envelope may
// be: a member that has not yet seen a rotate keeps publishing to the old
// epoch for a moment.
const graceEpochs = 1

// topic is a topic this node belongs to, live.
type topic struct {
	// mu guards state and keys.
	mu     sync.Mutex
	state  *protocol.TopicState
	keys   map[uint64]*crypto.EpochKey
	joined time.Time

	bulletins *pubsub.Topic
	log       *pubsub.Topic
	cancel    context.CancelFunc

	// publishing serializes this node's own publications on the topic,
	// so that sequence numbers never repeat. It is not mu: receiving
	// goes on while a publication is being stored.
	publishing sync.Mutex
	// seqConfirmed is set once peers confirmed our last seq (confirmOwnSeq).
	seqConfirmed atomic.Bool
	gapSyncs     sync.Map // author → a gap sync for its envelopes is running
	syncMu       sync.Mutex
	lastSync     map[peer.ID]syncRecord
}

// syncRecord is the outcome of the last sync with one peer.
type syncRecord struct {
	At      time.Time
	Fetched int
	Err     string
}

func (t *topic) markSynced(p peer.ID, fetched int, err error) {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	if t.lastSync == nil {
		t.lastSync = map[peer.ID]syncRecord{}
	}
	r := syncRecord{At: time.Now().UTC(), Fetched: fetched}
	if err != nil {
		r.Err = err.Error()
	}
	t.lastSync[p] = r
}

func (t *topic) syncRecords() map[peer.ID]syncRecord {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	out := make(map[peer.ID]syncRecord, len(t.lastSync))
	for p, r := range t.lastSync {
		out[p] = r
	}
	return out
}

// snapshot returns the current state and keys; both are only ever
// replaced, never modified in place, so the caller may read them freely.
func (t *topic) snapshot() (*protocol.TopicState, map[uint64]*crypto.EpochKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.keys
}

// loadTopics replays every stored topic log and joins its GossipSub topics.
func (n *Node) loadTopics() error {
	recs, err := n.store.Topics()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		entries, err := n.store.LogEntries(rec.ID)
		if err != nil {
			return err
		}
		state, err := protocol.Replay(entries)
		if err != nil {
			return fmt.Errorf("topic %x: stored log does not replay: %w", rec.ID[:6], err)
		}
		keys, err := n.loadKeys(rec.ID)
		if err != nil {
			return err
		}
		t := &topic{state: state, keys: keys, joined: rec.Joined}
		if err := n.attach(t); err != nil {
			return err
		}
		n.spawn(func() { n.purgeFormers(n.ctx, t) })
	}
	return nil
}

func (n *Node) loadKeys(id [32]byte) (map[uint64]*crypto.EpochKey, error) {
	texts, err := n.store.EpochKeys(id)
	if err != nil {
		return nil, err
	}
	keys := map[uint64]*crypto.EpochKey{}
	for epoch, text := range texts {
		k, err := crypto.ParseEpochKey(epoch, text)
		if err != nil {
			return nil, fmt.Errorf("topic %x epoch %d: stored key: %w", id[:6], epoch, err)
		}
		keys[epoch] = k
	}
	return keys, nil
}

// attach registers the topic's validators, joins and subscribes to its two
// GossipSub topics, and starts dialing its members.
func (n *Node) attach(t *topic) error {
	id, cat := t.state.ID, t.state.Category
	ctx, cancel := context.WithCancel(n.ctx)
	t.cancel = cancel
	names := []string{protocol.TopicString(cat, id), protocol.LogTopicString(cat, id)}
	n.topicsMu.Lock()
	for _, name := range names {
		n.pubsubNames[name] = true // the subscription filter must let us join
	}
	n.topicsMu.Unlock()
	var err error
	if t.bulletins, err = n.joinPubSub(ctx, names[0], n.validateEnvelope); err != nil {
		return err
	}
	if t.log, err = n.joinPubSub(ctx, names[1], n.validateLogEntry); err != nil {
		return err
	}
	n.topicsMu.Lock()
	n.topics[id] = t
	n.topicsMu.Unlock()
	n.dialMembers(t.state)
	return nil
}

// trackedValidator wraps a validator: GossipSub runs validators on its
// own goroutines, which stopping it does not wait for.
func (n *Node) trackedValidator(v pubsub.ValidatorEx) pubsub.ValidatorEx {
	return func(ctx context.Context, p peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if !n.enter() {
			return pubsub.ValidationIgnore
		}
		defer n.exit()
		return v(ctx, p, m)
	}
}

// joinPubSub joins one GossipSub topic whose messages are all handled by
// its validator (which stores them); the subscription only keeps us in
// the mesh.
func (n *Node) joinPubSub(ctx context.Context, name string, v pubsub.ValidatorEx) (*pubsub.Topic, error) {
	if err := n.ps.RegisterTopicValidator(name, n.trackedValidator(v)); err != nil {
		return nil, fmt.Errorf("registering validator for %s: %w", name, err)
	}
	pt, err := n.ps.Join(name)
	if err != nil {
		return nil, fmt.Errorf("joining %s: %w", name, err)
	}
	if err := pt.SetScoreParams(topicScoreParams()); err != nil {
		return nil, fmt.Errorf("scoring %s: %w", name, err)
	}
	sub, err := pt.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", name, err)
	}
	n.spawn(func() {
		defer sub.Cancel()
		for {
			if _, err := sub.Next(ctx); err != nil {
				return
			}
		}
	})
	return pt, nil
}

// topicByID returns a topic we belong to, or nil.
func (n *Node) topicByID(id [32]byte) *topic {
	n.topicsMu.RLock()
	defer n.topicsMu.RUnlock()
	return n.topics[id]
}

// allTopics returns our topics sorted by category, then name.
func (n *Node) allTopics() []*topic {
	n.topicsMu.RLock()
	out := make([]*topic, 0, len(n.topics))
	for _, t := range n.topics {
		out = append(out, t)
	}
	n.topicsMu.RUnlock()
	slices.SortFunc(out, func(a, b *topic) int {
		sa, _ := a.snapshot()
		sb, _ := b.snapshot()
		return strings.Compare(sa.Category+"/"+sa.Name, sb.Category+"/"+sb.Name)
	})
	return out
}

// ErrUnknownTopic reports a topic reference that matches none of ours.
var ErrUnknownTopic = errors.New("no such topic")

// resolveTopic finds a topic by full ID, unique ID prefix (4+ characters)
// or name: exact, else differing only in case; an unknown one is answered
// with the closest name, if any is close.
func (n *Node) resolveTopic(ref string) (*topic, error) {
	ref = strings.TrimSpace(ref)
	topics := n.allTopics()
	exact := func(s *protocol.TopicState) bool {
		return (len(ref) >= 4 && strings.HasPrefix(s.ID.String(), strings.ToLower(ref))) || s.Name == ref
	}
	// A name differing only in case is accepted when no exact match exists.
	folded := func(s *protocol.TopicState) bool { return strings.EqualFold(s.Name, ref) }
	for _, match := range []func(*protocol.TopicState) bool{exact, folded} {
		var matches []*topic
		for _, t := range topics {
			s, _ := t.snapshot()
			if s.ID.String() == ref {
				return t, nil
			}
			if match(s) {
				matches = append(matches, t)
			}
		}
		switch len(matches) {
		case 0:
			continue
		case 1:
			return matches[0], nil
		}
		return nil, api.Errorf(api.Invalid, "topic %q is ambiguous: it matches %d topics (%s); give more of the ID", ref, len(matches), topicList(matches))
	}
	hint := "give"
	if t := closestTopic(topics, ref); t != nil {
		s, _ := t.snapshot()
		hint = fmt.Sprintf("did you mean %q (%s)? Otherwise give", s.Name, s.ID.Short())
	}
	return nil, api.Errorf(api.NotFound, "%w %q: %s a topic ID, a unique ID prefix or a topic name (see `concord topic list`)", ErrUnknownTopic, ref, hint)
}

// topicList names topics for an ambiguity error: "name (id-prefix)".
func topicList(ts []*topic) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		s, _ := t.snapshot()
		names[i] = fmt.Sprintf("%q (%s)", s.Name, s.ID.Short())
	}
	return strings.Join(names, ", ")
}

// closestTopic is the topic whose name is nearest to ref, ignoring case,
// if near enough to be a likely typo: a few edits for each four
// characters, or ref a part of the name.
func closestTopic(topics []*topic, ref string) *topic {
	ref = strings.ToLower(ref)
	var best *topic
	bestDist := -1
	for _, t := range topics {
		s, _ := t.snapshot()
		name := strings.ToLower(s.Name)
		d := levenshtein(ref, name)
		if len(ref) >= 3 && strings.Contains(name, ref) {
			d = min(d, 1)
		}
		if d <= max(2, len([]rune(name))/4) && (bestDist < 0 || d < bestDist) {
			best, bestDist = t, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// dialMembers connects, in the background, to the nodes of a topic's
// members we are not connected to yet, as their cards in the log list
// them: only a few of their addresses, and not those of a peer that
// failed recently (dial.go).
func (n *Node) dialMembers(s *protocol.TopicState) {
	own := scopesOf(n.Addrs())
	for _, id := range s.CurrentMembers() {
		if id == n.id.MemberID() {
			continue
		}
		for _, info := range memberDials(s.Members[id].Card, own) {
			n.dialNode(id, info, own)
		}
	}
}

// dialNode dials one member node unless connected, being dialed or
// backing off.
func (n *Node) dialNode(member string, info peer.AddrInfo, own addrScopes) {
	if info.ID == n.host.ID() {
		return
	}
	if len(n.host.Network().ConnsToPeer(info.ID)) > 0 {
		n.dials.connected(info.ID)
		return
	}
	if !n.dials.begin(info.ID) {
		return
	}
	n.spawn(func() {
		ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
		defer cancel()
		info.Addrs = resolveAddrs(ctx, info.Addrs, own, systemLookup)
		err := errNoDialableAddr
		if len(info.Addrs) > 0 {
			err = n.host.Connect(ctx, info)
		}
		// A dial our own gater (tests' partitions) or shutdown cut short
		// says nothing about the peer.
		n.dials.finish(info.ID, err == nil, n.ctx.Err() == nil && !n.cutOff(info.ID))
		if err != nil {
			n.log.Debug("member unreachable", "member", member, "peer", info.ID, "err", err)
		}
	})
}

var errNoDialableAddr = errors.New("no address of the card's node resolves to one this node may dial")

// addrInfo turns a card's node into a peer.AddrInfo with all its
// addresses: for the inviter of an invitation the operator chose to
// accept, dialed once. Members' cards go through memberDials instead.
func addrInfo(nd crypto.CardNode) (peer.AddrInfo, bool) {
	id, err := peer.Decode(nd.Peer)
	if err != nil {
		return peer.AddrInfo{}, false
	}
	info := peer.AddrInfo{ID: id}
	for _, a := range nd.Addrs {
		if m, err := ma.NewMultiaddr(a); err == nil {
			info.Addrs = append(info.Addrs, m)
		}
	}
	return info, true
}

// memberLoop redials topic members every 30 s, so that a node that was
// down or a link that was cut is back in the mesh without an operator;
// a node that keeps failing is tried less often (dialBackoff).
func (n *Node) memberLoop() {
	n.every(30*time.Second, func() {
		n.dials.prune()
		n.dialAllMembers()
	})
}

// dialAllMembers dials the members of every topic (see dialMembers).
func (n *Node) dialAllMembers() {
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		n.dialMembers(s)
	}
}

// every runs fn every d until the node stops.
func (n *Node) every(d time.Duration, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
			fn()
		}
	}
}

// saveTopic persists a topic's new log entries and epoch keys.
func (n *Node) saveTopic(ctx context.Context, s *protocol.TopicState, from uint64, keys map[uint64]*crypto.EpochKey, joined time.Time) error {
	entries := map[uint64][]byte{}
	for i := from; i < s.Len; i++ {
		entries[i] = s.Entries[i]
	}
	texts := map[uint64]string{}
	for e, k := range keys {
		texts[e] = k.String()
	}
	return n.store.SaveTopic(ctx, store.TopicRecord{ID: s.ID, Joined: joined}, entries, texts)
}
