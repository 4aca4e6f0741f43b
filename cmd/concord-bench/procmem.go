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
	rss, hwm, anon, file float64 // VmRSS, VmHWM (peak RSS), RssAnon (private), RssFile (mapped files)
}

func (m memStat) String() string {
	return fmt.Sprintf("peak RSS %.1f MiB, RSS %.1f MiB (anonymous %.1f, mapped files %.1f)", m.hwm, m.rss, m.anon, m.file)
}

// readMem reads VmRSS, VmHWM, RssAnon and RssFile. RSS counts the pages
// of Badger's mmapped files (RssFile), which the kernel can drop at will;
// RssAnon is the private memory the process really holds.
func readMem(pid int) (memStat, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStat{}, fmt.Errorf("reading process memory (Linux /proc only): %w", err)
	}
	defer f.Close()
	var m memStat
	fields := map[string]*float64{"VmRSS:": &m.rss, "VmHWM:": &m.hwm, "RssAnon:": &m.anon, "RssFile:": &m.file}
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
