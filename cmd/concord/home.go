package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
)

// noDaemonError is a no-daemon diagnosis: exit 3 (api.ErrNoDaemon) with a
// message that says what to do for this home.
type noDaemonError struct{ msg string }

func (e noDaemonError) Error() string { return e.msg }
func (e noDaemonError) Unwrap() error { return api.ErrNoDaemon }

// diagnoseHome says why no daemon answers on h's socket.
func diagnoseHome(h node.Home) error {
	q := shellQuote(string(h))
	if _, err := os.Stat(h.Config()); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no node at %s: it holds no config.toml (set CONCORD_HOME or --home to the node's home, or create one with `concord init --home %s --name NAME --country ISO3`)", h, q)
	}
	pid, held := lockHolder(h.Lock())
	_, serr := os.Stat(h.Socket())
	switch {
	case held && errors.Is(serr, fs.ErrNotExist):
		return noDaemonError{fmt.Sprintf("daemon pid %d holds home %s but its socket %s is gone: restart it (kill -TERM %d, then concord daemon --home %s)", pid, h, h.Socket(), pid, q)}
	case held:
		return noDaemonError{fmt.Sprintf("daemon pid %d holds home %s but does not answer on %s: it may still be starting (wait with `concord status --wait 30s --home %s`); if it stays silent, restart it (kill -TERM %d, then concord daemon --home %s)", pid, h, h.Socket(), q, pid, q)}
	}
	return noDaemonError{fmt.Sprintf("no daemon running for home %s; start it with `concord daemon --home %s`", h, q)}
}

// lockHolder returns the pid of the process holding the flock on the
// daemon's lock file (node/lock.go), read from /proc/locks by the file's
// device and inode. Taking the lock to test it would race a daemon that
// is starting; reading the pid file would trust a pid a crashed daemon
// left. Where /proc/locks does not exist (not Linux), it reports none.
func lockHolder(lockPath string) (int, bool) {
	info, err := os.Stat(lockPath)
	if err != nil {
		return 0, false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	dev := uint64(st.Dev) // Dev is int32 or uint64 by platform
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 12345 fe:00:9978248 0 EOF
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[1] == "FLOCK" && fields[5] == want {
			if pid, err := strconv.Atoi(fields[4]); err == nil && pid > 0 {
				return pid, true
			}
		}
	}
	return 0, false
}
