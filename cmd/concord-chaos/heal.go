package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// convergeWithin bounds the wait for convergence after the last heal,
// unless the config sets another bound.
const convergeWithin = 3 * time.Minute

// callTimeout bounds one API call of the convergence and the snapshot,
// so that a poll's last reason is the nodes' state, not its deadline.
const callTimeout = 10 * time.Second

// chaos runs the workload and the faults for the run's duration.
func (c *chaos) chaos(ctx context.Context) {
	c.hist.logf("workload and faults for %s", c.cfg.duration)
	run, cancel := context.WithTimeout(ctx, c.cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.workload(run) })
	wg.Go(func() { c.faults(run) })
	wg.Wait()
}

// heal undoes whatever a fault may have left: links up on one bridge,
// every process continued, disks freed, every daemon running.
func (c *chaos) heal(ctx context.Context) error {
	errs := []error{c.net.heal()}
	for _, d := range c.nodes {
		os.Remove(filepath.Join(d.mnt, "fill"))
		if d.alive() {
			d.signal(syscall.SIGCONT)
			continue
		}
		c.hist.logf("heal: node %d was not running: starting it", d.i)
		errs = append(errs, d.start(ctx))
	}
	return errors.Join(errs...)
}

// converge waits until, on every topic, the sure members report equal
// version vectors and log lengths; it returns how long that took.
func (c *chaos) converge(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, c.cfg.convergeBound())
	defer cancel()
	err := nodetest.Poll(wait, 500*time.Millisecond, func() (bool, error) {
		call, cancel := context.WithTimeout(context.WithoutCancel(wait), callTimeout)
		defer cancel()
		for _, t := range c.state.topics {
			if err := c.agree(call, t); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return time.Since(start), err
}

// agree reports how the sure members of t differ, or nil.
func (c *chaos) agree(ctx context.Context, t *topicState) error {
	var first map[string]uint64
	var firstLog uint64
	members := c.state.members(t)
	for k, i := range members {
		vv, logLen, err := c.vector(ctx, c.nodes[i], t.ID)
		if err != nil {
			return fmt.Errorf("node %d on %s: %w", i, t, err)
		}
		if k == 0 {
			first, firstLog = vv, logLen
			continue
		}
		if !maps.Equal(vv, first) || logLen != firstLog {
			return fmt.Errorf("%s: node %d holds %v (log %d), node %d %v (log %d)",
				t, members[0], first, firstLog, i, vv, logLen)
		}
	}
	return nil
}

// vector is node d's version vector and log length on topic.
func (c *chaos) vector(ctx context.Context, d *daemon, topic string) (map[string]uint64, uint64, error) {
	st, err := d.api.Status(ctx)
	if err != nil {
		return nil, 0, err
	}
	tp, err := d.api.Topic(ctx, topic)
	if err != nil {
		return nil, 0, err
	}
	for _, s := range st.Sync {
		if s.Topic == topic {
			return s.VersionVector, tp.LogLength, nil
		}
	}
	return nil, 0, errors.New("no sync state for the topic")
}

// finish heals, waits for convergence, checks and reports.
func (c *chaos) finish(ctx context.Context) error {
	c.hist.logf("healing")
	if err := c.heal(ctx); err != nil {
		c.hist.logf("heal: %v", err)
	}
	took, convErr := c.converge(ctx)
	if convErr == nil {
		c.hist.logf("converged %s after the heal", took.Round(100*time.Millisecond))
	} else {
		c.hist.logf("no convergence: %v", convErr)
	}
	snap := c.snapshot(ctx)
	res := c.check(snap, convErr)
	return c.report(res, took, convErr)
}

// view is one node's state as its API shows it.
type view struct {
	status    api.Status
	statusErr error
	bulletins map[string]api.Bulletin // by ID (sealed: by envelope ID)
	epochs    map[string]uint64       // envelope ID → its epoch
	listErr   error
	mem       memory
	memErr    error
	alive     bool
}

// snapshot reads every node's state through its local API.
func (c *chaos) snapshot(ctx context.Context) []view {
	views := make([]view, len(c.nodes))
	c.parallel(func(d *daemon) error {
		v := &views[d.i]
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		v.alive = d.alive()
		v.mem, v.memErr = d.memKiB()
		v.status, v.statusErr = d.api.Status(ctx)
		v.bulletins, v.epochs = map[string]api.Bulletin{}, map[string]uint64{}
		topics, err := d.api.Topics(ctx)
		if err != nil {
			v.listErr = err
			return nil
		}
		for _, t := range topics {
			bs, err := d.api.List(ctx, api.ListQuery{Topic: t.ID})
			if err != nil {
				v.listErr = err
				return nil
			}
			for _, b := range bs {
				v.bulletins[b.ID] = b
			}
			if err := envelopeEpochs(ctx, d, t.ID, v.epochs); err != nil {
				v.listErr = err
				return nil
			}
		}
		return nil
	})
	return views
}

// envelopeEpochs reads the epoch of every envelope d holds on a topic.
func envelopeEpochs(ctx context.Context, d *daemon, topic string, into map[string]uint64) error {
	s, err := d.api.Envelopes(ctx, topic, api.EnvelopeQuery{})
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		e, err := s.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("envelopes of %s: %w", topic, err)
		case e.Error != "":
			return fmt.Errorf("envelopes of %s: %s", topic, e.Error)
		}
		into[e.ID] = e.Epoch
	}
}
