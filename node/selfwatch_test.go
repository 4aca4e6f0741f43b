package node

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/concordnet/concord/protocol"
)

const clashLine = "another node is running with this node's identity"

// TestIdentityClashCopiedHome runs a copy of a member's home beside the
// original: the copy publishes, a third node holds the envelope, and the
// original, syncing from it, reports the clash; neither the publisher nor
// the third node does.
func TestIdentityClashCopiedHome(t *testing.T) {
	ctx := context.Background()
	c := startNode(t, "Owner", "FRA")
	a := startNode(t, "Agency A", "NGA")
	s, err := c.CreateTopic(ctx, "terrorism", "Cells", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, c, a, s.ID)
	waitMesh(t, []*Node{c, a}, s.ID)
	homeA := a.home
	a.Close()
	homeB := Home(filepath.Join(t.TempDir(), "h"))
	if out, err := exec.Command("cp", "-a", string(homeA), string(homeB)).CombinedOutput(); err != nil {
		t.Fatalf("copying the home: %v: %s", err, out)
	}

	// The original starts first and stays off the network while the copy
	// publishes: two connections of one peer ID at the third node would
	// make its gossip with either unreliable.
	orig := startHomeLog(t, homeA, slog.New(slog.NewTextHandler(io.Discard, nil)))
	orig.isolated.Store(true)
	waitFor(t, 10*time.Second, func() (bool, string) {
		for _, p := range orig.host.Network().Peers() {
			orig.host.Network().ClosePeer(p)
		}
		return len(orig.host.Network().Peers()) == 0, "the original still has connections"
	})
	copied := startHomeLog(t, homeB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	waitMesh(t, []*Node{c, copied}, s.ID)
	rec := publish(t, copied, s.ID, draft("from the copy"))
	eventually(t, 30*time.Second, "the third node holds the copy's bulletin", func() bool { return readable(c, rec.ID) })

	orig.isolated.Store(false)
	cAddr := c.Addrs()[0] + "/p2p/" + c.host.ID().String()
	eventually(t, 30*time.Second, "the original reports the identity clash", func() bool {
		if _, err := orig.Connect(ctx, cAddr); err == nil {
			orig.syncWith(orig.topicByID(s.ID), c.host.ID())
		}
		_, clash := orig.IdentityClash()
		return clash
	})
	if _, clash := copied.IdentityClash(); clash {
		t.Error("the publishing copy reports a clash over its own envelope")
	}
	if _, clash := c.IdentityClash(); clash {
		t.Error("the third node reports a clash: it has its own identity")
	}
}

// TestIdentityClashSelfOrigin covers what GossipSub hands to the tracer:
// a message claiming our peer ID as origin, received from another peer.
func TestIdentityClashSelfOrigin(t *testing.T) {
	var logs syncBuffer
	n := startTestHome(t, slog.New(slog.NewTextHandler(&logs, nil)))
	s, err := n.CreateTopic(context.Background(), "terrorism", "Cells", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	tr := selfTracer{n}
	ours := publish(t, n, s.ID, draft("ours"))
	raw, err := n.store.Envelope(ours.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	tr.RejectMessage(message(raw), pubsub.RejectSelfOrigin)
	old := sealOwn(t, n, s.ID, n.started.Add(-time.Minute))
	tr.RejectMessage(message(old.Raw), pubsub.RejectSelfOrigin)
	foreign := sealOwn(t, n, s.ID, time.Now())
	tr.RejectMessage(message(foreign.Raw), pubsub.RejectValidationFailed)
	tr.RejectMessage(message([]byte("not an envelope")), pubsub.RejectSelfOrigin)
	if _, clash := n.IdentityClash(); clash {
		t.Fatal("a clash reported for our own envelope, one signed before the start, another rejection or garbage")
	}

	tr.RejectMessage(message(foreign.Raw), pubsub.RejectSelfOrigin)
	tr.RejectMessage(message(foreign.Raw), pubsub.RejectSelfOrigin)
	at, clash := n.IdentityClash()
	if !clash || time.Since(at) > time.Minute {
		t.Fatalf("IdentityClash() = %v, %v after an envelope we did not sign; want a recent clash", at, clash)
	}
	if got := strings.Count(logs.String(), clashLine); got != 1 {
		t.Fatalf("%d ERROR lines for two clashes within %v, want 1 (rate-limited):\n%s", got, clashLogEvery, logs.String())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), n.host.ID().String()) {
		t.Fatalf("the clash is not logged at ERROR with our peer ID:\n%s", logs.String())
	}
}

// sealOwn signs, without storing, an envelope of ours at our next seq.
func sealOwn(t *testing.T, n *Node, id protocol.TopicID, ts time.Time) *protocol.Envelope {
	t.Helper()
	state, keys := n.topicByID(id).snapshot()
	to, err := n.recipients(state, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := n.seal(state, protocol.KindBulletin, []byte("payload"), nil, to, ts)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func message(data []byte) *pubsub.Message {
	return &pubsub.Message{Message: &pb.Message{Data: data}}
}

// startHomeLog starts a daemon on an existing home; closed when the test ends.
func startHomeLog(t *testing.T, h Home, log *slog.Logger) *Node {
	t.Helper()
	n, err := Start(h, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// startTestHome initializes a home on loopback and starts it with log.
func startTestHome(t *testing.T, log *slog.Logger) *Node {
	t.Helper()
	h := Home(filepath.Join(t.TempDir(), "h"))
	cfg := DefaultConfig("Agency", "FRA")
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if _, err := Init(h, cfg); err != nil {
		t.Fatal(err)
	}
	return startHomeLog(t, h, log)
}

// syncBuffer is a log sink safe for the daemon's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
