package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// tmpfsMiB bounds each home's filesystem; the store keeps reserveMiB of
// it free, so that a full disk is reached in seconds by the disk fault.
const (
	tmpfsMiB   = 128
	reserveMiB = 16
	warnMiB    = 32
)

var countries = []string{"FRA", "DEU", "ESP", "ITA", "NLD", "BEL", "PRT", "POL", "AUT", "SWE", "IRL", "GRC"}

// daemon is one node of the run: its namespace, its home on a tmpfs and
// its `concord daemon` process.
type daemon struct {
	i    int
	bin  string
	ns   string
	mnt  string // the tmpfs mount point
	home string // inside mnt
	log  string // outside mnt, so a full disk keeps its log
	api  *api.Client
	id   api.Identity

	busy atomic.Bool // a fault or a backup holds the process

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd exits
	clock time.Duration // the wall-clock offset of the next start (node.ClockOffsetEnv)
}

func (d *daemon) Client() *api.Client { return d.api }
func (d *daemon) Close() error        { d.kill(); return nil }

// newDaemon mounts node i's tmpfs and initializes its home.
func newDaemon(ctx context.Context, bin, dir, ns string, i int) (*daemon, error) {
	d := &daemon{i: i, bin: bin, ns: ns, mnt: filepath.Join(dir, fmt.Sprintf("n%d", i)),
		log: filepath.Join(dir, "logs", fmt.Sprintf("n%d.log", i))}
	d.home = filepath.Join(d.mnt, "home")
	d.api = api.NewClient(d.home, node.Home(d.home).Socket())
	if err := os.MkdirAll(d.mnt, 0o700); err != nil {
		return nil, err
	}
	if err := syscall.Mount("tmpfs", d.mnt, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0700", tmpfsMiB)); err != nil {
		return nil, fmt.Errorf("mounting a tmpfs on %s: %w", d.mnt, err)
	}
	out, err := exec.CommandContext(ctx, bin, "--home", d.home, "init", "--name", fmt.Sprintf("Agency %d", i),
		"--country", countries[i], "--listen", listenAddr(i)).CombinedOutput()
	if err != nil {
		return d, fmt.Errorf("concord init: %v: %s", err, out)
	}
	return d, d.configure()
}

// configure lowers the disk reserve to fit the small tmpfs.
func (d *daemon) configure() error {
	path := filepath.Join(d.home, "config.toml")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := strings.Replace(string(b), "reserve_mib = 128", fmt.Sprintf("reserve_mib = %d", reserveMiB), 1)
	s = strings.Replace(s, "warn_mib = 1024", fmt.Sprintf("warn_mib = %d", warnMiB), 1)
	if s == string(b) {
		return fmt.Errorf("%s: the [disk] defaults changed; update concord-chaos", path)
	}
	return os.WriteFile(path, []byte(s), 0o600)
}

// start runs the daemon in its namespace and waits until its API answers.
func (d *daemon) start(ctx context.Context) error {
	logf, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// ip netns exec execs the daemon: the process is the daemon itself.
	cmd := exec.Command("ip", "netns", "exec", d.ns, d.bin, "--home", d.home, "daemon")
	cmd.Stdout, cmd.Stderr = logf, logf
	d.mu.Lock()
	if d.clock != 0 {
		cmd.Env = append(os.Environ(), node.ClockOffsetEnv+"="+d.clock.String())
	}
	d.mu.Unlock()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	d.mu.Lock()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = nodetest.Poll(wait, 100*time.Millisecond, func() (bool, error) {
		select {
		case <-done:
			return false, errors.New("the daemon exited")
		default:
		}
		_, err := d.api.Status(wait)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("node %d: the daemon's API never answered (see %s): %w", d.i, d.log, err)
	}
	return nil
}

// proc returns the running process and its exit channel; nil if none.
func (d *daemon) proc() (*os.Process, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return nil, nil
	}
	return d.cmd.Process, d.done
}

// alive reports whether the daemon process runs.
func (d *daemon) alive() bool {
	p, done := d.proc()
	if p == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (d *daemon) signal(sig syscall.Signal) error {
	p, _ := d.proc()
	if p == nil {
		return errors.New("no process")
	}
	return p.Signal(sig)
}

// kill sends SIGKILL (and SIGCONT, for a paused one) and waits for the exit.
func (d *daemon) kill() {
	p, done := d.proc()
	if p == nil {
		return
	}
	p.Signal(syscall.SIGKILL)
	p.Signal(syscall.SIGCONT)
	<-done
}

// stop sends SIGTERM and waits; SIGKILL after 30 s.
func (d *daemon) stop() error {
	p, done := d.proc()
	if p == nil {
		return nil
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		d.kill()
		return fmt.Errorf("node %d did not stop within 30 s of SIGTERM: killed", d.i)
	}
}

// unmount detaches the tmpfs (lazily: a dying process may still hold it).
func (d *daemon) unmount() error {
	return syscall.Unmount(d.mnt, syscall.MNT_DETACH)
}

// memory is a daemon's resident memory in KiB: all of it (VmRSS), and
// its private part (RssAnon). VmRSS also counts the pages of the home's
// files that Badger maps, which on a tmpfs are the files themselves,
// bounded by the mount's size; what grows without bound, if anything,
// is private.
type memory struct{ rss, anon int }

// memKiB reads VmRSS and RssAnon from /proc.
func (d *daemon) memKiB() (memory, error) {
	var m memory
	p, _ := d.proc()
	if p == nil {
		return m, errors.New("no process")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
	if err != nil {
		return m, err
	}
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		for field, v := range map[string]*int{"VmRSS:": &m.rss, "RssAnon:": &m.anon} {
			if rest, ok := strings.CutPrefix(line, field); ok {
				if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", v); err != nil {
					return m, fmt.Errorf("%s %q: %w", field, rest, err)
				}
				found++
			}
		}
	}
	if found != 2 {
		return m, errors.New("no VmRSS or RssAnon in /proc/PID/status")
	}
	return m, nil
}

// restartWithClock stops the daemon cleanly and starts it again with its
// wall clock shifted by offset (0: the true time).
func (d *daemon) restartWithClock(ctx context.Context, offset time.Duration) error {
	err := d.stop()
	d.mu.Lock()
	d.clock = offset
	d.mu.Unlock()
	return errors.Join(err, d.start(context.WithoutCancel(ctx)))
}
