package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	nodes    int
	duration time.Duration
	seed     uint64
	dir      string
	keep     bool
	bin      string        // a built concord; empty: build one
	converge time.Duration // bound of the wait for convergence; 0: convergeWithin
	kinds    []string      // fault kinds drawn from
	removals bool          // node 0 removes a member now and then
	out      io.Writer     // progress and the report
}

// errSkip reports that the machine cannot run the chaos run.
var errSkip = errors.New("skipped")

func main() {
	cfg := config{out: os.Stdout}
	flag.IntVar(&cfg.nodes, "nodes", 5, "daemons to run (2..12)")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the workload and the faults run")
	flag.Uint64Var(&cfg.seed, "seed", uint64(time.Now().UnixNano()), "seed of every random choice (printed first, to replay a run)")
	flag.StringVar(&cfg.dir, "dir", "", "work directory (default: a temporary one, removed on success)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory on success too")
	flag.BoolVar(&cfg.removals, "removals", true, "have node 0 remove a member now and then")
	kinds := flag.String("faults", strings.Join(faultKinds, ","), "fault kinds to draw from, comma-separated")
	flag.Parse()
	cfg.kinds = strings.Split(*kinds, ",")
	for _, k := range cfg.kinds {
		if !slices.Contains(faultKinds, k) {
			fmt.Fprintf(os.Stderr, "concord-chaos: -faults: unknown kind %q (known: %s)\n", k, strings.Join(faultKinds, ","))
			os.Exit(2)
		}
	}
	if cfg.nodes < 2 || cfg.nodes > 12 {
		fmt.Fprintln(os.Stderr, "concord-chaos: -nodes must be between 2 and 12")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg)
	switch {
	case errors.Is(err, errSkip):
		fmt.Println(err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "concord-chaos:", err)
		stop()
		os.Exit(1)
	}
}

// preflight says why this machine cannot run the chaos run, wrapping
// errSkip, or nil.
func preflight(prefix string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root (network namespaces, veth pairs and tmpfs mounts need it)", errSkip)
	}
	probe := prefix + "-probe"
	if err := ip("netns", "add", probe); err != nil {
		return fmt.Errorf("%w: no network namespaces here: %v", errSkip, err)
	}
	if err := ip("netns", "del", probe); err != nil {
		return fmt.Errorf("removing the probe namespace %s: %w", probe, err)
	}
	return nil
}

func (c config) convergeBound() time.Duration {
	if c.converge > 0 {
		return c.converge
	}
	return convergeWithin
}
