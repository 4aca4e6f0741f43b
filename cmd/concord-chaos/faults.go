package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/concordnet/concord/node/api"
)

// faultKinds are the faults drawn at random.
var faultKinds = []string{"kill", "pause", "isolate", "split", "disk", "clock", "restore"}

// maxFaults is how many faults may hold at once.
const maxFaults = 2

// faults injects faults until ctx ends: every 2 to 6 s a new one, unless
// two already hold (so one alone, or two combined); it returns once every
// fault is undone.
func (c *chaos) faults(ctx context.Context) {
	var wg sync.WaitGroup
	var netBusy atomic.Bool
	slots := make(chan struct{}, maxFaults)
	rng := c.child()
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(between(rng, 2*time.Second, 6*time.Second)):
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		kind := c.cfg.kinds[rng.IntN(len(c.cfg.kinds))]
		frng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Go(func() {
			defer func() { <-slots }()
			c.fault(ctx, kind, frng, &netBusy)
		})
	}
}

// fault injects one fault of kind and undoes it; a fault that finds its
// node or the network taken is skipped.
func (c *chaos) fault(ctx context.Context, kind string, rng *rand.Rand, netBusy *atomic.Bool) {
	switch kind {
	case "isolate", "split":
		if !netBusy.CompareAndSwap(false, true) {
			return
		}
		defer netBusy.Store(false)
		if kind == "split" {
			c.split(ctx, rng)
		} else {
			c.isolate(ctx, rng)
		}
		return
	}
	d := c.nodes[rng.IntN(len(c.nodes))]
	if !d.busy.CompareAndSwap(false, true) {
		return
	}
	defer d.busy.Store(false)
	switch kind {
	case "kill":
		c.killFault(ctx, d, rng)
	case "pause":
		c.pause(ctx, d, rng)
	case "disk":
		c.fillDisk(ctx, d, rng)
	case "restore":
		c.restoreFault(ctx, d)
	case "clock":
		c.clockJump(ctx, d, rng)
	}
}

// clockJump restarts d with its wall clock shifted (node.ClockOffsetEnv:
// the kernel has one real-time clock for every namespace), holds, then
// restarts it on the true time. The shift stays within the 10 minutes a
// receiver allows a sender's clock ahead (docs/protocol.md §8.6), so that
// what the node acknowledges meanwhile must still reach every member.
func (c *chaos) clockJump(ctx context.Context, d *daemon, rng *rand.Rand) {
	shift := between(rng, 30*time.Second, 8*time.Minute).Round(time.Second)
	if rng.IntN(2) == 0 {
		shift = -shift
	}
	dur := between(rng, 10*time.Second, 30*time.Second)
	f := c.hist.startFault("clock", []int{d.i}, fmt.Sprintf("restarted with its clock %+v off for %s", shift, dur.Round(time.Second)))
	err := d.restartWithClock(ctx, shift)
	hold(ctx, dur)
	c.hist.endFault(f, errNote(errors.Join(err, d.restartWithClock(ctx, 0))))
}

// hold waits for d, or less if ctx ends first.
func hold(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

func errNote(err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func (c *chaos) killFault(ctx context.Context, d *daemon, rng *rand.Rand) {
	f := c.hist.startFault("kill", []int{d.i}, "SIGKILL, then restart")
	d.kill()
	hold(ctx, between(rng, 0, 3*time.Second))
	c.hist.endFault(f, errNote(d.start(context.WithoutCancel(ctx))))
}

func (c *chaos) pause(ctx context.Context, d *daemon, rng *rand.Rand) {
	dur := between(rng, 5*time.Second, 20*time.Second)
	f := c.hist.startFault("pause", []int{d.i}, fmt.Sprintf("SIGSTOP for %s", dur.Round(time.Second)))
	err := d.signal(syscall.SIGSTOP)
	hold(ctx, dur)
	c.hist.endFault(f, errNote(errors.Join(err, d.signal(syscall.SIGCONT))))
}

func (c *chaos) isolate(ctx context.Context, rng *rand.Rand) {
	i := rng.IntN(len(c.nodes))
	dur := between(rng, 5*time.Second, 40*time.Second)
	f := c.hist.startFault("isolate", []int{i}, fmt.Sprintf("link down for %s", dur.Round(time.Second)))
	err := c.net.setLink(i, false)
	hold(ctx, dur)
	c.hist.endFault(f, errNote(errors.Join(err, c.net.setLink(i, true))))
}

// split moves a random half of the nodes to the second bridge: each half
// still talks within itself.
func (c *chaos) split(ctx context.Context, rng *rand.Rand) {
	half := rng.Perm(len(c.nodes))[:len(c.nodes)/2]
	sortInts(half)
	dur := between(rng, 5*time.Second, 40*time.Second)
	f := c.hist.startFault("split", half, fmt.Sprintf("these apart from the rest for %s", dur.Round(time.Second)))
	var errs []error
	for _, i := range half {
		errs = append(errs, c.net.setBridge(i, "br1"))
	}
	hold(ctx, dur)
	for _, i := range half {
		errs = append(errs, c.net.setBridge(i, "br0"))
	}
	c.hist.endFault(f, errNote(errors.Join(errs...)))
}

// fillDisk fills the node's tmpfs until ENOSPC, checks that the daemon
// still serves reads, holds, and frees the space.
func (c *chaos) fillDisk(ctx context.Context, d *daemon, rng *rand.Rand) {
	dur := between(rng, 5*time.Second, 20*time.Second)
	f := c.hist.startFault("disk", []int{d.i}, fmt.Sprintf("tmpfs filled for %s", dur.Round(time.Second)))
	path := filepath.Join(d.mnt, "fill")
	err := fill(path)
	c.readsDuringFull(ctx, d)
	hold(ctx, dur)
	c.readsDuringFull(ctx, d)
	c.hist.endFault(f, errNote(errors.Join(err, os.Remove(path))))
}

// fill writes path until the filesystem is full (ENOSPC is the success).
func fill(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := fh.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}

// readsDuringFull records a Status and a List on a node whose disk is
// full: both must answer.
func (c *chaos) readsDuringFull(ctx context.Context, d *daemon) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	o := c.hist.begin(&op{Node: d.i, Kind: "read"})
	st, err := d.api.Status(ctx)
	if err == nil {
		_, err = d.api.List(ctx, api.ListQuery{Limit: 10})
	}
	if err == nil && (st.Disk == nil || !st.Disk.Full) {
		o.Err = "status does not report the disk full"
	}
	c.hist.done(o, err)
}

func (c *chaos) restoreFault(ctx context.Context, d *daemon) {
	f := c.hist.startFault("restore", []int{d.i}, "SIGTERM, home replaced by its latest backup, restart")
	file, err := c.restore(context.WithoutCancel(ctx), d)
	c.hist.endFault(f, fmt.Sprintf("from %s %s", filepath.Base(file), errNote(err)))
}
