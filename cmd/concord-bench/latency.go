package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// payloadSize is the bulletin body (Concord) and message size (baseline).
const payloadSize = 4 << 10

// withGossip runs fn on a fresh baseline network of n hosts.
func withGossip(ctx context.Context, n int, fn func(network, *router) error) error {
	r := &router{}
	g, err := newGossipNet(ctx, n, r, payloadSize)
	if err != nil {
		return err
	}
	defer g.close()
	return fn(g, r)
}

// withConcord runs fn on a fresh federation of n members under dir.
func withConcord(ctx context.Context, b *bench, dir string, n int, fn func(network, *router) error) error {
	fed, err := startFederation(ctx, dir, n, b.nodeLog)
	if err != nil {
		return err
	}
	defer fed.Close()
	r := &router{}
	c, err := newConcordNet(ctx, fed, r, payloadSize)
	if err != nil {
		return err
	}
	defer c.close()
	return fn(c, r)
}

// benchLatency measures delivery latency and ratio for each network size,
// baseline first, then Concord, with the same load.
func benchLatency(ctx context.Context, b *bench) error {
	for _, n := range b.cfg.nodes {
		var base, conc latencies
		b.progress("latency n%d: raw GossipSub", n)
		err := withGossip(ctx, n, func(net network, r *router) error {
			base = b.delivery(ctx, net, r, fmt.Sprintf("latency-n%d-gossipsub", n))
			return nil
		})
		if err != nil {
			return fmt.Errorf("baseline with %d hosts: %w", n, err)
		}
		b.progress("latency n%d: Concord", n)
		err = withConcord(ctx, b, filepath.Join(b.dir, fmt.Sprintf("lat%d", n)), n, func(net network, r *router) error {
			conc = b.delivery(ctx, net, r, fmt.Sprintf("latency-n%d-concord", n))
			return nil
		})
		if err != nil {
			return fmt.Errorf("Concord with %d members: %w", n, err)
		}
		b.rep.add(fmt.Sprintf("latency-p50-n%d", n), unitMs, ms(conc.p50), ms(base.p50))
		b.rep.add(fmt.Sprintf("latency-p99-n%d", n), unitMs, ms(conc.p99), ms(base.p99))
		b.rep.add(fmt.Sprintf("delivery-ratio-n%d", n), unitRatio, conc.ratio(), base.ratio())
		b.rep.note("n%d: max latency %.1f ms Concord, %.1f ms GossipSub; delivered %d/%d and %d/%d",
			n, ms(conc.max), ms(base.max), conc.delivered, conc.expected, base.delivered, base.expected)
	}
	return nil
}

// delivery warms the network up, then measures one steady-rate run.
func (b *bench) delivery(ctx context.Context, net network, r *router, name string) latencies {
	c := b.cfg
	b.warmup(ctx, net, r)
	var t *tracker
	b.profile(name, func() { t = runLoad(ctx, net, r, c.msgs, c.publishers, c.rate, c.drain) })
	l := t.latencies()
	ack, self := t.publisherMedians()
	b.progress("  p50 %.2f ms, p99 %.2f ms, max %.2f ms, delivered %d/%d; publish call p50 %.2f ms, publisher's own copy p50 %.2f ms",
		ms(l.p50), ms(l.p99), ms(l.max), l.delivered, l.expected, ms(ack), ms(self))
	return l
}

// warmup has every node publish once, until a round reaches everyone (at
// most five rounds). Raw GossipSub loses a host's first message when it
// publishes right after its connections open (no mesh yet, so no gossip
// to repair it); measured runs must not start in that state.
func (b *bench) warmup(ctx context.Context, net network, r *router) {
	for range 5 {
		if runLoad(ctx, net, r, net.size(), net.size(), 20, 2*time.Second).done() {
			return
		}
	}
	b.progress("  warm-up: some messages were still lost after five rounds")
}
