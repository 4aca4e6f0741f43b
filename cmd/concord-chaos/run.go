package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// chaos is one run.
type chaos struct {
	cfg   config
	dir   string
	net   *network
	nodes []*daemon
	hist  *history
	state *state

	rngMu sync.Mutex
	rng   *rand.Rand
}

// run does the whole run: set up, workload and faults, heal, converge,
// check; it always cleans up.
func run(ctx context.Context, cfg config) (err error) {
	prefix := fmt.Sprintf("cch%d", os.Getpid())
	if err := preflight(prefix); err != nil {
		return err
	}
	replay := fmt.Sprintf("-nodes %d -duration %s -seed %d", cfg.nodes, cfg.duration, cfg.seed)
	if !slices.Equal(cfg.kinds, faultKinds) {
		replay += " -faults " + strings.Join(cfg.kinds, ",")
	}
	if !cfg.removals {
		replay += " -removals=false"
	}
	fmt.Fprintf(cfg.out, "seed %d (replay: go run ./cmd/concord-chaos %s)\n", cfg.seed, replay)
	c := &chaos{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))}
	if c.dir, err = workDir(cfg.dir); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, c.cleanup(err == nil)) }()
	if c.hist, err = newHistory(filepath.Join(c.dir, "history.jsonl"), cfg.out); err != nil {
		return err
	}
	if err := c.setup(ctx, prefix); err != nil {
		return fmt.Errorf("setting up: %w", err)
	}
	c.chaos(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return c.finish(ctx)
}

func workDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "concord-chaos-")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o700)
}

// cleanup stops every daemon, removes the namespaces and mounts, and the
// work directory when the run passed and -keep is off.
func (c *chaos) cleanup(passed bool) error {
	var errs []error
	for _, d := range c.nodes {
		d.kill()
	}
	for _, d := range c.nodes {
		if err := d.unmount(); err != nil {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", d.mnt, err))
		}
	}
	if c.net != nil {
		errs = append(errs, c.net.close())
	}
	if c.hist != nil {
		c.hist.close()
	}
	if passed && !c.cfg.keep && errors.Join(errs...) == nil {
		errs = append(errs, os.RemoveAll(c.dir))
	} else {
		fmt.Fprintf(c.cfg.out, "work directory kept: %s (history.jsonl, logs/)\n", c.dir)
	}
	return errors.Join(errs...)
}

// setup builds concord, makes the network, starts the daemons and the
// topics.
func (c *chaos) setup(ctx context.Context, prefix string) error {
	for _, sub := range []string{"logs", "backups", "bin"} {
		if err := os.MkdirAll(filepath.Join(c.dir, sub), 0o700); err != nil {
			return err
		}
	}
	bin := c.cfg.bin
	if bin == "" {
		var err error
		if bin, err = buildConcord(ctx, filepath.Join(c.dir, "bin")); err != nil {
			return err
		}
	}
	var err error
	c.net, err = newNetwork(prefix, c.cfg.nodes)
	if err != nil {
		return err
	}
	for i, ns := range c.net.nodes {
		d, err := newDaemon(ctx, bin, c.dir, ns, i)
		if d != nil {
			c.nodes = append(c.nodes, d)
		}
		if err != nil {
			return err
		}
	}
	if err := c.parallel(func(d *daemon) error { return d.start(ctx) }); err != nil {
		return err
	}
	if err := c.parallel(func(d *daemon) (err error) { d.id, err = d.api.Identity(ctx); return err }); err != nil {
		return err
	}
	c.hist.logf("%d daemons up in %s", len(c.nodes), c.dir)
	return c.topics(ctx)
}

func (c *chaos) parallel(fn func(d *daemon) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes))
	for i, d := range c.nodes {
		wg.Go(func() { errs[i] = fn(d) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// buildConcord builds the daemon's binary once.
func buildConcord(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "concord")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.CommandContext(ctx, gobin, "build", "-o", bin, "github.com/concordnet/concord/cmd/concord").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building cmd/concord (run from inside the module): %v\n%s", err, out)
	}
	return bin, nil
}

// child returns a new source seeded from the run's, for one goroutine.
func (c *chaos) child() *rand.Rand {
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return rand.New(rand.NewPCG(c.rng.Uint64(), c.rng.Uint64()))
}
