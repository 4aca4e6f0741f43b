package main

import (
	"context"
	"fmt"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// topics has node 0 create two topics as an agency would: everyone on
// the first, all but the last third on the second (the others are
// invited during the run), each joined by Identity → Invite → Join; then
// waits for the mesh and backs every node up.
func (c *chaos) topics(ctx context.Context) error {
	c.state = newState()
	n := len(c.nodes)
	specs := []struct {
		category, name string
		members        int
	}{
		{"drug-trafficking", "Drug trafficking", n},
		{"human-trafficking", "Trafficking in persons", n - max(1, n/3)},
	}
	owner := c.nodes[0]
	for _, s := range specs {
		t, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: s.category, Name: s.name})
		if err != nil {
			return fmt.Errorf("creating topic %s: %w", s.name, err)
		}
		ts := newTopic(t.ID, s.name)
		ts.joined[0] = time.Now()
		members := []nodetest.Member{owner}
		for i := 1; i < s.members; i++ {
			if _, err := nodetest.Invite(ctx, owner, c.nodes[i], t.ID); err != nil {
				return fmt.Errorf("node %d joining %s: %w", i, s.name, err)
			}
			ts.joined[i], ts.tried[i] = time.Now(), true
			members = append(members, c.nodes[i])
		}
		wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = nodetest.WaitMesh(wait, members, t.ID)
		cancel()
		if err != nil {
			return fmt.Errorf("topic %s: %w", s.name, err)
		}
		c.state.topics = append(c.state.topics, ts)
		c.hist.logf("topic %s (%s): %d members, meshed", s.name, t.ID[:8], len(members))
	}
	return c.parallel(func(d *daemon) error {
		o := c.backup(ctx, d)
		if o.Outcome != ok {
			return fmt.Errorf("node %d: backup: %s", d.i, o.Err)
		}
		return nil
	})
}
