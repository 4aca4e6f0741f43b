package main

import (
	"context"
	"math"
	"path/filepath"
	"time"
)

// benchThroughput finds the highest rate a small topic sustains without
// loss, for raw GossipSub and for Concord, every member publishing.
func benchThroughput(ctx context.Context, b *bench) error {
	n := b.cfg.tpNodes
	var base, conc float64
	var baseCapped, concCapped bool
	b.progress("throughput: raw GossipSub, %d hosts", n)
	err := withGossip(ctx, n, func(net network, r *router) error {
		base, baseCapped = b.search(ctx, net, r)
		return nil
	})
	if err != nil {
		return err
	}
	b.progress("throughput: Concord, %d members", n)
	err = withConcord(ctx, b, filepath.Join(b.dir, "tp"), n, func(net network, r *router) error {
		conc, concCapped = b.search(ctx, net, r)
		return nil
	})
	if err != nil {
		return err
	}
	b.rep.add("throughput", unitPerS, conc, base)
	for who, capped := range map[string]bool{"Concord": concCapped, "GossipSub": baseCapped} {
		if capped {
			b.rep.note("throughput: %s passed every rate up to -tp-max %g/s: its number is a lower bound", who, b.cfg.tpMax)
		}
	}
	b.rep.note("throughput: %d-node topic, every member publishing; offered rates double from %g/s (cap %g/s) for %v each, then %d bisection steps; a rate passes when every bulletin reaches every other member within the step + 10%% + 0.5 s",
		n, b.cfg.tpStart, b.cfg.tpMax, b.cfg.tpStep, b.cfg.tpFine)
	return nil
}

// search doubles the offered rate until a step loses or lags, then
// bisects (geometrically) between the last good and the first bad rate.
// It returns the highest good rate (0 if even the first failed) and
// whether no rate up to tpMax failed.
func (b *bench) search(ctx context.Context, net network, r *router) (float64, bool) {
	c := b.cfg
	b.warmup(ctx, net, r)
	good, bad := 0.0, 0.0
	for rate := c.tpStart; rate <= c.tpMax; rate *= 2 {
		if !b.step(ctx, net, r, rate) {
			bad = rate
			break
		}
		good = rate
	}
	for i := 0; i < c.tpFine && good > 0 && bad > 0; i++ {
		mid := math.Round(math.Sqrt(good * bad))
		if b.step(ctx, net, r, mid) {
			good = mid
		} else {
			bad = mid
		}
	}
	return good, bad == 0
}

// step offers rate for one step and reports whether every message reached
// every other node in time, with no failed publish.
func (b *bench) step(ctx context.Context, net network, r *router, rate float64) bool {
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
		t.wait(ctx, time.Now().Add(c.drain)) // let the backlog drain before the next step
	}
	return ok
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}
