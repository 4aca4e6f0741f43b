package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// network is a set of nodes on one topic, Concord's or plain GossipSub's,
// that the same load driver exercises. Every node reports what it
// receives to a router.
type network interface {
	size() int
	// publish sends message (run, idx) from node; it returns when the
	// publisher considers it sent (Concord: durably stored).
	publish(ctx context.Context, node, run, idx int) error
	close()
}

// router hands arrivals to the tracker of the current run; arrivals of an
// earlier run (stragglers) are dropped.
type router struct{ cur atomic.Pointer[tracker] }

func (r *router) arrive(node, run, idx int, at time.Time) {
	if t := r.cur.Load(); t != nil && t.run == run {
		t.arrive(node, idx, at)
	}
}

// maxInflight bounds concurrent publish calls: past it the offered rate
// is not met, which the throughput search sees as "cannot keep up".
const maxInflight = 256

// offer publishes every message of t at a steady rate, message i from
// node i mod publishers, each in its own goroutine so that one slow
// publish call does not delay the next. It returns when all calls have.
func offer(ctx context.Context, net network, t *tracker, publishers int, rate float64) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInflight)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for idx := range t.sent {
		if d := time.Until(start.Add(time.Duration(idx) * interval)); d > 0 {
			time.Sleep(d)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		node := idx % publishers
		t.send(idx, node)
		wg.Go(func() {
			defer func() { <-slots }()
			t.ack(idx, net.publish(ctx, node, t.run, idx))
		})
	}
	wg.Wait()
}

var runs atomic.Int64

// runLoad offers msgs messages on net at rate from the first publishers
// nodes and waits until all are delivered everywhere, or drain after the
// last publish call returned.
func runLoad(ctx context.Context, net network, r *router, msgs, publishers int, rate float64, drain time.Duration) *tracker {
	t := newTracker(int(runs.Add(1)), net.size(), msgs)
	r.cur.Store(t)
	offer(ctx, net, t, min(publishers, net.size()), rate)
	t.wait(ctx, time.Now().Add(drain))
	return t
}
