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

// tracker records when each message of a run was sent and when each
// other node received it.
type tracker struct {
	run, nodes int
	mu         sync.Mutex
	sent       []time.Time
	from       []int
	recv       []time.Time // idx*nodes + node
	hits       []int
	failed     int
}

func newTracker(run, nodes, msgs int) *tracker {
	return &tracker{run: run, nodes: nodes, sent: make([]time.Time, msgs), from: make([]int, msgs),
		recv: make([]time.Time, msgs*nodes), hits: make([]int, msgs)}
}

func (t *tracker) send(idx, node int) {
	t.mu.Lock()
	t.sent[idx], t.from[idx] = time.Now(), node
	t.mu.Unlock()
}

// arrive counts the first arrival of idx at node; the publisher's own copy
// and duplicates are ignored.
func (t *tracker) arrive(node, idx int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if idx < 0 || idx >= len(t.sent) || node == t.from[idx] || t.sent[idx].IsZero() {
		return
	}
	if k := idx*t.nodes + node; t.recv[k].IsZero() {
		t.recv[k] = at
		t.hits[idx]++
	}
}

func (t *tracker) fail() {
	t.mu.Lock()
	t.failed++
	t.mu.Unlock()
}

// done reports whether every message reached every other node.
func (t *tracker) done() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range t.hits {
		if h < t.nodes-1 {
			return false
		}
	}
	return true
}

// wait polls until every message is delivered everywhere or deadline.
func (t *tracker) wait(ctx context.Context, deadline time.Time) bool {
	for !t.done() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// latencies returns send-to-receive times over every (message, receiver).
func (t *tracker) latencies() latencies {
	t.mu.Lock()
	defer t.mu.Unlock()
	var samples []time.Duration
	for idx, s := range t.sent {
		for node := range t.nodes {
			if r := t.recv[idx*t.nodes+node]; !r.IsZero() {
				samples = append(samples, r.Sub(s))
			}
		}
	}
	return summarize(samples, len(t.sent)*(t.nodes-1))
}

// span is the time from the first send to the last arrival.
func (t *tracker) span() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first, last time.Time
	for _, s := range t.sent {
		if first.IsZero() || (!s.IsZero() && s.Before(first)) {
			first = s
		}
	}
	for _, r := range t.recv {
		if r.After(last) {
			last = r
		}
	}
	return last.Sub(first)
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
			if err := net.publish(ctx, node, t.run, idx); err != nil {
				t.fail()
			}
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

func (t *tracker) firstSent() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent[0] // offer sends in index order
}

func (t *tracker) failures() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
