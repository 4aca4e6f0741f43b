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
	m.registry.MustRegister(m.accepted, m.rejected, m.published, m.refused)
	return m
}
