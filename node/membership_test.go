package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// epochOf returns a node's current epoch of a topic.
func epochOf(n *Node, id protocol.TopicID) uint64 {
	s, _ := n.topicByID(id).snapshot()
	return s.Epoch
}

func waitEpoch(t *testing.T, nodes []*Node, id protocol.TopicID, epoch uint64) {
	t.Helper()
	for _, n := range nodes {
		// A deadline, not a pace: generous for the race detector's.
		eventually(t, time.Minute, n.cfg.Member.Name+" did not reach epoch", func() bool { return epochOf(n, id) == epoch })
	}
}

// Removal rotates the key: the removed member reads nothing published
// after, what it publishes is rejected, and once invited back it reads
// again from the new epoch on.
func TestRemovedMemberReadsNothingNew(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "human-trafficking")
	a, b, c := nodes[0], nodes[1], nodes[2]
	before := publish(t, a, id, draft("before removal"))
	eventually(t, 20*time.Second, "c misses the first bulletin", func() bool { return readable(c, before.ID) })
	cState, _ := c.topicByID(id).snapshot()

	if _, _, err := a.remove(ctx, a.topicByID(id), c.id.MemberID(), "suspended"); err != nil {
		t.Fatal(err)
	}
	waitEpoch(t, nodes, id, 2)
	after := publish(t, a, id, draft("after removal"))
	eventually(t, 20*time.Second, "b misses the bulletin", func() bool { return readable(b, after.ID) })
	if readable(c, after.ID) {
		t.Fatal("the removed member reads a bulletin published after its removal")
	}
	if !readable(c, before.ID) {
		t.Fatal("the removed member lost what it could already read")
	}
	if _, err := c.publish(ctx, c.topicByID(id), draft("from the removed")); err == nil {
		t.Fatal("the removed member's node published on the topic")
	}

	// Sharing no topic any more, its node is disconnected (and the gater
	// refuses it at the next handshake).
	for _, n := range []*Node{a, b} {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" keeps its connection to the removed member's node", func() bool {
			return len(n.host.Network().ConnsToPeer(c.host.ID())) == 0
		})
	}
	// A removed node that publishes anyway, with the epoch it still holds,
	// by whatever path reaches a member.
	env := forgeEnvelope(t, c, cState, draft("forged after removal"))
	for _, n := range []*Node{a, b} {
		if err := n.Ingest(ctx, env.Raw); err == nil {
			t.Fatalf("%s accepted the removed member's envelope", n.cfg.Member.Name)
		}
	}
	if got := testutil.ToFloat64(a.metrics.rejected.WithLabelValues("envelope", protocol.ReasonNotMember)); got < 1 {
		t.Fatalf("the removed member's envelope was not counted as not-member: %v", got)
	}
	for _, n := range []*Node{a, b} {
		if _, err := n.store.Envelope(env.ID); err == nil {
			t.Fatalf("%s stored the removed member's envelope", n.cfg.Member.Name)
		}
	}

	// Invited back, it reads from the new epoch on.
	invite(t, a, c, id)
	again := publish(t, b, id, draft("welcome back"))
	eventually(t, 20*time.Second, "the re-invited member cannot read", func() bool { return readable(c, again.ID) })
	if readable(c, after.ID) {
		t.Fatal("re-invited member reads a bulletin of the epoch it was excluded from")
	}
}

// forgeEnvelope seals a bulletin as n, on state s as n last knew it.
func forgeEnvelope(t *testing.T, n *Node, s *protocol.TopicState, d *protocol.BulletinDraft) *protocol.Envelope {
	t.Helper()
	_, keys := n.topicByID(s.ID).snapshot()
	now := time.Now().UTC()
	b, err := d.Build(protocol.Stamp{ID: protocol.NewBulletinID(s.ID, n.id.MemberID()), Version: 1, Created: now, Modified: now, Category: s.Category,
		Originator: protocol.Originator{Member: n.id.MemberID(), Country: n.cfg.Member.Country, Agency: n.cfg.Member.Name}})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := protocol.EncodeBulletin(b)
	if err != nil {
		t.Fatal(err)
	}
	recips, err := n.recipients(s, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := n.seal(s, protocol.KindBulletin, payload, nil, recips, now)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestRotateRoleLeaveUninvite(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "wmd-materials")
	a, b, c := nodes[0], nodes[1], nodes[2]

	if _, err := a.rotate(ctx, a.topicByID(id)); err != nil {
		t.Fatal(err)
	}
	waitEpoch(t, nodes, id, 2)
	rec := publish(t, b, id, draft("after rotation"))
	eventually(t, 20*time.Second, "c cannot read after rotation", func() bool { return readable(c, rec.ID) })

	// Only admins invite, and only the owner grants the admin role.
	d := startNode(t, "Newcomer", "PER")
	dCard, _ := d.Card()
	if _, err := b.invite(ctx, b.topicByID(id), dCard, protocol.RoleMember, time.Hour); err == nil {
		t.Fatal("a plain member issued an invitation")
	}
	if _, _, err := b.setRole(ctx, b.topicByID(id), c.id.MemberID(), protocol.RoleAdmin); err == nil {
		t.Fatal("a plain member changed a role")
	}
	if _, _, err := a.setRole(ctx, a.topicByID(id), b.id.MemberID(), protocol.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "b never became admin", func() bool {
		s, _ := b.topicByID(id).snapshot()
		return s.IsAdmin(b.id.MemberID())
	})

	// An invitation revoked before use is refused.
	inv, err := b.invite(ctx, b.topicByID(id), dCard, protocol.RoleMember, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.uninvite(ctx, b.topicByID(id), inv.NonceHex()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Join(ctx, inv.Token()); err == nil {
		t.Fatal("a revoked invitation was accepted")
	}
	invite(t, b, d, id)
	waitMesh(t, append(nodes, d), id)

	// c leaves: the epoch rotates without it, and its last seq is recorded.
	publish(t, c, id, draft("c's last"))
	left, err := c.leave(ctx, c.topicByID(id), "mandate ended")
	if err != nil {
		t.Fatal(err)
	}
	if last := left.LastSeqs[c.id.MemberID()]; last != 1 {
		t.Fatalf("the leave entry records last seq %d, want 1", last)
	}
	waitEpoch(t, []*Node{a, b, d}, id, 3)
	last := publish(t, d, id, draft("after c left"))
	eventually(t, 20*time.Second, "a cannot read", func() bool { return readable(a, last.ID) })
	if readable(c, last.ID) {
		t.Fatal("a member that left reads new bulletins")
	}
}

// A member that signs two different envelopes with one sequence number is
// caught: the second is kept as evidence and reported in the status.
func TestEquivocationIsReported(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "terrorism")
	a, b := nodes[0], nodes[1]
	s, _ := b.topicByID(id).snapshot()
	first := forgeEnvelope(t, b, s, draft("one story"))
	second := forgeEnvelope(t, b, s, draft("another story")) // same seq: nothing was stored in between
	if first.Seq != second.Seq {
		t.Fatalf("forged seqs %d and %d", first.Seq, second.Seq)
	}
	tb := b.topicByID(id)
	for _, env := range []*protocol.Envelope{first, second} {
		if err := tb.bulletins.Publish(ctx, env.Raw); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "equivocation not recorded", func() bool {
		ev, err := a.store.Equivocations()
		return err == nil && len(ev) == 1 && ev[0].Author == b.id.MemberID() && ev[0].Seq == first.Seq
	})
	c := api.NewClient(string(a.home), a.home.Socket())
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Equivocations) != 1 || st.Equivocations[0].Author != b.id.MemberID() {
		t.Fatalf("status does not report the equivocation: %+v", st.Equivocations)
	}
}

// What a member published before its removal reaches every member, even
// one that was offline then: the removal records the member's last seq,
// and sync fetches a former member's envelopes up to it. Nothing it signs
// later is accepted.
func TestEnvelopesFromBeforeARemovalStillSync(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "arms-trafficking")
	a, b, c := nodes[0], nodes[1], nodes[2]
	home, log := c.home, c.log
	c.Close()
	var ids []string
	for _, r := range publishSeries(t, b, id, 3, "before the removal") {
		ids = append(ids, r.ID)
	}
	eventually(t, 20*time.Second, "a misses b's bulletins", func() bool {
		return readable(a, ids[0]) && readable(a, ids[1]) && readable(a, ids[2])
	})
	bState, _ := b.topicByID(id).snapshot()
	next, _, err := a.remove(ctx, a.topicByID(id), b.id.MemberID(), "suspended")
	if err != nil {
		t.Fatal(err)
	}
	if last := next.LastSeqs[b.id.MemberID()]; last != 3 {
		t.Fatalf("the removal records last seq %d, want 3", last)
	}

	c2, err := Start(home, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	eventually(t, 30*time.Second, "the member that was offline never got the bulletins from before the removal", func() bool {
		return readable(c2, ids[0]) && readable(c2, ids[1]) && readable(c2, ids[2])
	})

	late := forgeEnvelope(t, b, bState, draft("signed after the removal"))
	if late.Seq != 4 {
		t.Fatalf("forged seq %d, want 4", late.Seq)
	}
	for _, n := range []*Node{a, c2} {
		if err := n.Ingest(ctx, late.Raw); err == nil {
			t.Fatalf("%s accepted an envelope the removed member signed after its last recorded seq", n.cfg.Member.Name)
		}
	}
}

// A topic log longer than one page reaches a joining node in pages: the
// join answer carries the first, sync the rest, and the joiner holds the
// same log as the inviter.
func TestJoinReceivesALongLogInPages(t *testing.T) {
	ctx := context.Background()
	a := startNode(t, "Long-lived", "FRA")
	created, err := a.CreateTopic(ctx, "corruption", "Years of membership changes", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	ta := a.topicByID(created.ID)
	for i := range maxEntriesPerAsk + 10 {
		if _, err := a.uninvite(ctx, ta, fmt.Sprintf("%032x", i)); err != nil {
			t.Fatal(err)
		}
	}
	b := startNode(t, "Newcomer", "NGA")
	invite(t, a, b, created.ID)
	sa, _ := ta.snapshot()
	sb, _ := b.topicByID(created.ID).snapshot()
	if sa.Len <= maxEntriesPerAsk || sb.Len != sa.Len || sb.Head != sa.Head {
		t.Fatalf("the joiner holds %d entries (head %x), the inviter %d (head %x)", sb.Len, sb.Head[:4], sa.Len, sa.Head[:4])
	}
}

// A member admitted by an inviter whose announcement reaches no one (cut
// off from the others, then gone, as a node restored from an older
// backup is) announces its admission itself: the other members learn of
// it and take what it publishes (chaos defect 4).
func TestNewMemberAnnouncesItsAdmission(t *testing.T) {
	nodes, id := federation(t, 2, "terrorism")
	a, b := nodes[0], nodes[1]
	c := startNode(t, "Joiner", "KEN")
	// c and b already share another topic, so their nodes are connected.
	other, err := b.CreateTopic(context.Background(), "corruption", "Other topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, b, c, other.ID)
	heal := partition(t, []*Node{a}, []*Node{b})
	defer heal()
	invite(t, a, c, id)
	a.Close() // its announcement reached no one, and it is gone
	eventually(t, 30*time.Second, "b never learnt that c joined", func() bool {
		s, _ := b.topicByID(id).snapshot()
		return s.Members[c.id.MemberID()] != nil
	})
	rec := publish(t, c, id, draft("from the new member"))
	eventually(t, 30*time.Second, "b never took the new member's bulletin", func() bool { return readable(b, rec.ID) })
}
