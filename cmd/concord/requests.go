package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

func newRequestCmd(g *globals) *cobra.Command {
	var f publishFlags
	var due, priority string
	c := &cobra.Command{
		Use:   "request TOPIC [FILE.md] --title TEXT --to MEMBER... --due 48h|DATE [flags]",
		Short: "Ask members of a topic for information, with a deadline",
		Long: `Publish a request for information on TOPIC: a bulletin addressed to the
members named by --to (member IDs, unique prefixes or country codes), sealed
to them and to this member alone. Prints the request's ID.

Each addressee's node sends a delivered receipt when it stores the request;
its analysts acknowledge (concord ack), decline with a reason (concord
decline) or answer (concord reply). The receipts are sealed to this member
alone: addressees do not learn each other's answers. concord requests
--outgoing shows where each addressee stands; a request still open at its
due time raises an overdue alert (concord alerts).

--due is a duration from now (48h, 90m, 2d), a date (00:00 UTC) or an RFC
3339 time; in FILE.md, the front matter's request: {due, priority, to}
gives them, due as a date or time. The other flags are publish's.`,
		Example: `  concord request "West Africa cocaine route" --title "Owner of MV Aurora?" \
      --body-file question.md --to NGA --to BRA --due 48h --priority urgent
  concord request 3f9a question.md`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("request takes a TOPIC and an optional FILE.md, got %d argument(s): usage: %s", len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			to := f.to
			f.to = nil // addressees, not an audience
			d, err := f.draft(c.Flags(), args[1:], nil)
			if err != nil {
				return err
			}
			if d.Request, err = requestBlock(c, d.Request, to, due, priority, time.Now()); err != nil {
				return err
			}
			return g.printPublished(call1(c.Context(), g, (*api.Client).CreateRequest, api.PublishRequest{Topic: args[0], Draft: *d}))
		},
	}
	f.register(c.Flags())
	c.Flags().Lookup("to").Usage = "address the request to a member: ID, unique prefix or country code (repeatable; required)"
	c.Flags().StringVar(&due, "due", "", "when the answers are due: a duration from now (48h, 2d), a date (00:00 UTC) or an RFC 3339 time (required)")
	c.Flags().StringVar(&priority, "priority", "", "routine, urgent or immediate (default routine)")
	return c
}

// requestBlock merges the flags into the file's request block, if any.
func requestBlock(c *cobra.Command, r *protocol.Request, to []string, due, priority string, now time.Time) (*protocol.Request, error) {
	if r == nil {
		r = &protocol.Request{}
	}
	r.To = append(r.To, to...)
	if len(r.To) == 0 {
		return nil, usageError{fmt.Errorf("a request needs addressees: give --to MEMBER (repeatable), or request.to in the front matter")}
	}
	if c.Flags().Changed("due") {
		t, err := parseDue(due, now)
		if err != nil {
			return nil, err
		}
		r.Due = t
	}
	if r.Due.IsZero() {
		return nil, usageError{fmt.Errorf("a request needs a due time: give --due 48h, --due 2026-12-31 or request.due in the front matter")}
	}
	if c.Flags().Changed("priority") {
		r.Priority = strings.ToLower(priority)
	}
	if r.Priority == "" {
		r.Priority = protocol.PriorityRoutine
	}
	return r, nil
}

// parseDue reads --due: a duration ahead of now (48h, 90m, 2d), a date
// (00:00 UTC) or an RFC 3339 time.
func parseDue(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, n).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d).UTC(), nil
	}
	return time.Time{}, usageError{fmt.Errorf("--due %q is not a duration from now (48h, 90m, 2d), a date (2026-12-31) or an RFC 3339 time (2026-12-31T18:00:00Z)", s)}
}

func newRequestsCmd(g *globals) *cobra.Command {
	var q api.RequestQuery
	c := &cobra.Command{
		Use:   "requests [--incoming|--outgoing] [--open|--overdue]",
		Short: "List requests for information made and received, with each addressee's state",
		Long: `List the requests this member made (outgoing) and was sent (incoming),
earliest due first: due time, and for each addressee its state (pending,
delivered, acknowledged, declined, answered) and when it was reported. An
incoming request shows this member's own state only: addressees do not learn
each other's answers.

--open keeps the requests some addressee has neither answered nor declined;
--overdue those of them past their due time (each also raised one alert:
concord alerts).`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if q.Incoming && q.Outgoing {
				return usageError{fmt.Errorf("--incoming and --outgoing exclude each other: give neither for both")}
			}
			rs, err := call1(c.Context(), g, (*api.Client).Requests, q)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, rs)
			}
			printRequests(rs)
			return nil
		},
	}
	c.Flags().BoolVar(&q.Incoming, "incoming", false, "only requests addressed to this member")
	c.Flags().BoolVar(&q.Outgoing, "outgoing", false, "only requests this member made")
	c.Flags().BoolVar(&q.Open, "open", false, "only requests some addressee has neither answered nor declined")
	c.Flags().BoolVar(&q.Overdue, "overdue", false, "only open requests past their due time")
	return c
}

func printRequests(rs []api.Request) {
	if len(rs) == 0 {
		fmt.Fprintln(stderr, "no requests")
		return
	}
	var rows [][]any
	for _, r := range rs {
		due := minuteUTC(r.Due)
		if r.Overdue {
			due += " OVERDUE"
		}
		for i, a := range r.Addressees {
			state := a.State
			if a.At != nil {
				state += " " + minuteUTC(*a.At)
			}
			if a.Reason != "" {
				state += fmt.Sprintf(" (%s)", truncate(a.Reason, 60))
			}
			if a.Answer != "" {
				state += " answer " + a.Answer
			}
			who := a.Country
			if who == "" {
				who = shortID(a.Member)
			}
			if i == 0 {
				rows = append(rows, []any{r.ID, r.Direction, r.Priority, due, truncate(r.Title, 40), who, state})
			} else {
				rows = append(rows, []any{"", "", "", "", "", who, state})
			}
		}
	}
	table(stdout, "ID\tDIRECTION\tPRIORITY\tDUE\tTITLE\tADDRESSEE\tSTATE", rows)
}

func newAckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge a request addressed to this member",
		Long: `Tell the requester that this member took up request ID (the ID or a unique
prefix): an acknowledged receipt, sealed to the requester alone. Once per
request.`,
		Example: `  concord ack 7q3c`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := call1(c.Context(), g, (*api.Client).Ack, args[0])
			return printReceipt(g, r, err)
		},
	}
}

func newDeclineCmd(g *globals) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "decline ID --reason TEXT",
		Short: "Decline a request addressed to this member, saying why",
		Long: `Tell the requester that this member will not answer request ID (the ID or a
unique prefix), and why: a declined receipt, sealed to the requester alone,
so other addressees do not read the reason. Once per request.`,
		Example: `  concord decline 7q3c --reason "Outside our jurisdiction; ask the Federal Police"`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageError{fmt.Errorf("decline needs --reason TEXT: the requester reads why")}
			}
			r, err := call2(c.Context(), g, (*api.Client).Decline, args[0], api.DeclineRequest{Reason: reason})
			return printReceipt(g, r, err)
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why (required; only the requester reads it)")
	return c
}

func printReceipt(g *globals, r api.Receipt, err error) error {
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "%s %s\n", r.Request, r.State)
	return nil
}

func newReplyCmd(g *globals) *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "reply ID [FILE.md] [--title TEXT] [--body-file F] [flags]",
		Short: "Answer a request addressed to this member",
		Long: `Publish the answer to request ID (the ID or a unique prefix): a bulletin on
the request's topic whose references.in_reply_to names the request, sealed
to the requester (and to the members --to adds). The requester's node marks
this member answered when it stores it. Prints the answer's ID.

The answer comes from flags or FILE.md, as for publish; its title defaults
to "Re: " and the request's title.`,
		Example: `  concord reply 7q3c answer.md
  concord reply 7q3c --title "MV Aurora: owner identified" --body-file answer.md --tlp RED`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("reply takes a request ID and an optional FILE.md, got %d argument(s): usage: %s", len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("title") && len(args) == 1 {
				req, err := call1(c.Context(), g, (*api.Client).Bulletin, args[0])
				if err != nil {
					return err
				}
				if req.Content != nil {
					f.title = "Re: " + req.Content.Title
					for len(f.title) > protocol.MaxTitleLen {
						f.title = truncate(f.title, len([]rune(f.title))-1)
					}
				}
			}
			d, err := f.draft(c.Flags(), args[1:], nil)
			if err != nil {
				return err
			}
			return g.printPublished(call2(c.Context(), g, (*api.Client).Reply, args[0], api.ReplyRequest{Draft: *d}))
		},
	}
	f.register(c.Flags())
	c.Flags().Lookup("to").Usage = "also seal the answer to a member besides the requester: ID, unique prefix or country code (repeatable)"
	return c
}

// printRequestBlock writes what makes a bulletin a request, if it is one.
func printRequestBlock(ctx context.Context, w io.Writer, dir *directory, b api.Bulletin) {
	r := b.Content.Request
	if r == nil {
		return
	}
	fmt.Fprintf(w, "\nRequest for information, %s, due %s, to %s (see concord requests)\n",
		r.Priority, longUTC(r.Due), audience(ctx, dir, b.Topic, r.To))
}
