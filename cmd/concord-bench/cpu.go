package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time (user + system) this process has used so
// far, every thread included: all in-process nodes, or hosts, together
// with the load driver.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
