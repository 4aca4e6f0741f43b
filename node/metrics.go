package node

import (
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/concordnet/concord/protocol"
)

// metrics are served on the API socket at /metrics (Prometheus text) and,
// if [metrics] listen is set, on a TCP listener (metricsserver.go). Each
// node has its own registry: tests run several nodes in one process.
type metrics struct {
	registry  *prometheus.Registry
	accepted  *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	published prometheus.Counter
	refused   prometheus.Counter
	// meshRedials counts reconnections of member nodes GossipSub had
	// lost track of (meshheal.go).
	meshRedials prometheus.Counter

	publishSeconds  prometheus.Histogram
	deliverySeconds prometheus.Histogram

	bulletins cachedCount
	listener  metricsListener
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
	m.meshRedials = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "concord_mesh_reconnections_total",
		Help: "Member nodes reconnected because they were connected but missing from a topic's GossipSub peers for three checks in a row.",
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
	m.registry.MustRegister(m.accepted, m.rejected, m.published, m.refused, m.meshRedials, m.publishSeconds, m.deliverySeconds,
		buildInfo(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func buildInfo() prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "concord_build_info",
		Help: "Always 1; its labels are the daemon's version, the protocol version it speaks and the Go version it was built with.",
		ConstLabels: prometheus.Labels{
			"version": Version(), "protocol": strconv.Itoa(protocol.ProtocolVersion), "go": runtime.Version(),
		},
	}, func() float64 { return 1 })
}

// The node's gauges, computed when scraped (nodeCollector).
var (
	descPeers = prometheus.NewDesc("concord_peers",
		"Peers (libp2p nodes) this node is connected to.", nil, nil)
	descTopics = prometheus.NewDesc("concord_topics",
		"Topics this node belongs to.", nil, nil)
	descBulletins = prometheus.NewDesc("concord_bulletins",
		"Bulletin records held (readable or sealed), counted at most every 30 s.", nil, nil)
	descStoreBytes = prometheus.NewDesc("concord_store_bytes",
		"Bytes of the database's files (Badger's LSM tree and value log), as Badger last measured them (at open, then every minute).", nil, nil)
	descDiskFree = prometheus.NewDesc("concord_disk_free_bytes",
		"Bytes free to the daemon's user on the filesystem that holds the database.", nil, nil)
	descSyncAge = prometheus.NewDesc("concord_last_sync_age_seconds",
		"Seconds since this node last synced the topic with any peer without error (or, before any, since it started or joined the topic); absent for a topic with no other member.",
		[]string{"topic"}, nil)
)

// nodeCollector reads the node's state at each scrape, so no background
// loop keeps the gauges fresh. It is registered once the host and the
// store are open.
type nodeCollector struct{ n *Node }

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPeers, descTopics, descBulletins, descStoreBytes, descDiskFree, descSyncAge} {
		ch <- d
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descPeers, float64(len(n.host.Network().Peers())))
	topics := n.allTopics()
	gauge(descTopics, float64(len(topics)))
	if count, err := n.metrics.bulletins.get(n.store.CountBulletins); err == nil {
		gauge(descBulletins, float64(count))
	} else {
		n.log.Warn("metrics: counting bulletins", "err", err)
	}
	stored, free, err := n.store.DiskUsage()
	gauge(descStoreBytes, float64(stored))
	if err == nil {
		gauge(descDiskFree, float64(free))
	} else {
		n.log.Warn("metrics: reading free disk space", "err", err)
	}
	now := time.Now()
	for _, t := range topics {
		s, _ := t.snapshot()
		if len(s.Members) > 1 {
			gauge(descSyncAge, now.Sub(lastSynced(t, n.started)).Seconds(), s.ID.String())
		}
	}
}

// lastSynced is when t last synced with any peer without error; before
// any, when the node started or joined t, whichever is later, so that a
// topic that never synced still ages and can raise an alert.
func lastSynced(t *topic, started time.Time) time.Time {
	last := started
	if t.joined.After(last) {
		last = t.joined
	}
	for _, r := range t.syncRecords() {
		if r.Err == "" && r.At.After(last) {
			last = r.At
		}
	}
	return last
}

// bulletinCountTTL bounds how stale concord_bulletins may be: counting
// walks every record's key (about 50 ms at 100,000 bulletins), too much
// for every scrape of every scraper.
const bulletinCountTTL = 30 * time.Second

// cachedCount remembers the last count for bulletinCountTTL.
type cachedCount struct {
	mu sync.Mutex
	at time.Time
	n  int
}

func (c *cachedCount) get(count func() (int, error)) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < bulletinCountTTL {
		return c.n, nil
	}
	n, err := count()
	if err != nil {
		return 0, err
	}
	c.n, c.at = n, time.Now()
	return n, nil
}
