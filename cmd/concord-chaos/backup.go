package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/concordnet/concord/node/api"
)

// passFile is node i's backup passphrase file, outside its tmpfs.
func (c *chaos) passFile(i int) string {
	return filepath.Join(c.dir, "backups", fmt.Sprintf("n%d.pass", i))
}

// backup runs `concord backup` on node d as an operator would and, once
// acknowledged, makes it the node's latest backup.
func (c *chaos) backup(ctx context.Context, d *daemon) *op {
	o := c.hist.begin(&op{Node: d.i, Kind: "backup"})
	file := filepath.Join(c.dir, "backups", fmt.Sprintf("n%d-op%d.age", d.i, o.N))
	args := []string{"--home", d.home, "backup", file, "--passphrase-file", c.passFile(d.i)}
	if _, err := os.Stat(c.passFile(d.i)); errors.Is(err, os.ErrNotExist) {
		args = append(args, "--generate-passphrase")
	}
	err := concordCLI(ctx, d.bin, time.Minute, args...)
	c.hist.done(o, err)
	if err == nil {
		c.state.mu.Lock()
		c.state.backups[d.i], c.state.taken[d.i] = file, o.Start
		c.state.mu.Unlock()
	}
	return o
}

// restore stops node d, replaces its home by its latest backup with
// `concord restore`, and starts it again.
func (c *chaos) restore(ctx context.Context, d *daemon) (string, error) {
	c.state.mu.Lock()
	file, snapshot := c.state.backups[d.i], c.state.taken[d.i]
	c.state.mu.Unlock()
	if file == "" {
		return "", errors.New("no backup")
	}
	stopErr := d.stop()
	if err := os.RemoveAll(d.home); err != nil {
		return file, err
	}
	err := concordCLI(ctx, d.bin, time.Minute, "--home", d.home, "restore", file, "--passphrase-file", c.passFile(d.i))
	if err != nil {
		return file, errors.Join(stopErr, err)
	}
	c.state.mu.Lock()
	c.state.restores = append(c.state.restores, restoreRec{node: d.i, snapshot: snapshot, at: time.Now()})
	c.state.mu.Unlock()
	return file, errors.Join(stopErr, d.start(ctx))
}

// concordCLI runs the concord CLI; an error carries its exit code and
// output. A timeout is an unknown outcome.
func concordCLI(ctx context.Context, bin string, timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		class := api.Internal
		if ee.ExitCode() == 8 {
			class = api.Unavailable
		}
		return api.Errorf(class, "concord %s: exit %d: %s", args[2], ee.ExitCode(), strings.TrimSpace(string(out)))
	}
	return err
}
