package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

// isolate cuts n off the network until heal is called.
func isolate(t *testing.T, n *Node) (heal func()) {
	t.Helper()
	n.isolated.Store(true)
	for _, p := range n.host.Network().Peers() {
		n.host.Network().ClosePeer(p)
	}
	eventually(t, 10*time.Second, "node still connected", func() bool { return len(n.host.Network().Peers()) == 0 })
	return func() {
		n.isolated.Store(false)
		s := n.allTopics()
		for _, tp := range s {
			st, _ := tp.snapshot()
			n.dialMembers(st)
		}
	}
}

func heads(nodes []*Node, id protocol.TopicID) []string {
	var out []string
	for _, n := range nodes {
		s, _ := n.topicByID(id).snapshot()
		out = append(out, fmt.Sprintf("%x/%d", s.Head[:4], s.Len))
	}
	return out
}

func sameHead(nodes []*Node, id protocol.TopicID) bool {
	h := heads(nodes, id)
	for _, x := range h[1:] {
		if x != h[0] {
			return false
		}
	}
	return true
}

// Admins who write at the same index while partitioned converge, once
// reconnected, on one log: the owner's entry wins over an admin's, and
// between two admins the entry with the lower hash wins.
func TestConcurrentAdminWritesConverge(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "arms-trafficking")
	a, b, c := nodes[0], nodes[1], nodes[2]
	for _, m := range []*Node{b, c} {
		if _, _, err := a.setRole(ctx, a.topicByID(id), m.id.MemberID(), protocol.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "roles did not reach every node", func() bool {
		s, _ := c.topicByID(id).snapshot()
		return s.IsAdmin(b.id.MemberID()) && s.IsAdmin(c.id.MemberID()) && sameHead(nodes, id)
	})

	// Owner against admin.
	heal := isolate(t, b)
	if _, err := a.rotate(ctx, a.topicByID(id)); err != nil {
		t.Fatal(err)
	}
	bState, err := b.rotate(ctx, b.topicByID(id))
	if err != nil {
		t.Fatal(err)
	}
	lost := bState.Head
	heal()
	eventually(t, 30*time.Second, "logs did not converge", func() bool { return sameHead(nodes, id) })
	sa, _ := a.topicByID(id).snapshot()
	if sa.Head == lost {
		t.Fatal("the admin's entry won over the owner's")
	}
	pub := publish(t, b, id, draft("after the owner's rotation"))
	eventually(t, 20*time.Second, "c cannot read b's bulletin in the winning epoch", func() bool { return readable(c, pub.ID) })

	// Admin against admin.
	heal = isolate(t, c)
	if _, err := b.rotate(ctx, b.topicByID(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.rotate(ctx, c.topicByID(id)); err != nil {
		t.Fatal(err)
	}
	heal()
	eventually(t, 30*time.Second, "logs did not converge: "+fmt.Sprint(heads(nodes, id)), func() bool { return sameHead(nodes, id) })
}
