package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild(os.Args[1:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h: the usage is printed, and asking for it is not a failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "concord-bench:", err)
		os.Exit(1)
	}
}

// execute parses args, runs the selected scenarios and writes the report.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	rep, err := run(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	rep.writeMarkdown(stdout)
	if cfg.out == "" {
		fmt.Fprintln(stdout)
		return rep.writeJSONTo(stdout)
	}
	return rep.writeJSON(cfg.out)
}

// bench is one run in progress.
type bench struct {
	cfg     config
	rep     *Report
	dir     string       // scratch space, removed at the end
	nodeLog *slog.Logger // the in-process daemons' logs
	log     io.Writer    // progress lines
	start   time.Time
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// scenario runs the measurements of one or more groups.
type scenario struct {
	groups []string
	run    func(context.Context, *bench) error
}

var scenarios = []scenario{
	{[]string{"latency"}, benchLatency},
	{[]string{"throughput"}, benchThroughput},
	{[]string{"ingest", "catchup"}, benchMissed}, // one setup for both
	{[]string{"join"}, benchJoin},
	{[]string{"crypto"}, benchCrypto},
	{[]string{"rss"}, benchRSS},
	{[]string{"interop"}, benchInterop},
	{[]string{"search"}, benchSearch},
	{[]string{"disk"}, benchDisk},
	{[]string{"un"}, benchUN},
}

func run(ctx context.Context, cfg config, log io.Writer) (*Report, error) {
	b := &bench{cfg: cfg, rep: newReport(), log: log, start: time.Now(),
		nodeLog: slog.New(slog.DiscardHandler)}
	if cfg.debug {
		b.nodeLog = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var err error
	if b.dir, err = scratchDir(cfg.tmp); err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.dir)
	for _, s := range scenarios {
		if !slices.ContainsFunc(s.groups, cfg.runs) {
			continue
		}
		if err := s.run(ctx, b); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(s.groups, "/"), err)
		}
	}
	b.progress("done")
	return b.rep, nil
}

func scratchDir(parent string) (string, error) {
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return "", err
		}
	}
	// Short: Unix socket paths inside the homes must stay under 108 bytes.
	return os.MkdirTemp(parent, "cb-")
}

// profile runs fn, under a CPU profile written to <-cpuprofile>-<name>.pprof
// when -cpuprofile is set. Only measured phases are profiled, never the
// setup of a network, so that the profile shows where the measured time
// goes.
func (b *bench) profile(name string, fn func()) {
	if b.cfg.cpuprofile == "" {
		fn()
		return
	}
	path := b.cfg.cpuprofile + "-" + name + ".pprof"
	f, err := os.Create(path)
	if err != nil {
		b.progress("  not profiling %s: %v", name, err)
		fn()
		return
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		b.progress("  not profiling %s: %v", name, err)
		fn()
		return
	}
	fn()
	pprof.StopCPUProfile()
	b.progress("  CPU profile: %s", path)
}
