package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
)

func newTopicCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "topic",
		Short: "Create, list and join topics; list and invite members",
		Long: `A topic is a sharing channel for one crime category (see concord categories).
Its owner invites partners' member cards; each partner joins with the token.

Wherever a command takes TOPIC, give the topic ID, a unique prefix of it
(4 characters or more) or the topic's exact name.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %s: use create, list, members, invite, join, uninvite, remove, rotate, role, leave, log or policy (see `%s --help`)", args[0], c.CommandPath(), c.CommandPath())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newTopicCreateCmd(g), newTopicListCmd(g), newTopicMembersCmd(g),
		newTopicInviteCmd(g), newTopicJoinCmd(g), newTopicUninviteCmd(g), newTopicRemoveCmd(g),
		newTopicRotateCmd(g), newTopicRoleCmd(g), newTopicLeaveCmd(g),
		newTopicLogCmd(g), newTopicPolicyCmd(g))
	return c
}

func newTopicCreateCmd(g *globals) *cobra.Command {
	var (
		maxAge  uint32
		history string
	)
	c := &cobra.Command{
		Use:   "create CATEGORY NAME [--max-age DAYS] [--history from-join|current-epoch|all]",
		Short: "Create a topic, owned by this member",
		Long: `Create a topic in one crime category (see concord categories). This member
becomes its owner and only admin. --max-age records in the topic's policy
the maximum age, in days, of its bulletins (0: no limit); every member's
node applies it once retention is enforced (docs/cli.md). --history records
what a member that joins later may read of what was published before
(default current-epoch: the key epoch current when it joins; from-join:
nothing; all: every earlier epoch its inviter holds).`,
		Example: `  concord topic create drug-trafficking "West Africa cocaine route"
  concord topic create money-laundering "Trade-based laundering" --max-age 365`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("topic create takes a CATEGORY and a NAME, got %d argument(s); quote a name that has spaces: usage: %s", len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkHistoryFlag(history); err != nil {
				return err
			}
			t, err := call1(c.Context(), g, (*api.Client).CreateTopic, api.CreateTopicRequest{Category: args[0], Name: args[1], MaxAgeDays: maxAge, History: history})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, t)
			}
			fmt.Fprintf(stdout, "created topic %q (%s)\ntopic ID  %s\nnext: invite members with `concord topic invite %s --card FILE`\n",
				t.Name, t.Category, t.ID, shortID(t.ID))
			return nil
		},
	}
	c.Flags().Uint32Var(&maxAge, "max-age", 0, "erase bulletins older than this many days (0: no limit)")
	c.Flags().StringVar(&history, "history", "", "what a new member may read: from-join, current-epoch (default) or all")
	return c
}

func newTopicListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the topics this node belongs to",
		Long: `List this node's topics: ID prefix, category, name, this member's role, the
number of members, the number of connected GossipSub peers on the topic,
and the current key epoch.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			topics, err := call(c.Context(), g, (*api.Client).Topics)
			if err != nil {
				return err
			}
			return printList(g, topics, "ID\tCATEGORY\tNAME\tROLE\tMEMBERS\tPEERS\tEPOCH", func(t api.Topic) []any {
				return []any{shortID(t.ID), t.Category, t.Name, t.Role, t.Members, t.Peers, t.Epoch}
			})
		},
	}
}

func newTopicMembersCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "members TOPIC",
		Short:   "List the members of a topic",
		Example: `  concord topic members "West Africa cocaine route"`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			members, err := g.members(c, args[0])
			if err != nil {
				return err
			}
			return printList(g, members, "MEMBER\tNAME\tCOUNTRY\tROLE\tCONNECTED", func(m api.Member) []any { return []any{m.ID, m.Name, m.Country, m.Role, connected(m)} })
		},
	}
}

// members asks the daemon for the members of topic ref.
func (g *globals) members(c *cobra.Command, ref string) ([]api.Member, error) {
	return call1(c.Context(), g, (*api.Client).Members, ref)
}

func connected(m api.Member) string {
	switch {
	case m.Self:
		return "self"
	case m.Connected:
		return "yes"
	}
	return "no"
}

func newTopicInviteCmd(g *globals) *cobra.Command {
	var cardPath, expires, role, history string
	c := &cobra.Command{
		Use:   "invite TOPIC --card FILE [--expires 72h] [--role member|admin] [--history from-join|current-epoch|all]",
		Short: "Invite a partner's member card to a topic (admins only)",
		Long: `Issue an invitation for the member whose card is in FILE (the output of
concord id --card on the partner's node; "-" reads it from stdin). The
token, printed alone on stdout, only works for that member's node: send it
to the partner, who runs concord topic join TOKEN before it expires.
--history overrides the topic's history policy for this invitee alone (see
concord topic create); the add entry written when it joins records it.`,
		Example: `  concord topic invite "West Africa cocaine route" --card esp.card
  concord topic invite 3f9a --card - --expires 24h --role admin < nga.card`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			req, err := inviteRequest(cardPath, expires, role)
			if err != nil {
				return err
			}
			if err := checkHistoryFlag(history); err != nil {
				return err
			}
			req.History = history
			resp, err := call2(c.Context(), g, (*api.Client).Invite, args[0], req)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, resp)
			}
			fmt.Fprintln(stdout, resp.Token)
			fmt.Fprintf(stderr, "Invitation for member %s, valid for %s (until %s UTC), nonce %s.\nSend the token to the invitee, who runs: concord topic join TOKEN\nTo revoke it before use: concord topic uninvite %s %s\n",
				resp.Invitee, expires, resp.Expires.UTC().Format("2006-01-02 15:04"), resp.Nonce, shellQuote(args[0]), resp.Nonce)
			return nil
		},
	}
	c.Flags().StringVar(&cardPath, "card", "", `file holding the invitee's member card ("-" for stdin)`)
	c.Flags().StringVar(&expires, "expires", "72h", "how long the invitation stays valid (a duration such as 72h or 30m)")
	c.Flags().StringVar(&role, "role", "member", "role of the invitee: member or admin")
	c.Flags().StringVar(&history, "history", "", "override the topic's history policy for this invitee: from-join, current-epoch or all")
	return c
}

// inviteRequest checks the invite flags and reads the card.
func inviteRequest(cardPath, expires, role string) (api.InviteRequest, error) {
	var req api.InviteRequest
	if cardPath == "" {
		return req, usageError{fmt.Errorf("topic invite needs --card FILE: the invitee's card from `concord id --card` (or - to read it from stdin)")}
	}
	d, err := time.ParseDuration(expires)
	if err != nil || d <= 0 {
		return req, usageError{fmt.Errorf("--expires %q is not a positive duration such as 72h or 30m", expires)}
	}
	if d > crypto.MaxInvitationTTL {
		return req, usageError{fmt.Errorf("--expires %s is too long: an invitation is valid for at most %s (30 days); give a shorter duration",
			expires, strings.TrimSuffix(crypto.MaxInvitationTTL.String(), "0m0s"))}
	}
	if role != "member" && role != "admin" {
		return req, usageError{fmt.Errorf("--role %q is not a role: use member or admin", role)}
	}
	card, err := readInput(cardPath)
	if err != nil {
		return req, fmt.Errorf("reading the member card: %w", err)
	}
	if err := checkCard(card, cardPath); err != nil {
		return req, err
	}
	return api.InviteRequest{Card: string(card), Expires: expires, Role: role}, nil
}

// checkCard parses the card before the daemon does, to say in words what
// a card whose bytes no longer decode means: it was altered or damaged on
// the way (the daemon would answer with the decoder's own error).
func checkCard(card []byte, path string) error {
	_, err := crypto.ParseArmoredCard(card)
	if err != nil && strings.HasPrefix(err.Error(), "member card is malformed") {
		return fmt.Errorf("the member card in %s was altered or corrupted: its signed content no longer decodes (%v); ask its owner for a fresh copy (`concord id --card`), sent as a file rather than pasted", inputName(path), errors.Unwrap(err))
	}
	return err
}

func newTopicJoinCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "join TOKEN",
		Short: "Join a topic with an invitation token",
		Long: `Join a topic with the token a topic admin issued for this node's card
("-" reads the token from stdin). The node contacts the inviter's node,
proves it holds the invited keys and receives the topic's log and key.`,
		Example: `  concord topic join concord-invite-1.eyJ...
  concord topic join - < invitation.txt`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			token := args[0]
			if token == "-" {
				data, err := readInput("-")
				if err != nil {
					return fmt.Errorf("reading the token: %w", err)
				}
				token = string(data)
			}
			t, err := call1(c.Context(), g, (*api.Client).Join, strings.TrimSpace(token))
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, t)
			}
			fmt.Fprintf(stdout, "joined topic %q (%s) as %s; %d members\ntopic ID  %s\nnext: read its bulletins with `concord list --topic %s`\n",
				t.Name, t.Category, t.Role, t.Members, t.ID, shortID(t.ID))
			return nil
		},
	}
}

// shellQuote quotes s for a command line an operator can paste.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
