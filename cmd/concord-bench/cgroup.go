package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memCap is a memory cgroup that caps the daemon, as systemd's MemoryMax=
// does for the service. The kernel then reclaims the page cache of
// Badger's mapped files at the limit instead of letting it grow with the
// data; what cannot be reclaimed gets the process killed.
type memCap struct {
	dir string
	v1  bool // cgroup v1 memory controller; v2 otherwise
}

// newMemCap creates a memory cgroup limited to limit bytes, below this
// process's own, under cgroup v1 (/sys/fs/cgroup/memory) or v2.
func newMemCap(limit int64) (*memCap, error) {
	name := fmt.Sprintf("concord-bench-%d", os.Getpid())
	c := &memCap{}
	if own, err := ownCgroup("memory"); err == nil {
		c.dir, c.v1 = filepath.Join("/sys/fs/cgroup/memory", own, name), true
	} else if own, err := ownCgroup(""); err == nil {
		c.dir = filepath.Join("/sys/fs/cgroup", own, name)
	} else {
		return nil, errors.New("no memory cgroup found in /proc/self/cgroup")
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating a memory cgroup (needs root and a writable cgroup hierarchy): %w", err)
	}
	file, value := "memory.max", strconv.FormatInt(limit, 10)
	if c.v1 {
		file = "memory.limit_in_bytes"
	}
	if err := os.WriteFile(filepath.Join(c.dir, file), []byte(value), 0); err != nil {
		c.close()
		return nil, fmt.Errorf("setting the memory limit of %s: %w", c.dir, err)
	}
	return c, nil
}

// ownCgroup returns this process's cgroup path for a v1 controller, or
// the v2 path when controller is "".
func ownCgroup(controller string) (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if controller == "" && parts[0] == "0" && parts[1] == "" {
			return parts[2], nil
		}
		if controller != "" && strings.Contains(","+parts[1]+",", ","+controller+",") {
			return parts[2], nil
		}
	}
	return "", fmt.Errorf("no %q cgroup in /proc/self/cgroup", controller)
}

// procs is the file a process writes its PID to in order to enter.
func (c *memCap) procs() string { return filepath.Join(c.dir, "cgroup.procs") }

// String says how often the limit was reached and whether the kernel
// had to kill.
func (c *memCap) String() string {
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(c.dir, f))
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(b))
	}
	if c.v1 {
		return fmt.Sprintf("limit reached %s times, peak usage %s bytes, %s", read("memory.failcnt"), read("memory.max_usage_in_bytes"),
			strings.ReplaceAll(read("memory.oom_control"), "\n", ", "))
	}
	return fmt.Sprintf("peak usage %s bytes, events: %s", read("memory.peak"), strings.ReplaceAll(read("memory.events"), "\n", ", "))
}

// close removes the cgroup once its processes have exited.
func (c *memCap) close() { os.Remove(c.dir) }
