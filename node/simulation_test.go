package node

import (
	"maps"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// PartitionFrom cuts two members apart, so that a bulletin of one does
// not reach the other; HealPartition and DialMembers reconnect them and
// the other catches up, to the same version vector.
func TestSimulatedPartition(t *testing.T) {
	nodes, id := federation(t, 2, "corruption")
	a, b := nodes[0], nodes[1]
	a.PartitionFrom([]peer.ID{b.PeerID()})
	b.PartitionFrom([]peer.ID{a.PeerID()})
	eventually(t, 10*time.Second, "still connected", func() bool { return a.ConnectedPeers() == 0 && b.ConnectedPeers() == 0 })
	publish(t, a, id, draft("during the partition"))
	vb, err := b.VersionVector(id.String())
	if err != nil {
		t.Fatal(err)
	}
	if va, _ := a.VersionVector(id.String()); maps.Equal(va, vb) {
		t.Fatalf("version vectors %v and %v equal across a partition", va, vb)
	}
	a.HealPartition()
	b.HealPartition()
	a.DialMembers()
	eventually(t, 30*time.Second, "no convergence after healing", func() bool {
		va, _ := a.VersionVector(id.String())
		vb, _ := b.VersionVector(id.String())
		return maps.Equal(va, vb)
	})
	if _, err := a.VersionVector("no-such-topic"); err == nil {
		t.Fatal("VersionVector of an unknown topic did not fail")
	}
}
