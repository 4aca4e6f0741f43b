package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// startNode initializes a home in a temporary directory and starts a
// daemon on loopback; it is closed when the test ends.
func startNode(t testing.TB, name, country string) *Node {
	t.Helper()
	return startNodeWith(t, name, country, nil)
}

// startNodeWith is startNode with edit applied to the default config.
func startNodeWith(t testing.TB, name, country string, edit func(*Config)) *Node {
	t.Helper()
	n, err := newNode(t, name, country, edit)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newNode is startNodeWith returning its error, for starters that may run
// on other goroutines than the test's and for tests of a failing start.
// edit, if not nil, changes the default config.
func newNode(t testing.TB, name, country string, edit func(*Config)) (*Node, error) {
	h := Home(filepath.Join(t.TempDir(), "h"))
	cfg := DefaultConfig(name, country)
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if edit != nil {
		edit(&cfg)
	}
	if _, err := Init(h, cfg); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CONCORD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	n, err := Start(h, log)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { n.Close() })
	return n, nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitFor(t, timeout, func() (bool, string) { return cond(), what })
}

// waitFor polls cond every 20 ms until it holds; past the deadline it
// fails with the state cond last described.
func waitFor(t testing.TB, timeout time.Duration, cond func() (ok bool, state string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var state string
	err := nodetest.Poll(ctx, 20*time.Millisecond, func() (ok bool, _ error) {
		ok, state = cond()
		return ok, nil
	})
	if err != nil {
		t.Fatalf("after %v: %s", timeout, state)
	}
}

// member is a node as the harness drives it: through its local API.
type member struct {
	*Node
	api *api.Client
}

func asMember(n *Node) member { return member{n, api.NewClient(string(n.home), n.home.Socket())} }

func (m member) Client() *api.Client { return m.api }

func members(nodes []*Node) []nodetest.Member {
	ms := make([]nodetest.Member, len(nodes))
	for i, n := range nodes {
		ms[i] = asMember(n)
	}
	return ms
}

// invite has owner invite member to t and member join with the token,
// through their APIs.
func invite(t testing.TB, owner, m *Node, topicID protocol.TopicID) {
	t.Helper()
	if _, err := nodetest.Invite(context.Background(), asMember(owner), asMember(m), topicID.String()); err != nil {
		t.Fatalf("%s joining: %v", m.cfg.Member.Name, err)
	}
}

// federation starts n nodes, a topic owned by the first, and has all
// others join it; it waits until every node sees every other in the topic.
func federation(t testing.TB, n int, category string) ([]*Node, protocol.TopicID) {
	t.Helper()
	countries := []string{"FRA", "NGA", "BRA", "DEU", "KEN", "IND", "JPN", "MEX", "ZAF", "CAN", "ITA", "EGY"}
	ctx := context.Background()
	f, err := nodetest.Start(ctx, n, func(_ context.Context, i int) (nodetest.Member, error) {
		nd, err := newNode(t, fmt.Sprintf("Agency %d", i), countries[i%len(countries)], nil)
		if err != nil {
			return nil, err
		}
		return asMember(nd), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Node, n)
	for i, m := range f.Members {
		nodes[i] = m.(member).Node
	}
	s, err := f.CreateTopic(ctx, 0, category, "Test topic")
	if err != nil {
		t.Fatal(err)
	}
	id, err := protocol.ParseTopicID(s.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitMesh(t, nodes, id)
	return nodes, id
}

// waitMesh waits until every node holds the full log and has every other
// member as a GossipSub peer on the topic, 30 s for each.
func waitMesh(t testing.TB, nodes []*Node, id protocol.TopicID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(nodes))*30*time.Second)
	defer cancel()
	if err := nodetest.WaitMesh(ctx, members(nodes), id.String()); err != nil {
		t.Fatal(err)
	}
}

func draft(title string) *protocol.BulletinDraft {
	return &protocol.BulletinDraft{
		Title: title, Summary: "summary of " + title, Body: "# Report\n\nDetails.", Language: "en",
		TLP: "AMBER", Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{{Type: "vessel", Value: "MV Example", Fields: map[string]string{"imo": "9999999"}}},
	}
}

func publish(t testing.TB, n *Node, id protocol.TopicID, d *protocol.BulletinDraft) *store.BulletinRecord {
	t.Helper()
	rec, err := n.publish(context.Background(), n.topicByID(id), d)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// publishSeries publishes count bulletins on n, titled "title 0" onwards.
func publishSeries(t testing.TB, n *Node, id protocol.TopicID, count int, title string) []*store.BulletinRecord {
	t.Helper()
	recs := make([]*store.BulletinRecord, count)
	for i := range recs {
		recs[i] = publish(t, n, id, draft(fmt.Sprintf("%s %d", title, i)))
	}
	return recs
}

// readable reports whether n holds bulletin id decrypted, content and all
// (a tombstone is not readable).
func readable(n *Node, id string) bool {
	rec, err := n.store.Bulletin(id)
	return err == nil && !rec.Sealed && len(rec.Bulletin) > 0
}

func TestThreeStatesShareBulletins(t *testing.T) {
	nodes, id := federation(t, 3, "drug-trafficking")
	var ids []string
	for i, n := range nodes {
		ids = append(ids, publish(t, n, id, draft(fmt.Sprintf("bulletin from %d", i))).ID)
	}
	for _, n := range nodes {
		for _, bid := range ids {
			eventually(t, 20*time.Second, n.cfg.Member.Name+" misses "+bid, func() bool { return readable(n, bid) })
		}
	}
	// Every node holds byte-identical bulletins.
	want, _ := nodes[0].store.Bulletin(ids[1])
	for _, n := range nodes[1:] {
		got, _ := n.store.Bulletin(ids[1])
		if string(got.Bulletin) != string(want.Bulletin) || got.Envelope != want.Envelope {
			t.Fatalf("%s holds a different bulletin", n.cfg.Member.Name)
		}
	}
}

func TestRestrictedAudience(t *testing.T) {
	nodes, id := federation(t, 3, "terrorism")
	d := draft("for NGA only")
	d.Audience = []string{nodes[1].id.MemberID()}
	rec := publish(t, nodes[0], id, d)
	eventually(t, 20*time.Second, "audience member cannot read", func() bool { return readable(nodes[1], rec.ID) })
	env := protocol.EnvelopeID(rec.Envelope).String()
	eventually(t, 20*time.Second, "outsider does not hold the sealed envelope", func() bool {
		r, err := nodes[2].store.Bulletin(env)
		return err == nil && r.Sealed
	})
	if readable(nodes[2], rec.ID) {
		t.Fatal("a member outside the audience can read the bulletin")
	}
}

func TestJoinRefusals(t *testing.T) {
	ctx := context.Background()
	owner := startNode(t, "Owner", "FRA")
	invitee := startNode(t, "Invitee", "NGA")
	thief := startNode(t, "Thief", "RUS")
	s, err := owner.CreateTopic(ctx, "arms-trafficking", "Small arms", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	card, _ := invitee.Card()
	inv, err := owner.invite(ctx, owner.topicByID(s.ID), card, protocol.RoleMember, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The thief's own node refuses the token, and so does the inviter when
	// the thief presents it with its own card and proof.
	if _, err := thief.Join(ctx, inv.Token()); !errors.Is(err, crypto.ErrNotInvitee) {
		t.Fatalf("thief's node accepted another member's token: %v", err)
	}
	thiefCard, _ := thief.Card()
	if _, err := owner.acceptJoin(ctx, inv, thiefCard, crypto.SignJoin(thief.id, inv), thief.host.ID().String()); !errors.Is(err, crypto.ErrNotInvitee) {
		t.Fatalf("inviter admitted the thief: %v", err)
	}
	// A thief that copies the invitee's card still cannot sign the proof.
	if _, err := owner.acceptJoin(ctx, inv, card, crypto.SignJoin(thief.id, inv), inv.Invitee.Peer); err == nil {
		t.Fatal("inviter accepted a join proof signed by another key")
	}
	if _, err := invitee.Join(ctx, inv.Token()); err != nil {
		t.Fatal(err)
	}
	// Single use: the same invitation presented again is refused.
	if _, err := owner.acceptJoin(ctx, inv, card, crypto.SignJoin(invitee.id, inv), inv.Invitee.Peer); err == nil {
		t.Fatal("token accepted twice")
	}
}

// A peer that shares no topic with a member node is refused at the
// handshake, and counted.
func TestStrangerIsRefusedAtTheHandshake(t *testing.T) {
	nodes, _ := federation(t, 2, "document-fraud")
	stranger := startNode(t, "Stranger", "ATA")
	target := peer.AddrInfo{ID: nodes[0].host.ID(), Addrs: nodes[0].host.Addrs()}
	// With the muxer negotiated inside the handshake, the dialer may think
	// it connected for an instant before the member closes the connection.
	stranger.host.Connect(context.Background(), target)
	eventually(t, 10*time.Second, "refusal not counted", func() bool {
		return testutil.ToFloat64(nodes[0].metrics.refused) >= 1
	})
	eventually(t, 10*time.Second, "the stranger still holds a connection", func() bool {
		return len(stranger.host.Network().ConnsToPeer(nodes[0].host.ID())) == 0
	})
	if len(nodes[0].host.Network().ConnsToPeer(stranger.host.ID())) > 0 {
		t.Fatal("the member node holds a connection to the stranger")
	}
	s, err := stranger.host.NewStream(context.Background(), nodes[0].host.ID(), "/concord/sync/1")
	if err == nil {
		s.Close()
		t.Fatal("the stranger opened a stream to a member node")
	}
}

// A peer that may connect (it shares another topic) but is not a member of
// this one: what it publishes on this topic's string is rejected by
// members, counted, and never stored.
func TestNonMemberEnvelopesAreRejected(t *testing.T) {
	nodes, id := federation(t, 2, "money-laundering")
	outsider := startNode(t, "Outsider", "ATA")
	other, err := nodes[0].CreateTopic(context.Background(), "corruption", "Other topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, nodes[0], outsider, other.ID)
	s, _ := nodes[0].topicByID(id).snapshot()
	name := protocol.TopicString(s.Category, s.ID)
	outsider.topicsMu.Lock()
	outsider.pubsubNames[name] = true // let its own filter through: it is the attacker
	outsider.topicsMu.Unlock()
	pt, err := outsider.ps.Join(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pt.Subscribe(); err != nil {
		t.Fatal(err)
	}
	env, err := protocol.SealEnvelope(outsider.id, protocol.EnvelopeBody{
		Kind: protocol.KindBulletin, Topic: s.ID[:], Epoch: s.Epoch, Author: outsider.id.MemberID(),
		Node: outsider.host.ID().String(), Seq: 1, TS: time.Now(), Ciphertext: []byte("not really age"),
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "member never sees the outsider on the topic", func() bool {
		return len(pt.ListPeers()) > 0
	})
	if err := pt.Publish(context.Background(), env.Raw); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "rejection not counted", func() bool {
		return testutil.ToFloat64(nodes[0].metrics.rejected.WithLabelValues("envelope", protocol.ReasonNotMember)) == 1
	})
	for _, n := range nodes {
		if _, err := n.store.Envelope(env.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s stored the outsider's envelope: %v", n.cfg.Member.Name, err)
		}
	}
}

// Ten states on one topic, and a second topic of another category among
// some of them: every bulletin reaches exactly its topic's members.
func TestTenNodesSeveralTopics(t *testing.T) {
	if testing.Short() {
		t.Skip("ten daemons")
	}
	nodes, drugs := federation(t, 10, "drug-trafficking")
	ctx := context.Background()
	s2, err := nodes[3].CreateTopic(ctx, "human-trafficking", "Sahel corridor", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	sub := nodes[3:7]
	for _, m := range append(append([]*Node{}, sub[1:]...), nodes[0]) {
		invite(t, nodes[3], m, s2.ID)
	}
	group := append(append([]*Node{}, sub...), nodes[0])
	waitMesh(t, group, s2.ID)

	var drugIDs, humanIDs []string
	for i, n := range nodes {
		drugIDs = append(drugIDs, publish(t, n, drugs, draft(fmt.Sprintf("drugs %d", i))).ID)
	}
	for i, n := range group {
		humanIDs = append(humanIDs, publish(t, n, s2.ID, draft(fmt.Sprintf("human %d", i))).ID)
	}
	for _, n := range nodes {
		for _, bid := range drugIDs {
			eventually(t, 30*time.Second, n.cfg.Member.Name+" misses "+bid, func() bool { return readable(n, bid) })
		}
	}
	inGroup := map[*Node]bool{}
	for _, n := range group {
		inGroup[n] = true
		for _, bid := range humanIDs {
			eventually(t, 30*time.Second, n.cfg.Member.Name+" misses "+bid, func() bool { return readable(n, bid) })
		}
	}
	for _, n := range nodes {
		if inGroup[n] {
			continue
		}
		for _, bid := range humanIDs {
			if _, err := n.store.Bulletin(bid); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s, not a member of the second topic, holds %s", n.cfg.Member.Name, bid)
			}
		}
	}
}

// A member that was down while another was added learns of it from the
// log catch-up when it comes back, and reads the newcomer's bulletins.
func TestRestartedMemberCatchesUpOnTheLog(t *testing.T) {
	nodes, id := federation(t, 2, "corruption")
	owner, b := nodes[0], nodes[1]
	home := b.home
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c := startNode(t, "Late joiner", "KEN")
	invite(t, owner, c, id)

	b2, err := Start(home, b.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	waitMesh(t, []*Node{owner, b2, c}, id)
	rec := publish(t, c, id, draft("from the late joiner"))
	eventually(t, 20*time.Second, "restarted member cannot read the newcomer's bulletin", func() bool { return readable(b2, rec.ID) })
}

// Small topics deliver everything: flood publishing reaches every
// subscribed member directly, whatever the mesh degree.
func TestSmallTopicsDeliverEverything(t *testing.T) {
	for _, size := range []int{2, 3, 5} {
		t.Run(fmt.Sprintf("%d members", size), func(t *testing.T) {
			nodes, id := federation(t, size, "migrant-smuggling")
			var ids []string
			for round := range 10 {
				for i, n := range nodes {
					ids = append(ids, publish(t, n, id, draft(fmt.Sprintf("round %d from %d", round, i))).ID)
				}
			}
			for _, n := range nodes {
				eventually(t, 30*time.Second, fmt.Sprintf("%s misses bulletins", n.cfg.Member.Name), func() bool {
					for _, bid := range ids {
						if !readable(n, bid) {
							return false
						}
					}
					return true
				})
			}
		})
	}
}
