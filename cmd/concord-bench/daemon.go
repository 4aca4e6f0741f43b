package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// buildConcord builds the real binary once, so that memory is measured on
// the process an operator runs, not on a benchmark that embeds it.
func buildConcord(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "concord")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "github.com/concordnet/concord/cmd/concord")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building cmd/concord (run from inside the module): %v\n%s", err, out)
	}
	return bin, nil
}

// daemon is a `concord daemon` subprocess.
type daemon struct {
	cmd  *exec.Cmd
	api  *api.Client
	done chan error
}

// startDaemon runs `concord init` then `concord daemon` in home, inside
// limit if not nil and with env added to its environment, and waits until
// its API answers. Its logs go to home/daemon.log.
func startDaemon(ctx context.Context, bin, home string, limit *memCap, env ...string) (*daemon, error) {
	init := exec.CommandContext(ctx, bin, "--home", home, "init", "--name", "Benchmark agency", "--country", "FRA",
		"--listen", "/ip4/127.0.0.1/tcp/0")
	if out, err := init.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("concord init: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(home, "daemon.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	d := &daemon{cmd: exec.Command(bin, "--home", home, "daemon"), done: make(chan error, 1),
		api: api.NewClient(home, node.Home(home).Socket())}
	if limit != nil {
		// The shell enters the cgroup, then becomes the daemon: every page
		// the daemon touches is charged to the cgroup.
		d.cmd = exec.Command("/bin/sh", "-c", `echo $$ > "$0" && exec "$1" --home "$2" daemon`, limit.procs(), bin, home)
	}
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Env = append(os.Environ(), env...)
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.done <- d.cmd.Wait() }()
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = nodetest.Poll(wait, pollEvery, func() (bool, error) {
		_, err := d.api.Status(wait)
		return err == nil, err
	})
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("the daemon's API never answered (see %s): %w", logf.Name(), err)
	}
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// stop sends SIGTERM, and SIGKILL if the daemon is still up 20 s later.
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}
