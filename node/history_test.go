package node

import (
	"context"
	"testing"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// inviteWithHistory has owner invite guest through the API, overriding
// the topic's history policy when history is set, and guest join.
func inviteWithHistory(t *testing.T, owner, guest *Node, id protocol.TopicID, history string) {
	t.Helper()
	ctx := context.Background()
	me, err := asMember(guest).api.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := asMember(owner).api.Invite(ctx, id.String(), api.InviteRequest{Card: me.Card, History: history})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asMember(guest).api.Join(ctx, resp.Token); err != nil {
		t.Fatal(err)
	}
}

// holds reports whether n holds the envelope of rec, readable or not (a
// node that cannot open it does not know the bulletin's ID).
func holds(n *Node, rec *store.BulletinRecord) bool {
	_, err := n.store.Envelope(rec.Envelope)
	return err == nil
}

// historyTopic creates a topic with policy history owned by a, with b a
// member, a bulletin of b, then a rotation and a bulletin of a: two
// epochs before any newcomer.
func historyTopic(t *testing.T, a, b *Node, history string) (protocol.TopicID, []*store.BulletinRecord) {
	t.Helper()
	ctx := context.Background()
	s, err := a.CreateTopic(ctx, "money-laundering", "History "+history, protocol.Policy{History: storedPolicyHistory(history)})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, a, b, s.ID)
	first := publish(t, b, s.ID, draft("epoch 1"))
	eventually(t, 20*time.Second, "a misses b's bulletin", func() bool { return readable(a, first.ID) })
	if _, err := a.rotate(ctx, a.topicByID(s.ID)); err != nil {
		t.Fatal(err)
	}
	waitEpoch(t, []*Node{a, b}, s.ID, epochOf(a, s.ID))
	second := publish(t, a, s.ID, draft("epoch 2"))
	return s.ID, []*store.BulletinRecord{first, second}
}

// lastAdd returns the history the last add entry of n's log records.
func lastAdd(t *testing.T, n *Node, id protocol.TopicID) *protocol.Add {
	t.Helper()
	s, _ := n.topicByID(id).snapshot()
	for i := len(s.Entries) - 1; i >= 0; i-- {
		e, err := protocol.DecodeEntry(s.Entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == protocol.EntryAdd {
			return e.Add
		}
	}
	t.Fatal("no add entry")
	return nil
}

// checkReads waits until c holds every bulletin of ids and checks which
// it can read.
func checkReads(t *testing.T, c *Node, recs []*store.BulletinRecord, want []bool) {
	t.Helper()
	for i, rec := range recs {
		eventually(t, 30*time.Second, "the new member does not hold bulletin "+rec.ID, func() bool {
			return holds(c, rec) && (!want[i] || readable(c, rec.ID))
		})
		if got := readable(c, rec.ID); got != want[i] {
			t.Errorf("bulletin %d: the new member reads it: %v, want %v", i, got, want[i])
		}
	}
}

func TestHistoryPolicies(t *testing.T) {
	nodes, _ := federation(t, 2, "money-laundering")
	a, b := nodes[0], nodes[1]
	for _, tc := range []struct {
		history string
		rotates bool // the join starts an epoch
		reads   [2]bool
	}{
		{protocol.HistoryCurrentEpoch, false, [2]bool{false, true}},
		{protocol.HistoryAll, false, [2]bool{true, true}},
		{protocol.HistoryFromJoin, true, [2]bool{false, false}},
	} {
		t.Run(tc.history, func(t *testing.T) {
			id, old := historyTopic(t, a, b, tc.history)
			c := startNode(t, "Newcomer", "DEU")
			before := epochOf(a, id)
			inviteWithHistory(t, a, c, id, "")
			if got := protocol.EffectiveHistory(lastAdd(t, a, id).History); got != tc.history {
				t.Fatalf("the add entry records history %q, want %q", got, tc.history)
			}
			want := before
			if tc.rotates {
				want++
			}
			waitEpoch(t, []*Node{a, b, c}, id, want)
			after := publish(t, b, id, draft("after the join"))
			checkReads(t, c, append(old, after), []bool{tc.reads[0], tc.reads[1], true})
		})
	}
}

func TestHistoryOverrideAndPolicyChange(t *testing.T) {
	ctx := context.Background()
	nodes, _ := federation(t, 2, "corruption")
	a, b := nodes[0], nodes[1]
	id, old := historyTopic(t, a, b, protocol.HistoryFromJoin)

	// The invitation's override beats the topic's policy.
	c := startNode(t, "Newcomer", "DEU")
	inviteWithHistory(t, a, c, id, protocol.HistoryAll)
	// Every earlier epoch: the one b's from-join add started, and the first.
	if got := lastAdd(t, a, id); got.History != protocol.HistoryAll || len(got.Past) != int(epochOf(a, id))-1 || got.Rotate != nil {
		t.Fatalf("the add entry records %q with %d past keys", got.History, len(got.Past))
	}
	checkReads(t, c, old, []bool{true, true})

	// A plain member cannot change the policy; an admin can, for all.
	_, err := asMember(b).api.SetPolicy(ctx, id.String(), api.PolicyRequest{History: protocol.HistoryAll})
	if api.ClassOf(err) != api.Forbidden {
		t.Fatalf("a plain member changed the history policy: %v", err)
	}
	if _, err := asMember(a).api.SetPolicy(ctx, id.String(), api.PolicyRequest{History: "everything"}); api.ClassOf(err) != api.Invalid {
		t.Fatalf("an unknown policy: %v", err)
	}
	change, err := asMember(a).api.SetPolicy(ctx, id.String(), api.PolicyRequest{History: protocol.HistoryAll})
	if err != nil || change.Topic.History != protocol.HistoryAll {
		t.Fatalf("the owner's policy change: %+v, %v", change, err)
	}
	eventually(t, 20*time.Second, "b does not see the new policy", func() bool {
		s, _ := b.topicByID(id).snapshot()
		return s.HistoryOf() == protocol.HistoryAll
	})
	if _, err := asMember(a).api.SetPolicy(ctx, id.String(), api.PolicyRequest{History: protocol.HistoryAll}); api.ClassOf(err) != api.Conflict {
		t.Fatalf("a change to the policy in force: %v", err)
	}
	d := startNode(t, "Latecomer", "ESP")
	inviteWithHistory(t, a, d, id, "")
	checkReads(t, d, old, []bool{true, true})
}
