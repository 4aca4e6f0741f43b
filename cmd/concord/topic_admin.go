package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

// logChanger sends one membership command.
type logChanger func(c *api.Client, ctx context.Context) (api.LogChange, error)

// changeLog sends a membership command and prints its outcome.
func (g *globals) changeLog(c *cobra.Command, change logChanger, done func(api.LogChange) string) error {
	out, err := call(c.Context(), g, change)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(stdout, out)
	}
	fmt.Fprintln(stdout, done(out))
	return nil
}

func newTopicUninviteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "uninvite TOPIC NONCE",
		Short: "Revoke an invitation before it is used (admins)",
		Long: `Revoke an invitation: its token can no longer be used by anyone. NONCE is
the hex nonce that topic invite printed (also in its --json output).`,
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.Uninvite(ctx, args[0], api.UninviteRequest{Nonce: args[1]})
			}, func(o api.LogChange) string {
				return fmt.Sprintf("invitation %s to %q revoked", args[1], o.Topic.Name)
			})
		},
	}
}

func newTopicRemoveCmd(g *globals) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "remove TOPIC MEMBER [--reason TEXT]",
		Short: "Remove a member and rotate the topic's key (admins)",
		Long: `Remove a member from a topic. The removal starts a new epoch whose key is
wrapped to the remaining members only: the removed member keeps what it
could already read and reads nothing published after. Its node's new
envelopes are rejected by every member. MEMBER is a member ID, a unique
prefix, or the country code of exactly one member.`,
		Example: `  concord topic remove "West Africa cocaine route" NGA --reason "suspended pending review"`,
		Args:    exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.Remove(ctx, args[0], api.RemoveRequest{Member: args[1], Reason: reason})
			}, func(o api.LogChange) string {
				return fmt.Sprintf("removed %s from %q; the topic is now at epoch %d with %d members", o.Member, o.Topic.Name, o.Topic.Epoch, o.Topic.Members)
			})
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "reason recorded in the topic log")
	return c
}

func newTopicRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate TOPIC",
		Short: "Start a new epoch with a fresh key (admins)",
		Long: `Rotate the topic's key: a new epoch starts, its key wrapped to every current
member. Use it after a suspected key compromise, or periodically.`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.Rotate(ctx, args[0])
			}, func(o api.LogChange) string {
				return fmt.Sprintf("topic %q is now at epoch %d", o.Topic.Name, o.Topic.Epoch)
			})
		},
	}
}

func newTopicRoleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "role TOPIC MEMBER admin|member",
		Short: "Grant or withdraw the admin role (owner only)",
		Long: `Admins may invite, remove members and rotate the key. Only the topic's
owner grants or withdraws the role.`,
		Example: `  concord topic role "West Africa cocaine route" BRA admin`,
		Args:    exactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			if args[2] != "admin" && args[2] != "member" {
				return usageError{fmt.Errorf("role %q is not admin or member", args[2])}
			}
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.SetRole(ctx, args[0], api.RoleRequest{Member: args[1], Role: args[2]})
			}, func(o api.LogChange) string {
				return fmt.Sprintf("%s is now %s of %q", o.Member, args[2], o.Topic.Name)
			})
		},
	}
}

func newTopicLeaveCmd(g *globals) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "leave TOPIC [--reason TEXT]",
		Short: "Leave a topic; its key rotates to the remaining members",
		Long: `Leave a topic of this member's own accord. The log records it and a new
epoch starts for the remaining members. Bulletins already held stay
readable on this node. The owner cannot leave.`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return g.changeLog(c, func(cl *api.Client, ctx context.Context) (api.LogChange, error) {
				return cl.Leave(ctx, args[0], api.LeaveRequest{Reason: reason})
			}, func(o api.LogChange) string {
				return fmt.Sprintf("left %q; its remaining members are at epoch %d", o.Topic.Name, o.Topic.Epoch)
			})
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "reason recorded in the topic log")
	return c
}
