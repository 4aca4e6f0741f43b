package main

import (
	"context"
	"math"
	"path/filepath"
	"time"
)

// found is the outcome of a throughput search.
type found struct {
	rate   float64       // highest rate that passed, 0 if none
	p99    time.Duration // latency p99 at that rate
	capped bool          // no rate up to tpMax failed
}

func (f found) capNote(who string) string {
	if !f.capped {
		return ""
	}
	return "; " + who + " passed every rate up to -tp-max: its number is a lower bound"
}

// benchThroughput finds the highest rate a small topic sustains without
// loss, for raw GossipSub, the store-and-forward floor and Concord, every
// member publishing.
func benchThroughput(ctx context.Context, b *bench) error {
	n := b.cfg.tpNodes
	var base, floor, conc found
	search := func(dst *found, name string) func(network, *router) error {
		return func(net network, r *router) error {
			b.profile("throughput-"+name, func() { *dst = b.search(ctx, net, r) })
			return nil
		}
	}
	b.progress("throughput: raw GossipSub, %d hosts", n)
	if err := withGossip(ctx, n, search(&base, "gossipsub")); err != nil {
		return err
	}
	b.progress("throughput: store-and-forward floor, %d hosts", n)
	if err := withFloor(ctx, filepath.Join(b.dir, "tpfloor"), n, search(&floor, "floor")); err != nil {
		return err
	}
	b.progress("throughput: Concord, %d members", n)
	if err := withConcord(ctx, b, filepath.Join(b.dir, "tp"), n, search(&conc, "concord")); err != nil {
		return err
	}
	b.rep.add("throughput", unitPerS, conc.rate, base.rate)
	b.rep.add("throughput-floor", unitPerS, conc.rate, floor.rate)
	b.rep.note("throughput: %d-node topic, every member publishing; offered rates double from %g/s (cap %g/s) for %v each, then %d bisection steps; a rate passes when every bulletin reaches every other member within the step + 10%% + 0.5 s",
		n, b.cfg.tpStart, b.cfg.tpMax, b.cfg.tpStep, b.cfg.tpFine)
	b.rep.note("throughput: p99 latency at the rate reported: %.1f ms Concord, %.1f ms floor, %.1f ms GossipSub%s%s%s",
		ms(conc.p99), ms(floor.p99), ms(base.p99), conc.capNote("Concord"), floor.capNote("the floor"), base.capNote("GossipSub"))
	return nil
}

// search doubles the offered rate until a step loses or lags, then
// bisects (geometrically) between the last good and the first bad rate.
func (b *bench) search(ctx context.Context, net network, r *router) found {
	c := b.cfg
	b.warmup(ctx, net, r)
	var f found
	bad := 0.0
	try := func(rate float64) bool {
		ok, l := b.step(ctx, net, r, rate)
		if ok {
			f.rate, f.p99 = rate, l.p99
		} else {
			bad = rate
		}
		return ok
	}
	for rate := c.tpStart; rate <= c.tpMax; rate *= 2 {
		if !try(rate) {
			break
		}
	}
	for i := 0; i < c.tpFine && f.rate > 0 && bad > 0; i++ {
		try(math.Round(math.Sqrt(f.rate * bad)))
	}
	f.capped = bad == 0
	return f
}

// step offers rate for one step and reports whether every message reached
// every other node in time, with no failed publish.
func (b *bench) step(ctx context.Context, net network, r *router, rate float64) (bool, latencies) {
	c := b.cfg
	t := newTracker(int(runs.Add(1)), net.size(), max(1, int(rate*c.tpStep.Seconds())))
	r.cur.Store(t)
	offer(ctx, net, t, net.size(), rate)
	limit := c.tpStep + c.tpStep/10 + 500*time.Millisecond
	ok := t.wait(ctx, t.firstSent().Add(limit)) && t.span() <= limit && t.failures() == 0
	l := t.latencies()
	b.progress("  %6.0f/s: delivered %d/%d, %d failed publishes, span %.2fs, p99 %.1f ms: %s",
		rate, l.delivered, l.expected, t.failures(), t.span().Seconds(), ms(l.p99), passFail(ok))
	if !ok {
		t.settle(ctx, 2*time.Second, c.drain) // let the backlog drain before the next step
	}
	return ok, l
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}
