package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

const (
	analystsPerNode = 2
	opsPerSecond    = 5 // in all: bounds the run's traffic
	opTimeout       = 15 * time.Second
)

// workload runs the analysts until ctx ends, at most opsPerSecond
// operations a second in all.
func (c *chaos) workload(ctx context.Context) {
	tokens := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second / opsPerSecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	})
	for _, d := range c.nodes {
		for range analystsPerNode {
			rng := c.child()
			wg.Go(func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-tokens:
					}
					c.step(ctx, d, rng)
				}
			})
		}
	}
	wg.Go(func() { c.admin(ctx, c.child()) })
	wg.Wait()
}

// step is one analyst's operation: mostly publications, then revisions,
// revocations, and now and then a backup of the node.
func (c *chaos) step(ctx context.Context, d *daemon, rng *rand.Rand) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	switch r := rng.Float64(); {
	case r < 0.6:
		c.publish(ctx, d, rng)
	case r < 0.82:
		c.revise(ctx, d, rng)
	case r < 0.95:
		c.revoke(ctx, d, rng)
	default:
		if d.busy.CompareAndSwap(false, true) {
			c.backup(ctx, d)
			d.busy.Store(false)
		}
	}
}

// publish publishes on one of the topics the node ever joined (a removed
// node must be refused), some with an attachment, some restricted to an
// audience of one or two other members.
func (c *chaos) publish(ctx context.Context, d *daemon, rng *rand.Rand) {
	ts := c.state.topicsOf(d.i)
	if len(ts) == 0 {
		return
	}
	t := ts[rng.IntN(len(ts))]
	o := c.hist.begin(&op{Node: d.i, Kind: "publish", Topic: t.ID})
	if rng.IntN(4) == 0 {
		o.Audience = c.audience(t, d.i, rng)
	}
	draft := c.draft(o.N, 1, o.Audience, rng)
	res, err := d.api.Publish(ctx, api.PublishRequest{Topic: t.ID, Draft: draft})
	o.ID, o.Envelope, o.Version = res.ID, res.Envelope, 1
	c.hist.done(o, err)
	if err == nil {
		c.state.mu.Lock()
		c.state.own[d.i] = append(c.state.own[d.i], o)
		c.state.mu.Unlock()
	}
}

// audience draws one or two other sure members of t.
func (c *chaos) audience(t *topicState, self int, rng *rand.Rand) []int {
	var others []int
	for _, m := range c.state.members(t) {
		if m != self {
			others = append(others, m)
		}
	}
	rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	return sortInts(others[:min(len(others), 1+rng.IntN(2))])
}

// pick draws one of the node's acknowledged, unrevoked publications.
func (c *chaos) pick(i int, rng *rand.Rand) *op {
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	var live []*op
	for _, o := range c.state.own[i] {
		if !c.state.revoked[o.N] {
			live = append(live, o)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[rng.IntN(len(live))]
}

func (c *chaos) revise(ctx context.Context, d *daemon, rng *rand.Rand) {
	p := c.pick(d.i, rng)
	if p == nil {
		return
	}
	o := c.hist.begin(&op{Node: d.i, Kind: "revise", Topic: p.Topic, ID: p.ID, Origin: p.N})
	res, err := d.api.Revise(ctx, p.ID, api.ReviseRequest{Draft: c.draft(p.N, 2, p.Audience, rng)})
	o.Envelope, o.Version = res.Envelope, res.Version
	c.hist.done(o, err)
}

func (c *chaos) revoke(ctx context.Context, d *daemon, rng *rand.Rand) {
	p := c.pick(d.i, rng)
	if p == nil {
		return
	}
	o := c.hist.begin(&op{Node: d.i, Kind: "revoke", Topic: p.Topic, ID: p.ID, Origin: p.N})
	res, err := d.api.Revoke(ctx, p.ID, api.RevokeRequest{Reason: "chaos: withdrawn"})
	o.Envelope = res.Envelope
	c.hist.done(o, err)
	if err == nil {
		c.state.mu.Lock()
		c.state.revoked[p.N] = true
		c.state.mu.Unlock()
	}
}

// titlePrefix starts every title, followed by the number of the publish
// op: the checker maps a readable bulletin to its operation by it, even
// when the publication's outcome was unknown.
const titlePrefix = "chaos op "

func (c *chaos) draft(opN, rev int, audience []int, rng *rand.Rand) protocol.BulletinDraft {
	d := protocol.BulletinDraft{
		Title:   fmt.Sprintf("%s%d rev %d", titlePrefix, opN, rev),
		Summary: "Shipment observed.", Body: fmt.Sprintf("Observation %d.", rng.IntN(1e6)),
		Language: "en", TLP: "AMBER", Handling: protocol.Handling{Code: "H2"},
		SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{
			{Type: "vessel", Value: fmt.Sprintf("MV Chaos %d", rng.IntN(50))},
			{Type: "phone", Value: fmt.Sprintf("+3361234%04d", rng.IntN(10000))},
		},
	}
	if rng.IntN(5) == 0 {
		data := []byte(strings.Repeat(fmt.Sprintf("evidence %d\n", opN), 1+rng.IntN(200)))
		d.Attachments = []protocol.Attachment{protocol.NewAttachment("evidence.txt", "", data)}
	}
	for _, m := range audience {
		d.Audience = append(d.Audience, c.nodes[m].id.MemberID)
	}
	return d
}

// opOfTitle returns the publish op number a title names, or 0.
func opOfTitle(title string) int {
	rest, found := strings.CutPrefix(title, titlePrefix)
	if !found {
		return 0
	}
	num, _, _ := strings.Cut(rest, " ")
	n, _ := strconv.Atoi(num)
	return n
}
