package node

import (
	"fmt"
	"os"
	"time"
)

// ClockOffsetEnv names the environment variable that shifts a daemon's
// wall clock by a Go duration ("5m", "-90s"): a fault-injection hook for
// concord-chaos (docs/reliability.md), since the kernel has one
// real-time clock for every process. An operator never sets it.
const ClockOffsetEnv = "CONCORD_CLOCK_OFFSET"

// clockOffset reads ClockOffsetEnv; absent is no offset.
func clockOffset() (time.Duration, error) {
	s := os.Getenv(ClockOffsetEnv)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a Go duration such as 5m or -90s: %w", ClockOffsetEnv, s, err)
	}
	return d, nil
}

// now is the node's wall clock: what it stamps on what it signs and
// judges others' timestamps by. Durations and deadlines use time.Now.
func (n *Node) now() time.Time { return time.Now().Add(n.clockOffset) }
