package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/concordnet/concord/node"
)

// config holds every size and duration of a run.
type config struct {
	quick      bool
	out        string
	scenarios  []string
	cpuprofile string
	tmp        string
	debug      bool

	nodes      []int
	publishers int
	rate       float64
	msgs       int
	drain      time.Duration

	tpNodes int
	tpStart float64
	tpMax   float64
	tpStep  time.Duration
	tpFine  int

	missed, ingestWorkers int
	joinBulletins         int
	crypto4k, crypto256k  int

	rssBulletins, rssWorkers, rssTopics int
	rssCap                              int
	settle                              time.Duration

	interopBulletins int
	searchBulletins  int
	diskBulletins    int

	un unConfig
}

// groups are the names -scenarios accepts, one per kind of measurement.
var groups = []string{"latency", "throughput", "ingest", "catchup", "join", "crypto", "rss", "interop", "search", "disk", "un"}

// defaultGroups run unless -scenarios says otherwise: all but un, whose
// federation of 193 nodes takes longer than all the others together.
var defaultGroups = groups[:len(groups)-1]

// quickValues replace the defaults under -quick, for flags not given
// explicitly: small enough that CI runs the whole harness in under a
// minute, and only checks that it works.
var quickValues = map[string]string{
	"nodes": "5", "msgs": "40", "rate": "20", "drain": "5s",
	"tp-start": "50", "tp-max": "400", "tp-step": "1s", "tp-fine": "0",
	"missed": "300", "ingest-workers": "16", "join-bulletins": "200", "crypto-4k": "30", "crypto-256k": "5",
	"rss-bulletins": "2000", "settle": "1s", "interop-bulletins": "500",
	"search-bulletins": "2000",
	"disk-bulletins":   "50",
	"un-nodes":         "20", "un-topics": "8", "un-msgs": "20", "un-rate": "5", "un-missed": "100", "un-split-msgs": "5",
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	var nodes, scenarios string
	fs := flag.NewFlagSet("concord-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.quick, "quick", false, "small sizes: the whole run in under a minute (what CI runs)")
	fs.Func("budgets", "per-author budgets of the members: lifted (default) or default (a node's defaults, which cap one author's rate)", func(v string) error {
		switch v {
		case "lifted":
			memberLimits = liftedLimits
		case "default":
			memberLimits = node.DefaultLimits()
		default:
			return fmt.Errorf("-budgets %q: want lifted or default", v)
		}
		return nil
	})
	fs.StringVar(&c.out, "out", "", "write the JSON report to this file (default: print it after the table)")
	fs.StringVar(&scenarios, "scenarios", strings.Join(defaultGroups, ","), "comma-separated groups to run: "+strings.Join(groups, ", ")+" (un only when named)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of each measured phase (every in-process node) to PREFIX-<phase>.pprof")
	fs.StringVar(&c.tmp, "tmp", "", "scratch directory for homes and databases (default: a new one under $TMPDIR)")
	fs.BoolVar(&c.debug, "debug", false, "print the in-process daemons' logs to stderr")
	c.latencyFlags(fs, &nodes)
	c.throughputFlags(fs)
	fs.IntVar(&c.missed, "missed", 10000, "bulletins a stopped member misses, then catches up on by sync (catchup-10k) and ingests (ingest)")
	fs.IntVar(&c.joinBulletins, "join-bulletins", 1000, "bulletins a topic holds when a member joins it (join-1k)")
	fs.IntVar(&c.ingestWorkers, "ingest-workers", 64, "concurrent Ingest callers (group commit batches them)")
	fs.IntVar(&c.crypto4k, "crypto-4k", 300, "iterations of the 4 KiB crypto scenario")
	fs.IntVar(&c.crypto256k, "crypto-256k", 60, "iterations of the 256 KiB crypto scenario")
	c.rssFlags(fs)
	fs.IntVar(&c.interopBulletins, "interop-bulletins", 10000, "generated bulletins exported and imported in the interop scenarios")
	fs.IntVar(&c.searchBulletins, "search-bulletins", 100000, "generated bulletins (5 entities each) indexed and queried in the search scenarios")
	fs.IntVar(&c.diskBulletins, "disk-bulletins", 500, "bulletins stored in each disk scenario (bytes on disk per bulletin)")
	c.un.flags(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := applyQuick(fs, c.quick); err != nil {
		return c, err
	}
	return c, c.finish(nodes, scenarios)
}

// latencyFlags registers the sizes of the latency scenarios; nodes takes
// the network sizes, parsed by finish.
func (c *config) latencyFlags(fs *flag.FlagSet, nodes *string) {
	fs.StringVar(nodes, "nodes", "10,25,50", "network sizes of the latency scenarios (100 works, slowly)")
	fs.IntVar(&c.publishers, "publishers", 5, "members publishing in the latency scenarios (round robin)")
	fs.Float64Var(&c.rate, "rate", 5, "bulletins per second offered in the latency scenarios, all publishers together")
	fs.IntVar(&c.msgs, "msgs", 100, "bulletins per latency run")
	fs.DurationVar(&c.drain, "drain", 15*time.Second, "how long to wait for deliveries after the last publish")
}

// throughputFlags registers the search of the throughput scenario.
func (c *config) throughputFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.tpNodes, "tp-nodes", 5, "members of the throughput topic (all publish)")
	fs.Float64Var(&c.tpStart, "tp-start", 25, "first offered rate of the throughput search, per second")
	fs.Float64Var(&c.tpMax, "tp-max", 12800, "highest offered rate of the throughput search, per second")
	fs.DurationVar(&c.tpStep, "tp-step", 3*time.Second, "duration of each offered rate")
	fs.IntVar(&c.tpFine, "tp-fine", 2, "bisection steps between the last rate without loss and the first with")
}

// rssFlags registers the sizes of the memory (rss) scenarios.
func (c *config) rssFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.rssBulletins, "rss-bulletins", 100000, "bulletins stored in the rss-100k scenario")
	fs.IntVar(&c.rssWorkers, "rss-workers", 64, "concurrent publishers filling the daemon")
	fs.IntVar(&c.rssTopics, "rss-topics", 16, "topics the bulletins are spread over (publications on one topic are serialized)")
	fs.IntVar(&c.rssCap, "rss-cap", 0, "run the daemon of the rss scenarios in a memory cgroup of this many MiB, as systemd's MemoryMax= would, with GOMEMLIMIT at 3/4 of it (Linux, root; 0: no cap)")
	fs.DurationVar(&c.settle, "settle", 3*time.Second, "pause before reading a process's memory")
}

// applyQuick sets the quick values of the flags the user did not set.
func applyQuick(fs *flag.FlagSet, quick bool) error {
	if !quick {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range quickValues {
		if given[name] {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}

func (c *config) finish(nodes, scenarios string) error {
	for _, s := range strings.Split(nodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return fmt.Errorf("-nodes: %q is not a network size of at least 2", s)
		}
		c.nodes = append(c.nodes, n)
	}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(groups, s) {
			return fmt.Errorf("-scenarios: %q is not one of %s", s, strings.Join(groups, ", "))
		}
		c.scenarios = append(c.scenarios, s)
	}
	switch {
	case c.publishers < 1 || c.msgs < 1 || c.rate <= 0:
		return fmt.Errorf("-publishers, -msgs and -rate must be positive")
	case c.tpNodes < 2 || c.tpStart <= 0 || c.tpMax < c.tpStart:
		return fmt.Errorf("-tp-nodes must be at least 2 and -tp-start positive, at most -tp-max")
	case c.missed < 1 || c.ingestWorkers < 1 || c.joinBulletins < 1 || c.crypto4k < 1 || c.crypto256k < 1:
		return fmt.Errorf("-missed, -ingest-workers, -join-bulletins, -crypto-4k and -crypto-256k must be positive")
	case c.rssCap < 0:
		return fmt.Errorf("-rss-cap must be 0 (no cap) or a number of MiB")
	case c.rssBulletins < 1 || c.rssWorkers < 1 || c.rssTopics < 1:
		return fmt.Errorf("-rss-bulletins, -rss-workers and -rss-topics must be positive")
	case c.interopBulletins < 1:
		return fmt.Errorf("-interop-bulletins must be positive")
	case c.searchBulletins < 1:
		return fmt.Errorf("-search-bulletins must be positive")
	case c.diskBulletins < 1:
		return fmt.Errorf("-disk-bulletins must be positive")
	}
	return c.un.check()
}

func (c *config) runs(group string) bool { return slices.Contains(c.scenarios, group) }
