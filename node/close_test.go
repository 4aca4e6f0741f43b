package node

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// resetStream stands for a peer's stream; only Reset is used.
type resetStream struct {
	network.Stream
	reset bool
}

func (s *resetStream) Reset() error { s.reset = true; return nil }

// Close waits for a stream handler in flight before it closes the store:
// libp2p does not wait for its handlers when the host closes, and a sync
// stream served during Close read a closed Badger ("DB Closed" panic).
func TestCloseWaitsForStreamsInFlight(t *testing.T) {
	n, err := newNode(t, "Agency", "FRA", nil)
	if err != nil {
		t.Fatal(err)
	}
	started, release, read := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go n.tracked(func(network.Stream) {
		close(started)
		<-release
		_, err := n.store.AllPending()
		read <- err
	})(&resetStream{})
	<-started
	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	eventually(t, 10*time.Second, "Close did not stop the host", func() bool {
		return n.ctx.Err() != nil && len(n.host.Network().ListenAddresses()) == 0
	})
	select {
	case <-closed:
		t.Fatal("Close returned while a stream handler was running")
	default:
	}
	close(release)
	if err := <-read; err != nil {
		t.Fatalf("the handler read the store during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// Once the node is stopping, streams, validations and API requests are
// turned away without touching the store.
func TestStoppedNodeTurnsWorkAway(t *testing.T) {
	n, err := newNode(t, "Agency", "FRA", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	ran := false
	s := &resetStream{}
	n.tracked(func(network.Stream) { ran = true })(s)
	if ran || !s.reset {
		t.Fatalf("stream after Close: handler ran %v, stream reset %v; want false, true", ran, s.reset)
	}
	w := httptest.NewRecorder()
	n.trackedHTTP(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).ServeHTTP(w, httptest.NewRequest("GET", "/v1/status", nil))
	if ran || w.Code != http.StatusServiceUnavailable {
		t.Fatalf("API request after Close: handler ran %v, status %d; want false, 503", ran, w.Code)
	}
	v := n.trackedValidator(func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
		ran = true
		return pubsub.ValidationAccept
	})
	if res := v(context.Background(), "", &pubsub.Message{}); ran || res != pubsub.ValidationIgnore {
		t.Fatalf("message after Close: validator ran %v, result %v; want false, ignore", ran, res)
	}
}
