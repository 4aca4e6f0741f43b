package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pprotocol "github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
	"github.com/concordnet/concord/protocol"
)

// hostile is a member's node that a test drives as an attacker holding
// that member's keys would: it seals envelopes and signs log entries with
// any field it likes, gossips them past its own validation, and answers
// sync requests however the test says.
type hostile struct {
	*Node
	t      *testing.T
	topic  protocol.TopicID
	synced atomic.Int64 // sync streams opened to it

	mu         sync.Mutex
	syncedFrom map[peer.ID]int64
}

// streamsFrom counts the sync streams p opened to the hostile node.
func (h *hostile) streamsFrom(p peer.ID) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.syncedFrom[p]
}

func asHostile(t *testing.T, n *Node, id protocol.TopicID) *hostile {
	h := &hostile{Node: n, t: t, topic: id, syncedFrom: map[peer.ID]int64{}}
	h.answerSync(nil) // count streams, answer honestly
	return h
}

// forged describes an envelope to forge; zero fields take the honest
// value of the hostile member's next envelope.
type forged struct {
	kind    string
	seq     uint64
	prev    []byte
	epoch   uint64
	author  string
	ts      time.Time
	payload []byte
	signer  *crypto.Identity // signs the envelope (default: the member's own key)
}

// envelope seals f: inner body signed by the member, encrypted to the
// epoch's key it holds, envelope signed by f.signer.
func (h *hostile) envelope(f forged) *protocol.Envelope {
	h.t.Helper()
	state, keys := h.topicByID(h.topic).snapshot()
	me := h.id.MemberID()
	head, err := h.store.LastOf(state.ID, me)
	if err != nil {
		h.t.Fatal(err)
	}
	if f.kind == "" {
		f.kind = protocol.KindBulletin
	}
	if f.seq == 0 {
		f.seq, f.prev = head.Seq+1, nil
		if head.Seq > 0 {
			f.prev = head.ID[:]
		}
	}
	if f.epoch == 0 {
		f.epoch = state.Epoch
	}
	if f.author == "" {
		f.author = me
	}
	if f.ts.IsZero() {
		f.ts = time.Now().UTC()
	}
	if f.signer == nil {
		f.signer = h.id
	}
	if f.payload == nil {
		f.payload = h.bulletin(nil)
	}
	innerSigner := h.id // the inner body is always validly signed, by the author if the test holds its key
	if f.signer.MemberID() == f.author {
		innerSigner = f.signer
	}
	inner, err := protocol.SealInner(innerSigner, protocol.InnerBody{Topic: state.ID[:], Epoch: f.epoch, Author: innerSigner.MemberID(), Seq: f.seq, Kind: f.kind, Payload: f.payload})
	if err != nil {
		h.t.Fatal(err)
	}
	key := keys[min(f.epoch, state.Epoch)]
	if key == nil {
		key = keys[state.Epoch]
	}
	ct, err := crypto.Encrypt(inner, key.Recipient())
	if err != nil {
		h.t.Fatal(err)
	}
	// Sealed by hand: protocol.SealEnvelope refuses a signer that is not
	// the author, and an attacker does not ask.
	raw, _, err := crypto.Seal(f.signer.Signing, crypto.DomainEnvelope, protocol.EnvelopeBody{
		V: protocol.ProtocolVersion, Kind: f.kind, Topic: state.ID[:], Epoch: f.epoch, Author: f.author, Node: h.host.ID().String(),
		Seq: f.seq, Prev: f.prev, TS: f.ts.UTC(), Ciphertext: ct,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		h.t.Fatal(err)
	}
	return env
}

// bulletin encodes a bulletin by the member, changed by edit.
func (h *hostile) bulletin(edit func(*protocol.Bulletin)) []byte {
	h.t.Helper()
	state, _ := h.topicByID(h.topic).snapshot()
	now := time.Now().UTC()
	b, err := draft("hostile").Build(protocol.Stamp{ID: protocol.NewBulletinID(state.ID, h.id.MemberID()), Version: 1, Created: now, Modified: now,
		Category: state.Category, Originator: protocol.Originator{Member: h.id.MemberID(), Country: h.cfg.Member.Country, Agency: h.cfg.Member.Name}})
	if err != nil {
		h.t.Fatal(err)
	}
	if edit != nil {
		edit(b)
	}
	payload, err := protocol.EncodeBulletin(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return payload
}

// gossip publishes raw on the topic's bulletin channel; the member's own
// validator lets its own messages through.
func (h *hostile) gossip(raw []byte) {
	h.t.Helper()
	if err := h.topicByID(h.topic).bulletins.Publish(context.Background(), raw); err != nil {
		h.t.Fatal(err)
	}
}

// gossipEntry publishes raw on the topic's log channel.
func (h *hostile) gossipEntry(raw []byte) {
	h.t.Helper()
	if err := h.topicByID(h.topic).log.Publish(context.Background(), raw); err != nil {
		h.t.Fatal(err)
	}
}

// answerSync makes the node answer sync requests with answer, or
// honestly when answer is nil; every stream is counted.
func (h *hostile) answerSync(answer func(*SyncRequest) SyncResponse) {
	h.host.SetStreamHandler(libp2pprotocol.ID(protocol.SyncProtocol), func(s network.Stream) {
		h.synced.Add(1)
		h.mu.Lock()
		h.syncedFrom[s.Conn().RemotePeer()]++
		h.mu.Unlock()
		if answer == nil {
			h.handleSyncStream(s)
			return
		}
		serve(s, maxSyncRequest, syncTimeout, func(err error) SyncResponse { return SyncResponse{Error: err.Error()} }, answer)
	})
}

// entry signs a log entry at index with prev, as author, with signer's key.
func (h *hostile) entry(index uint64, prev []byte, author string, signer *crypto.Identity, fill func(*protocol.LogEntry)) []byte {
	h.t.Helper()
	state, _ := h.topicByID(h.topic).snapshot()
	e := state.NextEntry(author, protocol.EntryRole, time.Now())
	e.Index, e.Prev = index, prev
	fill(e)
	e.TS = e.TS.UTC()
	raw, _, err := crypto.Seal(signer.Signing, crypto.DomainLogEntry, *e)
	if err != nil {
		h.t.Fatal(err)
	}
	return raw
}

// maxAttackHeap bounds how much the test process's heap may grow under one
// attack: the systemd unit's GOMEMLIMIT (configs/concord.service), which a
// daemon under attack must stay within. The process holds every node of
// the test, so this is an upper bound on the attacked node's growth.
const maxAttackHeap = 150 << 20

// watchHeap samples the heap in use until the returned function is
// called, which logs the peak against what was in use before and fails
// the test if it grew by more than maxAttackHeap.
func watchHeap(t *testing.T, attack string) (done func()) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			sampler.Wait()
			grew := int64(peak.Load()) - int64(base)
			t.Logf("heap under %s: %d MiB before, peak %d MiB (+%d MiB; bound +%d MiB)", attack, base>>20, peak.Load()>>20, grew>>20, maxAttackHeap>>20)
			if grew > maxAttackHeap {
				t.Errorf("the heap grew by %d MiB under %s, more than %d MiB", grew>>20, attack, maxAttackHeap>>20)
			}
		})
	}
}

func rejected(n *Node, kind, reason string) float64 {
	return testutil.ToFloat64(n.metrics.rejected.WithLabelValues(kind, reason))
}

// 1. A log entry below the log's end that is not signed by a member who
// may write there is rejected before it is taken for a fork: no fork
// resolution, no download of the sender's log.
func TestForgedLogEntriesStartNoForkResolution(t *testing.T) {
	nodes, id := federation(t, 4, "organized-crime")
	a, c := nodes[0], nodes[2]
	b, d := asHostile(t, nodes[1], id), asHostile(t, nodes[3], id)
	s, _ := a.topicByID(id).snapshot()
	genesis, length := s.Entries[0], s.Len
	head0, _ := s.EntryHash(0)
	role := func(e *protocol.LogEntry) {
		e.Type, e.Role = protocol.EntryRole, &protocol.RoleChange{Member: c.id.MemberID(), Role: protocol.RoleAdmin}
	}
	// Signed by b in the owner's name, and signed by d as itself, who is
	// no admin: neither may be written at index 1. (One invalid message
	// graylists its sender for a while, hence two senders.)
	b.gossipEntry(b.entry(1, head0[:], a.id.MemberID(), b.id, role))
	d.gossipEntry(d.entry(1, head0[:], d.id.MemberID(), d.id, role))
	eventually(t, 20*time.Second, "c did not reject both forged entries", func() bool {
		return rejected(c, "log-entry", "invalid-entry") >= 2
	})
	for _, n := range []*Node{a, c} {
		n.guard.mu.Lock()
		started := len(n.guard.forks.started)
		n.guard.mu.Unlock()
		if started != 0 {
			t.Fatalf("%s started a fork resolution on a forged entry (bound: none)", n.cfg.Member.Name)
		}
		if s, _ := n.topicByID(id).snapshot(); string(s.Entries[0]) != string(genesis) || s.Len != length {
			t.Fatalf("%s's log changed: %d entries", n.cfg.Member.Name, s.Len)
		}
	}
}

// 1. A fork resolution downloads a bounded log: a member whose log sync
// answers never end is cut off at our log's size plus maxForkGrowth.
func TestForkResolutionIsBounded(t *testing.T) {
	nodes, id := federation(t, 2, "organized-crime")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	s, _ := b.topicByID(id).snapshot()
	filler := make([][]byte, 0, 1024)
	for len(filler) < cap(filler) && logBytes(filler) < maxSyncPage-len(s.Entries[1]) {
		filler = append(filler, s.Entries[1])
	}
	var asked atomic.Int64
	b.answerSync(func(req *SyncRequest) SyncResponse {
		asked.Add(1)
		return SyncResponse{Entries: filler, More: true}
	})
	heap := watchHeap(t, "an endless fork log")
	err := a.resolveFork(a.topicByID(id), b.host.ID())
	heap()
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("an endless log gave %v", err)
	}
	sa, _ := a.topicByID(id).snapshot()
	// The page that crosses it, rounded up; and one more that a's own log
	// sync with b (on connection, or the periodic one) may ask meanwhile,
	// which has its own bound: the counter sees every request b answers.
	bound := (logBytes(sa.Entries)+maxForkGrowth)/logBytes(filler) + 3
	if got := asked.Load(); got > int64(bound) {
		t.Fatalf("%d log pages fetched, bound %d", got, bound)
	}
	if a.guard.appScore(b.host.ID()) >= 0 {
		t.Fatal("the peer with an endless log got no strike")
	}
	// A second resolution right away is not started at all.
	if err := a.resolveFork(a.topicByID(id), b.host.ID()); err == nil || !strings.Contains(err.Error(), "less than") {
		t.Fatalf("a second fork resolution within %s: %v", forkInterval, err)
	}
}

// 2. A removed member's chain is pinned at what the remover held without
// a gap: an envelope it planted far ahead, and anything it signs after,
// is refused; a leaver cannot pin a chain it has not signed.
func TestFormerMembersChainsArePinned(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 4, "drug-trafficking")
	a, c := nodes[0], nodes[2]
	b := asHostile(t, nodes[1], id)
	d := asHostile(t, nodes[3], id)
	first := publish(t, b.Node, id, draft("one"))
	second := publish(t, b.Node, id, draft("two"))
	for _, n := range []*Node{a, c} {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" misses b's bulletins", func() bool {
			return readable(n, first.ID) && readable(n, second.ID)
		})
	}
	planted := b.envelope(forged{seq: 1000, prev: make([]byte, 32)})
	if err := a.Ingest(ctx, planted.Raw); err != nil {
		t.Fatalf("as a member's, the planted envelope is stored out of order: %v", err)
	}
	if _, _, err := a.remove(ctx, a.topicByID(id), b.id.MemberID(), "hostile"); err != nil {
		t.Fatal(err)
	}
	s, _ := a.topicByID(id).snapshot()
	last, lastID, former := s.FormerChain(b.id.MemberID())
	if !former || last != 2 || protocol.EnvelopeID(lastID) != second.Envelope {
		t.Fatalf("the removal pinned seq %d %x, want 2 %x", last, lastID[:6], second.Envelope[:6])
	}
	// b goes on signing at the epoch it holds, after its second envelope.
	state, _ := b.topicByID(id).snapshot()
	next := b.envelope(forged{seq: 3, prev: second.Envelope[:], epoch: state.Epoch})
	waitEpoch(t, []*Node{a, c}, id, 2)
	for _, n := range []*Node{a, c} {
		if err := n.Ingest(ctx, next.Raw); err == nil {
			t.Fatalf("%s accepted seq 3 of the removed member", n.cfg.Member.Name)
		}
	}

	// d leaves, pinning a chain end it never signed, far ahead.
	fake := make([]byte, 32)
	rand.Read(fake)
	dState, _ := d.topicByID(id).snapshot()
	if _, err := d.writeEntry(ctx, d.topicByID(id), protocol.EntryLeave, nil, func(s *protocol.TopicState, e *protocol.LogEntry) error {
		key, err := nextKey(s)
		if err != nil {
			return err
		}
		r, err := s.NewRotate(key, d.id.MemberID())
		e.Leave = &protocol.Leave{Rotate: r, LastSeq: 1 << 20, LastID: fake}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitEpoch(t, []*Node{a, c}, id, 3)
	late := d.envelope(forged{seq: 1, epoch: dState.Epoch})
	for _, n := range []*Node{a, c} {
		err := n.Ingest(ctx, late.Raw)
		if err == nil {
			t.Fatalf("%s accepted an envelope of the leaver below the chain end it pinned", n.cfg.Member.Name)
		}
		if got := rejected(n, "envelope", protocol.ReasonFormerChain); got < 1 {
			t.Fatalf("%s: %v, not counted as %s", n.cfg.Member.Name, err, protocol.ReasonFormerChain)
		}
	}
	// Sharing no topic any more, their nodes are disconnected.
	for _, p := range []*Node{b.Node, d.Node} {
		eventually(t, 20*time.Second, "a keeps the connection to a former member's node", func() bool {
			return len(a.host.Network().ConnsToPeer(p.host.ID())) == 0
		})
	}
}

// 3. A member cannot take over another member's bulletin ID, whatever
// arrives first: the ID is bound to its originator.
func TestBulletinIDsCannotBeSquatted(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "corruption")
	a, c := nodes[0], nodes[2]
	b := asHostile(t, nodes[1], id)
	c.dropGossip = func() bool { return true } // c is offline for what follows
	genuine := publish(t, a, id, draft("genuine"))
	eventually(t, 20*time.Second, "b misses a's bulletin", func() bool { return readable(b.Node, genuine.ID) })

	squat := b.envelope(forged{payload: b.bulletin(func(bl *protocol.Bulletin) {
		bl.ID, bl.Title = genuine.ID, "stand down"
	})})
	if err := c.Ingest(ctx, squat.Raw); err == nil {
		t.Fatal("c accepted a bulletin carrying another member's ID")
	}
	if got := rejected(c, "envelope", protocol.ReasonBadBulletinID); got != 1 {
		t.Fatalf("squatting counted %v times as %s", got, protocol.ReasonBadBulletinID)
	}
	raw, err := a.store.Envelope(genuine.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ingest(ctx, raw); err != nil {
		t.Fatalf("the genuine bulletin after the squatter's: %v", err)
	}
	rec := record(c, genuine.ID)
	if rec.Author != a.id.MemberID() || !strings.Contains(string(rec.Bulletin), "genuine") {
		t.Fatalf("c holds %s's %s", rec.Author, rec.Bulletin)
	}
	// The squatter's envelope entered its chain: sync stops asking for it.
	vv, _ := c.store.VersionVector(id)
	if vv[b.id.MemberID()] != squat.Seq {
		t.Fatalf("b's chain at c is at %d, want %d", vv[b.id.MemberID()], squat.Seq)
	}
}

// 4. An envelope that names an epoch or author our log does not know
// starts no work unless signed by a known author, and at most one log
// sync per hintInterval with its sender, who gets a strike when the sync
// shows the claim was false.
func TestUnverifiableEnvelopesStartBoundedWork(t *testing.T) {
	nodes, id := federation(t, 3, "terrorism")
	a := nodes[0]
	b, d := asHostile(t, nodes[1], id), asHostile(t, nodes[2], id)
	outsider, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	// A future epoch, d's name, another's signature: refused on its face
	// (and d, graylisted by its first one, is not even heard after it).
	for i := range 20 {
		d.gossip(d.envelope(forged{seq: uint64(100 + i), prev: make([]byte, 32), epoch: 99, signer: outsider}).Raw)
	}
	eventually(t, 20*time.Second, "a did not reject the badly signed envelopes", func() bool {
		return rejected(a, "envelope", protocol.ReasonBadSignature) >= 1
	})
	a.guard.mu.Lock()
	hints := len(a.guard.hints.started)
	a.guard.mu.Unlock()
	if hints != 0 {
		t.Fatalf("badly signed envelopes started %d log syncs (bound: none)", hints)
	}
	// An author nobody knows, at a future epoch: unverifiable.
	before, start := b.streamsFrom(a.host.ID()), time.Now()
	heap := watchHeap(t, "200 unverifiable envelopes")
	defer heap()
	for i := range 200 {
		b.gossip(b.envelope(forged{seq: 1, epoch: 99, author: outsider.MemberID(), signer: outsider, ts: time.Now().Add(time.Duration(i))}).Raw)
	}
	eventually(t, 20*time.Second, "a did not strike the sender of unverifiable envelopes", func() bool {
		return a.guard.appScore(b.host.ID()) < 0
	})
	if got := rejected(a, "sync", "unwarranted-hint"); got != 1 {
		t.Fatalf("unwarranted log syncs counted %v times, want 1 (bound: one per %s)", got, hintInterval)
	}
	if got := rejected(a, "sync", "hint-limited"); got < 100 {
		t.Fatalf("only %v of 200 unverifiable envelopes were turned away by the hint limit", got)
	}
	// A hinted log sync is one stream, at most one per hintInterval; a
	// sync a happens to run with b meanwhile (on a reconnection, or the
	// periodic one every syncInterval) is three more. The test's own pace
	// (slow under the race detector) sets how many of each fit.
	elapsed := time.Since(start)
	bound := 1 + int64(elapsed/hintInterval) + 3*(1+int64(elapsed/syncInterval))
	if got := b.streamsFrom(a.host.ID()) - before; got > bound {
		t.Fatalf("200 unverifiable envelopes opened %d sync streams in %v (bound %d: one log sync per %s)", got, elapsed.Round(time.Millisecond), bound, hintInterval)
	}
}

// 5. Sync streams a member opens and never reads hold a bounded number of
// pages: at most maxServedPerPeer per peer, the rest answered busy.
func TestSyncServingIsBounded(t *testing.T) {
	nodes, id := federation(t, 2, "arms-trafficking")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	big := make([]byte, 600<<10)
	rand.Read(big)
	for i := range 8 {
		d := draft(fmt.Sprintf("large %d", i))
		d.Attachments = []protocol.Attachment{protocol.NewAttachment("scan.bin", "application/octet-stream", big)}
		publish(t, a, id, d)
	}
	heap := watchHeap(t, "12 stalled sync streams")
	defer heap()
	// 12 streams asking for every envelope of a, none of them read.
	req, err := canon.Marshal(SyncRequest{Kind: syncKindEnvelopes, Topic: id[:], Author: a.id.MemberID(), From: 1})
	if err != nil {
		t.Fatal(err)
	}
	var streams []network.Stream
	for range 12 {
		s, err := b.host.NewStream(context.Background(), a.host.ID(), libp2pprotocol.ID(protocol.SyncProtocol))
		if err != nil {
			t.Fatal(err)
		}
		s.Write(req)
		s.CloseWrite()
		streams = append(streams, s)
	}
	served := func() int {
		a.guard.mu.Lock()
		defer a.guard.mu.Unlock()
		return a.guard.served[b.host.ID()]
	}
	eventually(t, 20*time.Second, "a refused none of the streams as busy", func() bool {
		return rejected(a, "sync", "busy") >= 10
	})
	if got := served(); got > maxServedPerPeer {
		t.Fatalf("a serves %d streams of one peer at once (bound %d)", got, maxServedPerPeer)
	}
	for _, s := range streams {
		s.Reset()
	}
	eventually(t, 2*syncServeTimeout, "a still holds the attacker's streams", func() bool { return served() == 0 })
}

// 6. Equivocation evidence is bounded: one record per (topic, author,
// seq), however many different envelopes a member signs there.
func TestEquivocationEvidenceIsBounded(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "money-laundering")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	rec := publish(t, b.Node, id, draft("first"))
	eventually(t, 20*time.Second, "a misses b's bulletin", func() bool { return readable(a, rec.ID) })
	for range 30 {
		a.Ingest(ctx, b.envelope(forged{seq: 1}).Raw)
	}
	ev, err := a.store.Equivocations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 {
		t.Fatalf("%d evidence records for one (author, seq), bound 1", len(ev))
	}
}

// 7. An author's envelopes beyond its budget are refused, counted and
// shown; beyond its quota, too.
func TestAuthorBudgetAndQuota(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "migrant-smuggling")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	a.budgets.reset(LimitsConfig{AuthorRate: 0.001, AuthorBurst: 5, AuthorKiBPerSecond: 1, AuthorBurstMiB: 1, AuthorQuotaMiB: 1})
	heap := watchHeap(t, "a flood beyond the budget")
	defer heap()
	recs := publishSeries(t, b.Node, id, 12, "flood")
	eventually(t, 20*time.Second, "a did not refuse the flood", func() bool {
		return rejected(a, "envelope", protocol.ReasonBudget) >= 7
	})
	held := 0
	for _, r := range recs {
		if readable(a, r.ID) {
			held++
		}
	}
	if held != 5 {
		t.Fatalf("a holds %d of b's 12 bulletins, budget 5", held)
	}
	if st := a.syncStatus(); len(st) != 1 || st[0].OverBudget[b.id.MemberID()] < 7 {
		t.Fatalf("status does not show the refusals: %+v", st)
	}
	// What a already holds costs nothing more (sync re-fetches above gaps).
	for _, r := range recs {
		if readable(a, r.ID) {
			raw, err := b.store.Envelope(r.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Ingest(ctx, raw); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("an envelope a holds, over the budget: %v, want ErrDuplicate", err)
			}
			break
		}
	}

	// A quota of 20 KiB of envelopes per author.
	a.budgets.reset(DefaultLimits())
	a.store.SetAuthorQuota(20 << 10)
	refused := 0
	prev := make([]byte, 32)
	for i := range 10 { // one chain, so that every envelope counts against the quota
		env := b.envelope(forged{seq: uint64(100 + i), prev: prev})
		if err := a.Ingest(ctx, env.Raw); err != nil {
			refused++
		}
		prev = env.ID[:]
	}
	if _, bytes, _ := a.store.AuthorUsage(id, b.id.MemberID()); bytes > 20<<10 || refused == 0 {
		t.Fatalf("b holds %d bytes at a, quota %d; %d refused", bytes, 20<<10, refused)
	}
	if rejected(a, "envelope", protocol.ReasonQuota) < 1 {
		t.Fatal("quota refusals are not counted")
	}
}

// 8. Times far ahead of the receiver's clock are refused: a bulletin
// cannot pin itself at the top of every listing.
func TestFarFutureTimesAreRefused(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "document-fraud")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	future := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	created := b.envelope(forged{payload: b.bulletin(func(bl *protocol.Bulletin) { bl.Created, bl.Modified = future, future })})
	if err := a.Ingest(ctx, created.Raw); err == nil || !strings.Contains(err.Error(), "ahead of this node's clock") {
		t.Fatalf("a bulletin created in 9999: %v", err)
	}
	stamped := b.envelope(forged{seq: 2, prev: created.ID[:], ts: time.Now().Add(time.Hour)})
	if err := a.Ingest(ctx, stamped.Raw); err == nil || !strings.Contains(err.Error(), "ahead of this node's clock") {
		t.Fatalf("an envelope stamped an hour ahead: %v", err)
	}
	if got := rejected(a, "envelope", protocol.ReasonBadTime); got != 2 {
		t.Fatalf("far-future times counted %v times, want 2", got)
	}
}

// 9. A member node that never answers delays our first publication by
// seqConfirmTimeout, not by a whole sync timeout.
func TestSilentMemberDoesNotStallPublishing(t *testing.T) {
	nodes, id := federation(t, 2, "illicit-goods-smuggling")
	a := nodes[0]
	b := asHostile(t, nodes[1], id)
	release := make(chan struct{})
	defer close(release)
	b.answerSync(func(*SyncRequest) SyncResponse {
		<-release
		return SyncResponse{Error: "late"}
	})
	a.topicByID(id).seqConfirmed.Store(false)
	start := time.Now()
	publish(t, a, id, draft("not held up"))
	if took := time.Since(start); took > seqConfirmTimeout+5*time.Second {
		t.Fatalf("publishing waited %v for a silent member (bound %v)", took, seqConfirmTimeout)
	}
	if b.synced.Load() == 0 {
		t.Fatal("the member was not asked to confirm our sequence number")
	}
}
