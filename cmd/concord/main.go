package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

// Exit codes (docs/cli.md).
const (
	exitOK       = 0
	exitError    = 1 // the node failed, or a local error (a file, the network)
	exitUsage    = 2
	exitNoDaemon = 3
)

// exitCodes are the codes of the daemon's refusals, by class: the same
// classes the local API answers as HTTP statuses.
var exitCodes = map[api.Class]int{
	api.Invalid:     4,
	api.NotFound:    5,
	api.Forbidden:   6,
	api.Conflict:    7,
	api.Unavailable: 8,
}

func main() { os.Exit(run(os.Args[1:])) }

// run executes one command line and returns its exit code.
func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "concord:", err)
	var usage usageError
	switch {
	case errors.As(err, &usage), isCobraUsage(err):
		return exitUsage
	case errors.Is(err, api.ErrNoDaemon):
		return exitNoDaemon
	}
	var refused *api.Error
	if errors.As(err, &refused) {
		if code, ok := exitCodes[refused.Class]; ok {
			return code
		}
	}
	return exitError
}

// usageError marks errors in how a command was called.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// globals are the flags every command shares.
type globals struct {
	home string
	json bool
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "concord",
		Short: "Share encrypted intelligence bulletins between agencies, peer to peer",
		Long: `Concord shares age-encrypted intelligence bulletins between the law-enforcement
agencies of Member States over libp2p, without a central hub.

Each agency runs one node (concord daemon). Analysts use the other commands,
which talk to the local daemon. The node's home is --home, else $CONCORD_HOME,
else ~/.concord.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.home, "home", "", "node home directory (default $CONCORD_HOME, else ~/.concord)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	root.AddGroup(&cobra.Group{ID: "node", Title: "Node commands:"})
	for _, c := range []*cobra.Command{
		newInitCmd(g), newDaemonCmd(g), newIDCmd(g), newStatusCmd(g), newPeersCmd(g), newConnectCmd(g), newDemoCmd(g), newBackupCmd(g), newRestoreCmd(g), newVersionCmd(g),
		newReindexCmd(g),
		newAuditCmd(g),
	} {
		c.GroupID = "node"
		root.AddCommand(c)
	}
	root.AddGroup(&cobra.Group{ID: "analyst", Title: "Analyst commands:"})
	for _, c := range []*cobra.Command{
		newCategoriesCmd(g), newTopicCmd(g), newPublishCmd(g), newReviseCmd(g), newRevokeCmd(g), newListCmd(g), newShowCmd(g), newWatchCmd(g),
		newWatchlistCmd(g), newAlertsCmd(g),
		newExportCmd(g), newImportCmd(g),
		newSearchCmd(g), newRelatedCmd(g),
		newEnvelopesCmd(g),
		newRequestCmd(g), newRequestsCmd(g), newAckCmd(g), newDeclineCmd(g), newReplyCmd(g),
	} {
		c.GroupID = "analyst"
		root.AddCommand(c)
	}
	return root
}

// exactArgs is cobra.ExactArgs with a usage error that names the command.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d: usage: %s", c.CommandPath(), n, len(args), c.UseLine())}
		}
		return nil
	}
}

// isCobraUsage recognises the usage errors cobra reports itself.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "if any flags in the group")
}
