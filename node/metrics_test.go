package node

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Publications and gossip deliveries are timed for operators: the
// publisher's histogram counts each publication, the receiver's each
// envelope it stored from gossip.
func TestPublicationsAndDeliveriesAreTimed(t *testing.T) {
	nodes, id := federation(t, 2, "human-trafficking")
	a, b := nodes[0], nodes[1]
	publishSeries(t, a, id, 3, "timed")
	waitConverged(t, nodes, id, 20*time.Second)
	if n := samples(t, a.metrics.publishSeconds); n != 3 {
		t.Fatalf("publish histogram counts %d publications, want 3", n)
	}
	// Sync may have stored some of them first; gossip delivered at least one.
	if n := samples(t, b.metrics.deliverySeconds); n < 1 || n > 3 {
		t.Fatalf("delivery histogram counts %d envelopes, want 1 to 3", n)
	}
	if n := samples(t, a.metrics.deliverySeconds); n != 0 {
		t.Fatalf("the publisher counted %d deliveries of its own envelopes", n)
	}
}

func samples(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
