package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	libp2pprotocol "github.com/libp2p/go-libp2p/core/protocol"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func TestMain(m *testing.M) {
	syncInterval = 500 * time.Millisecond // tests wait seconds, not minutes
	os.Exit(m.Run())
}

// sameVersionVectors reports whether every node holds the same envelopes
// of a topic, and returns the vectors for failure messages.
func sameVersionVectors(nodes []*Node, id protocol.TopicID) (bool, string) {
	var first map[string]uint64
	desc := ""
	same := true
	for i, n := range nodes {
		vv, err := n.store.VersionVector(id)
		if err != nil {
			return false, err.Error()
		}
		desc += fmt.Sprintf("%s:%v ", n.cfg.Member.Name, vv)
		if i == 0 {
			first = vv
		} else if fmt.Sprint(vv) != fmt.Sprint(first) {
			same = false
		}
	}
	return same, desc
}

func waitConverged(t *testing.T, nodes []*Node, id protocol.TopicID, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() (bool, string) {
		same, desc := sameVersionVectors(nodes, id)
		return same, "version vectors differ: " + desc
	})
}

// listing returns the IDs and versions a node lists, for comparison.
func listing(t *testing.T, n *Node, id protocol.TopicID) []string {
	t.Helper()
	tid := [32]byte(id)
	recs, err := n.store.List(storeQuery(tid))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s/%s/%d/%v", r.ID, r.Author, r.Seq, r.Sealed))
	}
	slices.Sort(out)
	return out
}

// A member that was stopped while the others published 500 bulletins
// catches up when it restarts: same version vectors, same listing.
func TestOfflineMemberCatchesUp(t *testing.T) {
	nodes, id := federation(t, 3, "drug-trafficking")
	a, b, c := nodes[0], nodes[1], nodes[2]
	home, log := c.home, c.log
	c.Close()
	var wg sync.WaitGroup
	for _, n := range []*Node{a, b} {
		wg.Go(func() {
			for i := range 250 {
				publishFromGoroutine(t, n, id, draft(fmt.Sprintf("%s while c was down %d", n.cfg.Member.Name, i)))
			}
		})
	}
	wg.Wait()
	c2, err := Start(home, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	all := []*Node{a, b, c2}
	waitConverged(t, all, id, 60*time.Second)
	want := listing(t, a, id)
	if len(want) != 500 {
		t.Fatalf("a lists %d bulletins, want 500", len(want))
	}
	if got := listing(t, c2, id); !slices.Equal(got, want) {
		t.Fatalf("restarted member lists %d bulletins, a lists %d", len(got), len(want))
	}
}

// Publications made at once on one topic by one node take distinct,
// consecutive sequence numbers while the node keeps receiving.
func TestConcurrentPublicationsTakeConsecutiveSeqs(t *testing.T) {
	nodes, id := federation(t, 2, "document-fraud")
	a, b := nodes[0], nodes[1]
	var wg sync.WaitGroup
	for _, n := range []*Node{a, a, a, a, b} {
		wg.Go(func() {
			for i := range 10 {
				publishFromGoroutine(t, n, id, draft(fmt.Sprintf("%s at once %d", n.cfg.Member.Name, i)))
			}
		})
	}
	wg.Wait()
	waitConverged(t, nodes, id, 20*time.Second)
	vv, err := b.store.VersionVector(id)
	if err != nil {
		t.Fatal(err)
	}
	if vv[a.id.MemberID()] != 40 || vv[b.id.MemberID()] != 10 {
		t.Fatalf("version vector %v, want 40 envelopes of %s and 10 of %s with no gap", vv, a.id.MemberID(), b.id.MemberID())
	}
	if ev, _ := b.store.Equivocations(); len(ev) != 0 {
		t.Fatalf("equivocation: %+v", ev)
	}
}

// publishFromGoroutine is publish for goroutines other than the test's,
// which may not call t.Fatal.
func publishFromGoroutine(t *testing.T, n *Node, id protocol.TopicID, d *protocol.BulletinDraft) {
	if _, err := n.publish(context.Background(), n.topicByID(id), d); err != nil {
		t.Error(err)
	}
}

// partition cuts the nodes of one side off those of the other.
func partition(t *testing.T, left, right []*Node) (heal func()) {
	t.Helper()
	for _, l := range left {
		for _, r := range right {
			l.blocked.Store(r.host.ID(), struct{}{})
			r.blocked.Store(l.host.ID(), struct{}{})
			l.host.Network().ClosePeer(r.host.ID())
			r.host.Network().ClosePeer(l.host.ID())
		}
	}
	return func() {
		for _, n := range append(append([]*Node{}, left...), right...) {
			n.blocked.Clear()
			s, _ := n.topicByID(n.allTopics()[0].state.ID).snapshot()
			n.dialMembers(s)
		}
	}
}

// A five-member topic split in two halves that both publish converges
// once healed.
func TestPartitionHeals(t *testing.T) {
	nodes, id := federation(t, 5, "terrorism")
	left, right := nodes[:3], nodes[3:]
	heal := partition(t, left, right)
	for i, n := range nodes {
		for j := range 20 {
			publish(t, n, id, draft(fmt.Sprintf("node %d during the partition %d", i, j)))
		}
	}
	heal()
	waitConverged(t, nodes, id, 60*time.Second)
	want := listing(t, nodes[0], id)
	if len(want) != 100 {
		t.Fatalf("%d bulletins listed, want 100", len(want))
	}
	for _, n := range nodes[1:] {
		if got := listing(t, n, id); !slices.Equal(got, want) {
			t.Fatalf("%s lists %d bulletins, want %d", n.cfg.Member.Name, len(got), len(want))
		}
	}
}

// With a third of the gossip lost at every receiver, sync still
// completes every node.
func TestLossyGossipIsRepairedBySync(t *testing.T) {
	nodes, id := federation(t, 4, "corruption")
	for _, n := range nodes {
		n.dropGossip = func() bool { return rand.Float64() < 0.33 }
	}
	for i, n := range nodes {
		for j := range 25 {
			publish(t, n, id, draft(fmt.Sprintf("lossy %d/%d", i, j)))
		}
	}
	waitConverged(t, nodes, id, 60*time.Second)
	for _, n := range nodes {
		if got := len(listing(t, n, id)); got != 100 {
			t.Fatalf("%s lists %d bulletins, want 100", n.cfg.Member.Name, got)
		}
	}
}

// A gap seen on gossip is repaired from the author's own node, which holds
// every envelope of its member, even when another member lacks the same
// envelopes. Periodic sync is off, so only gap repair can close it.
func TestGapIsRepairedFromTheAuthor(t *testing.T) {
	interval := syncInterval
	t.Cleanup(func() { syncInterval = interval }) // after the nodes are closed
	syncInterval = time.Hour
	nodes, id := federation(t, 3, "terrorism")
	a, b, c := nodes[0], nodes[1], nodes[2]
	var lossy atomic.Bool
	lossy.Store(true)
	b.dropGossip, c.dropGossip = lossy.Load, lossy.Load
	publishSeries(t, a, id, 5, "lost")
	lossy.Store(false)
	publish(t, a, id, draft("received"))
	waitConverged(t, nodes, id, 20*time.Second)
	for _, n := range nodes {
		if got := len(listing(t, n, id)); got != 6 {
			t.Fatalf("%s lists %d bulletins, want 6", n.cfg.Member.Name, got)
		}
	}
}

// A node that lost its database but kept its keys learns its last seq
// from its peers before publishing again: no seq is reused.
func TestLostDatabaseNeverReusesSeq(t *testing.T) {
	nodes, id := federation(t, 2, "money-laundering")
	a, b := nodes[0], nodes[1]
	publishSeries(t, b, id, 3, "before the loss")
	waitConverged(t, nodes, id, 20*time.Second)
	home, log := b.home, b.log
	b.Close()
	if err := os.RemoveAll(home.DB()); err != nil {
		t.Fatal(err)
	}
	// Without its database the node has lost the topic too: it is invited
	// back, as an operator would do after restoring only the keys.
	b2, err := Start(home, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	if _, _, err := a.remove(t.Context(), a.topicByID(id), b2.id.MemberID(), "database lost"); err != nil {
		t.Fatal(err)
	}
	invite(t, a, b2, id)
	waitMesh(t, []*Node{a, b2}, id)
	rec := publish(t, b2, id, draft("after the loss"))
	if rec.Seq != 4 {
		t.Fatalf("after losing its database the node published seq %d, want 4", rec.Seq)
	}
	ev, _ := a.store.Equivocations()
	if len(ev) != 0 {
		t.Fatalf("equivocation after recovery: %+v", ev)
	}
}

func storeQuery(id [32]byte) store.Query { return store.Query{Topic: &id} }

// A peer that answers with a page going backwards (more to come, but its
// last seq below the one asked for) is refused, not asked forever.
func TestSyncRefusesAPageGoingBackwards(t *testing.T) {
	nodes, id := federation(t, 2, "organized-crime")
	a, b := nodes[0], nodes[1]
	me := a.id.MemberID()
	publish(t, a, id, draft("the only one"))
	first, _, err := a.store.EnvelopeRange(id, me, 1, 1, maxSyncResponse, 1)
	if err != nil || len(first) != 1 {
		t.Fatalf("a's first envelope: %d, %v", len(first), err)
	}
	b.host.SetStreamHandler(libp2pprotocol.ID(protocol.SyncProtocol), func(s network.Stream) {
		serve(s, maxSyncRequest, syncTimeout, func(error) SyncResponse { return SyncResponse{} }, func(req *SyncRequest) SyncResponse {
			if req.Kind == syncKindHeads {
				return SyncResponse{Heads: map[string]uint64{me: 1000}}
			}
			return SyncResponse{Entries: first, More: true}
		})
	})
	done := make(chan error, 1)
	go func() {
		_, err := a.fetchEnvelopes(context.Background(), a.topicByID(id), b.host.ID(), me)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "seq 1, outside 2..1000") {
			t.Fatalf("a page going backwards gave %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the node keeps asking a peer whose pages go backwards")
	}
}

// A member that joins fetches what it may read at once: periodic sync is
// off, and nothing is published after the join, so only the sync the
// join starts can bring the earlier bulletins.
func TestJoinFetchesEarlierBulletinsAtOnce(t *testing.T) {
	interval := syncInterval
	t.Cleanup(func() { syncInterval = interval }) // after the nodes are closed
	syncInterval = time.Hour
	nodes, id := federation(t, 1, "document-fraud")
	a := nodes[0]
	publishSeries(t, a, id, 40, "before the join")
	b := startNode(t, "Joiner", "BRA")
	invite(t, a, b, id)
	eventually(t, 20*time.Second, "the new member never fetched the bulletins published before it joined", func() bool {
		return len(listing(t, b, id)) == 40
	})
}
