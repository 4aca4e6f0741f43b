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
	g, err := newGossipNet(ctx, n, r, payloadSize, nil)
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

// measured is one delivery run: its latencies, and the process CPU
// it used, from the first publication to the end of the drain.
type measured struct {
	latencies
	cpu time.Duration
}

// cpuPerDelivery is CPU milliseconds per delivered (bulletin, receiver)
// pair.
func (m measured) cpuPerDelivery() float64 {
	if m.delivered == 0 {
		return 0
	}
	return ms(m.cpu) / float64(m.delivered)
}

// benchLatency measures delivery latency, ratio and CPU for each network
// size: raw GossipSub, the store-and-forward floor, then Concord, with
// the same load.
func benchLatency(ctx context.Context, b *bench) error {
	for _, n := range b.cfg.nodes {
		var base, floor, conc measured
		measure := func(dst *measured, name string) func(network, *router) error {
			return func(net network, r *router) error {
				*dst = b.delivery(ctx, net, r, fmt.Sprintf("latency-n%d-%s", n, name))
				return nil
			}
		}
		b.progress("latency n%d: raw GossipSub", n)
		if err := withGossip(ctx, n, measure(&base, "gossipsub")); err != nil {
			return fmt.Errorf("baseline with %d hosts: %w", n, err)
		}
		b.progress("latency n%d: store-and-forward floor", n)
		if err := withFloor(ctx, filepath.Join(b.dir, fmt.Sprintf("floor%d", n)), n, measure(&floor, "floor")); err != nil {
			return fmt.Errorf("floor with %d hosts: %w", n, err)
		}
		b.progress("latency n%d: Concord", n)
		if err := withConcord(ctx, b, filepath.Join(b.dir, fmt.Sprintf("lat%d", n)), n, measure(&conc, "concord")); err != nil {
			return fmt.Errorf("Concord with %d members: %w", n, err)
		}
		b.reportLatency(n, base, floor, conc)
	}
	return nil
}

// reportLatency adds the rows of one network size: against raw GossipSub,
// then against the floor.
func (b *bench) reportLatency(n int, base, floor, conc measured) {
	b.rep.add(fmt.Sprintf("latency-p50-n%d", n), unitMs, ms(conc.p50), ms(base.p50))
	b.rep.add(fmt.Sprintf("latency-p99-n%d", n), unitMs, ms(conc.p99), ms(base.p99))
	b.rep.add(fmt.Sprintf("delivery-ratio-n%d", n), unitRatio, conc.ratio(), base.ratio())
	b.rep.add(fmt.Sprintf("latency-p50-n%d-floor", n), unitMs, ms(conc.p50), ms(floor.p50))
	b.rep.add(fmt.Sprintf("latency-p99-n%d-floor", n), unitMs, ms(conc.p99), ms(floor.p99))
	b.rep.add(fmt.Sprintf("cpu-per-bulletin-n%d", n), unitMs, conc.cpuPerDelivery(), floor.cpuPerDelivery())
	b.rep.note("n%d: max latency %.1f ms Concord, %.1f ms floor, %.1f ms GossipSub; delivered %d/%d, %d/%d and %d/%d",
		n, ms(conc.max), ms(floor.max), ms(base.max), conc.delivered, conc.expected, floor.delivered, floor.expected, base.delivered, base.expected)
	b.rep.note("n%d: process CPU per delivered bulletin %.2f ms Concord, %.2f ms floor, %.2f ms GossipSub (%.2f s, %.2f s and %.2f s of CPU in the measured run)",
		n, conc.cpuPerDelivery(), floor.cpuPerDelivery(), base.cpuPerDelivery(), conc.cpu.Seconds(), floor.cpu.Seconds(), base.cpu.Seconds())
}

// delivery warms the network up, then measures one steady-rate run.
func (b *bench) delivery(ctx context.Context, net network, r *router, name string) measured {
	c := b.cfg
	b.warmup(ctx, net, r)
	var t *tracker
	var cpu time.Duration
	b.profile(name, func() {
		before := processCPU()
		t = runLoad(ctx, net, r, c.msgs, c.publishers, c.rate, c.drain)
		cpu = processCPU() - before
	})
	l := t.latencies()
	ack, self := t.publisherMedians()
	b.progress("  p50 %.2f ms, p99 %.2f ms, max %.2f ms, delivered %d/%d; publish call p50 %.2f ms, publisher's own copy p50 %.2f ms; CPU %.2f s",
		ms(l.p50), ms(l.p99), ms(l.max), l.delivered, l.expected, ms(ack), ms(self), cpu.Seconds())
	return measured{l, cpu}
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
