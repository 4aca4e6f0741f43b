package node

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrDaemonRunning reports a second daemon on the same home.
var ErrDaemonRunning = errors.New("a daemon is already running")

// lockHome takes the home's exclusive lock, which the kernel releases when
// the process dies, so a crashed daemon never leaves a stale lock.
func lockHome(h Home) (*os.File, error) {
	f, err := os.OpenFile(h.Lock(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(h.Lock())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w for home %s (pid %s); stop it first or use another --home", ErrDaemonRunning, h, strings.TrimSpace(string(pid)))
		}
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
