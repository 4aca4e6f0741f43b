package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memStat is a process's memory from /proc/PID/status, in MiB.
type memStat struct {
	rss, hwm, anon float64 // VmRSS, VmHWM (peak RSS), RssAnon (private)
}

func (m memStat) String() string {
	return fmt.Sprintf("peak RSS %.1f MiB, RSS %.1f MiB, anonymous %.1f MiB", m.hwm, m.rss, m.anon)
}

// readMem reads VmRSS, VmHWM and RssAnon. RSS counts Badger's mmapped
// files; RssAnon is the private memory the process really holds.
func readMem(pid int) (memStat, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStat{}, fmt.Errorf("reading process memory (Linux /proc only): %w", err)
	}
	defer f.Close()
	var m memStat
	fields := map[string]*float64{"VmRSS:": &m.rss, "VmHWM:": &m.hwm, "RssAnon:": &m.anon}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if dst, ok := fields[firstOr(parts)]; ok && len(parts) >= 2 {
			kb, err := strconv.ParseFloat(parts[1], 64)
			if err != nil {
				return m, fmt.Errorf("/proc/%d/status: %q: %w", pid, sc.Text(), err)
			}
			*dst = kb / 1024
		}
	}
	return m, sc.Err()
}

func firstOr(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[0]
}
