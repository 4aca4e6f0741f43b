package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are served on the API socket at /metrics (Prometheus text).
type metrics struct {
	registry  *prometheus.Registry
	accepted  *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	published prometheus.Counter
	refused   prometheus.Counter

	publishSeconds  prometheus.Histogram
	deliverySeconds prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_messages_accepted_total",
			Help: "Envelopes and log entries received, validated and stored, by kind.",
		}, []string{"kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_messages_rejected_total",
			Help: "Messages rejected by validation (never stored nor forwarded), by kind and reason.",
		}, []string{"kind", "reason"}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_bulletins_published_total",
			Help: "Envelopes published by this node.",
		}),
	}
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "concord_connections_refused_total",
		Help: "Inbound connections refused by the gater: not a member, configured peer or invitee.",
	})
	m.publishSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "concord_publish_seconds",
		Help:    "Time an analyst's publication takes here: sealing, the durable commit and the gossip publish.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms to 4 s
	})
	m.deliverySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "concord_gossip_delivery_seconds",
		Help:    "Time from an envelope's timestamp (its author's clock) to its durable storage here, for envelopes received by gossip.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14), // 1 ms to 8 s
	})
	m.registry.MustRegister(m.accepted, m.rejected, m.published, m.refused, m.publishSeconds, m.deliverySeconds)
	return m
}
