package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// A short chaos run: 3 nodes for 20 s, every invariant checked. It needs
// root and network namespaces, and skips without them.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a chaos run takes about a minute")
	}
	if err := preflight(fmt.Sprintf("cch%d", os.Getpid())); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	seed := uint64(1) // fixed, for CI; CONCORD_CHAOS_SEED tries another
	if s := os.Getenv("CONCORD_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CONCORD_CHAOS_SEED=%q: %v", s, err)
		}
	}
	// With removals: seed 1 removes a member during a partition, which
	// showed defect 1 of docs/reliability.md. Convergence gets the
	// command's 3 minutes: nodes that failed to dial each other during a
	// partition retry after 30 s, doubling (dial backoff), and the race
	// detector slows everything.
	cfg := config{nodes: 3, duration: 20 * time.Second, converge: 3 * time.Minute, seed: seed, kinds: faultKinds, removals: true, out: t.Output()}
	if err := run(ctx, cfg); err != nil && !errors.Is(err, errSkip) {
		t.Fatal(err)
	}
}

// A title names the publication it came from, whatever its revision.
func TestOpOfTitle(t *testing.T) {
	for title, want := range map[string]int{"chaos op 42 rev 1": 42, "chaos op 7 rev 2": 7, "other": 0, "chaos op x": 0} {
		if got := opOfTitle(title); got != want {
			t.Errorf("opOfTitle(%q) = %d, want %d", title, got, want)
		}
	}
}

// Transport failures are unknown outcomes; answered errors failed ones.
func TestOutcome(t *testing.T) {
	if outcome(nil) != ok || outcome(context.DeadlineExceeded) != unknown || outcome(errors.New("refused")) != failed {
		t.Fatal("outcome misclassifies")
	}
}
