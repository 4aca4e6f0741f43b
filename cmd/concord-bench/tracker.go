package main

import (
	"context"
	"sync"
	"time"
)

// tracker records when each message of a run was sent and when each
// other node received it.
type tracker struct {
	run, nodes int
	mu         sync.Mutex
	sent       []time.Time
	from       []int
	acked      []time.Time // when the publish call returned
	self       []time.Time // when the publisher itself reported it
	recv       []time.Time // idx*nodes + node
	hits       []int
	failed     int
}

func newTracker(run, nodes, msgs int) *tracker {
	return &tracker{run: run, nodes: nodes, sent: make([]time.Time, msgs), from: make([]int, msgs),
		acked: make([]time.Time, msgs), self: make([]time.Time, msgs), recv: make([]time.Time, msgs*nodes), hits: make([]int, msgs)}
}

func (t *tracker) send(idx, node int) {
	t.mu.Lock()
	t.sent[idx], t.from[idx] = time.Now(), node
	t.mu.Unlock()
}

func (t *tracker) ack(idx int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed++
		return
	}
	t.acked[idx] = time.Now()
}

// arrive counts the first arrival of idx at node; duplicates are ignored
// and the publisher's own copy is only noted, for diagnosis.
func (t *tracker) arrive(node, idx int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if idx < 0 || idx >= len(t.sent) || t.sent[idx].IsZero() {
		return
	}
	if node == t.from[idx] {
		if t.self[idx].IsZero() {
			t.self[idx] = at
		}
		return
	}
	if k := idx*t.nodes + node; t.recv[k].IsZero() {
		t.recv[k] = at
		t.hits[idx]++
	}
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

// settle waits until every message is delivered, or no new delivery has
// come for idle, or limit: a lost message must not hold up the run for
// the whole limit, and a backlog must drain before the next step.
func (t *tracker) settle(ctx context.Context, idle, limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, since := -1, time.Now()
	for !t.done() && time.Now().Before(deadline) && ctx.Err() == nil {
		if n := t.delivered(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > idle {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (t *tracker) delivered() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, h := range t.hits {
		n += h
	}
	return n
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
	first := t.firstSent()
	t.mu.Lock()
	defer t.mu.Unlock()
	var last time.Time
	for _, r := range t.recv {
		if r.After(last) {
			last = r
		}
	}
	return last.Sub(first)
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

// publisherMedians returns the median time from the publish call to its
// return, and to the publisher's own report of the message (zero when the
// network does not report its own messages).
func (t *tracker) publisherMedians() (ack, self time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	med := func(ts []time.Time) time.Duration {
		var d []time.Duration
		for i, at := range ts {
			if !at.IsZero() {
				d = append(d, at.Sub(t.sent[i]))
			}
		}
		return summarize(d, len(d)).p50
	}
	return med(t.acked), med(t.self)
}
