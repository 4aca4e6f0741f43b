package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/concordnet/concord/node/api"
)

// admin is node 0's operator: every 6 to 15 s it invites a node to a
// topic it never joined or, a few times a run, removes a member.
func (c *chaos) admin(ctx context.Context, rng *rand.Rand) {
	removals := max(1, len(c.nodes)/4)
	if !c.cfg.removals {
		removals = 0
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(6*time.Second + time.Duration(rng.IntN(9000))*time.Millisecond):
		}
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		if rng.IntN(2) == 0 || removals == 0 {
			c.invite(octx, rng)
		} else if c.remove(octx, rng) {
			removals--
		}
		cancel()
	}
}

// invite has node 0 invite a node that never was in a topic: Identity →
// Invite → Join, one operation; then the guest is backed up, as an
// operator would after a join.
func (c *chaos) invite(ctx context.Context, rng *rand.Rand) {
	t, guest := c.candidate(rng, func(t *topicState, i int) bool { return !t.tried[i] && i != 0 })
	if t == nil {
		return
	}
	g := c.nodes[guest]
	o := c.hist.begin(&op{Node: 0, Kind: "invite", Topic: t.ID, Target: guest})
	c.state.mu.Lock()
	t.tried[guest], t.doubt[guest] = true, true
	c.state.mu.Unlock()
	joined, tp, err := c.inviteSteps(ctx, g, t.ID)
	c.hist.done(o, err)
	c.state.mu.Lock()
	switch {
	case err == nil:
		t.joined[guest], t.doubt[guest], t.joinEpoch[guest] = o.End, false, tp.Epoch
	case o.Outcome == unknown && joined:
		t.joined[guest] = o.End // may have joined: kept out of the checks
	default:
		t.doubt[guest], t.tried[guest] = false, false // not in: it may be invited again
	}
	c.state.mu.Unlock()
	if err == nil && g.busy.CompareAndSwap(false, true) {
		c.backup(ctx, g)
		g.busy.Store(false)
	}
}

// inviteSteps reports whether the join was attempted, and how it went:
// the topic as the guest joined it.
func (c *chaos) inviteSteps(ctx context.Context, g *daemon, topic string) (bool, api.Topic, error) {
	id, err := g.api.Identity(ctx)
	if err != nil {
		return false, api.Topic{}, err
	}
	inv, err := c.nodes[0].api.Invite(ctx, topic, api.InviteRequest{Card: id.Card})
	if err != nil {
		return false, api.Topic{}, err
	}
	tp, err := g.api.Join(ctx, inv.Token)
	return true, tp, err
}

// remove has node 0 remove a sure member other than itself.
func (c *chaos) remove(ctx context.Context, rng *rand.Rand) bool {
	t, target := c.candidate(rng, func(t *topicState, i int) bool { return t.member(i) && i != 0 })
	if t == nil {
		return false
	}
	o := c.hist.begin(&op{Node: 0, Kind: "remove", Topic: t.ID, Target: target})
	c.state.mu.Lock()
	t.doubt[target] = true
	c.state.mu.Unlock()
	_, err := c.nodes[0].api.Remove(ctx, t.ID, api.RemoveRequest{Member: c.nodes[target].id.MemberID, Reason: "chaos"})
	c.hist.done(o, err)
	c.state.mu.Lock()
	switch o.Outcome {
	case ok:
		t.removed[target], t.doubt[target] = o.End, false
	case failed:
		t.doubt[target] = false
	}
	c.state.mu.Unlock()
	c.hist.logf("op %d: node 0 removes node %d from %s: %s %s", o.N, target, t.Name, o.Outcome, o.Err)
	return o.Outcome != failed
}

// candidate draws a (topic, node) pair for which ok holds.
func (c *chaos) candidate(rng *rand.Rand, ok func(*topicState, int) bool) (*topicState, int) {
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	type pair struct {
		t *topicState
		i int
	}
	var all []pair
	for _, t := range c.state.topics {
		for i := range c.nodes {
			if ok(t, i) {
				all = append(all, pair{t, i})
			}
		}
	}
	if len(all) == 0 {
		return nil, 0
	}
	p := all[rng.IntN(len(all))]
	return p.t, p.i
}

func (t *topicState) String() string { return fmt.Sprintf("%s (%s)", t.Name, t.ID[:8]) }
