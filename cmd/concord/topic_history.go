package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// checkHistoryFlag refuses an unknown --history before asking the daemon.
func checkHistoryFlag(h string) error {
	if h != "" && !slices.Contains(protocol.Histories, h) {
		return usageError{fmt.Errorf("--history %q is not a history policy: use %s", h, strings.Join(protocol.Histories, ", "))}
	}
	return nil
}

func newTopicPolicyCmd(g *globals) *cobra.Command {
	var history string
	c := &cobra.Command{
		Use:   "policy TOPIC --history from-join|current-epoch|all",
		Short: "Change what a new member may read of a topic's past (admins only)",
		Long: `Set the topic's history policy, recorded in its log: what a member that joins
from now on may read of what was published before it joined. from-join:
nothing (its admission starts a new key epoch); current-epoch: the epoch
current when it joins (the default); all: every earlier epoch its inviter
holds the key of, wrapped to it in the entry that admits it. Members
already admitted keep what they could read. An invitation's --history
overrides the policy for its invitee.`,
		Example: `  concord topic policy "West Africa cocaine route" --history all`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if history == "" {
				return usageError{fmt.Errorf("topic policy needs --history: one of %s", strings.Join(protocol.Histories, ", "))}
			}
			if err := checkHistoryFlag(history); err != nil {
				return err
			}
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.SetPolicy(ctx, args[0], api.PolicyRequest{History: history})
			}, func(o api.LogChange) string {
				return fmt.Sprintf("topic %q now has history policy %s", o.Topic.Name, o.Topic.History)
			})
		},
	}
	c.Flags().StringVar(&history, "history", "", "from-join, current-epoch or all")
	return c
}
