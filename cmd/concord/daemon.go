package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node"
)

func newDaemonCmd(g *globals) *cobra.Command {
	var level string
	c := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node until SIGINT, SIGTERM or SIGHUP",
		Long: `Run the node: the libp2p host (TCP and QUIC), GossipSub, the Badger store and
the local API socket. Logs go to stderr (structured, level from config.toml
or --log-level); under systemd, journald keeps them.

SIGINT, SIGTERM and SIGHUP all stop it cleanly (the socket is removed, exit
status 0). SIGHUP does not reopen logs: the daemon writes only to stderr, so
a log file is rotated by whoever opened it (see docs/operations.md). A
daemon started from a terminal stops with the terminal's session; run it
under systemd, or detached with setsid, to keep it running.

The start is refused when a listen address of network.listen is in use by
another program; an address that cannot be listened on for another reason
is a warning in the log.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			h, err := node.ResolveHome(g.home)
			if err != nil {
				return err
			}
			cfg, _, err := h.Load()
			if err != nil {
				return err
			}
			if level != "" {
				cfg.Log.Level = level
			}
			log, err := newLogger(cfg.Log)
			if err != nil {
				return usageError{err}
			}
			sigs := make(chan os.Signal, 1)
			// SIGHUP, a closed terminal or SSH session, stops cleanly too
			// instead of killing the process with its socket left behind.
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
			n, err := node.Start(h, log)
			if err != nil {
				return err
			}
			sig := <-sigs
			log.Info("stopping", "signal", sig.String())
			if err := n.Close(); err != nil {
				return fmt.Errorf("stopping: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	c.Flags().StringVar(&level, "log-level", "", "log level: debug, info, warn or error (overrides config.toml)")
	return c
}

func newLogger(cfg node.LogConfig) (*slog.Logger, error) {
	lvl, err := node.ParseLogLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}
