package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

func newWatchlistCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "watchlist",
		Short: "Keep entities and words to be alerted about (local to this node)",
		Long: `A watchlist names what an analyst wants to hear about: an entity as
TYPE:VALUE, matched on its canonical form as the search index holds it
(phone:+234 801 234 5678 also matches 0801 234 5678 in a Nigerian bulletin),
or plain words that must all appear in a bulletin. When a bulletin this node
can read arrives or is revised and matches an entry, the node records an
alert (see concord alerts, concord watch --alerts).

The watchlist stays on this node: nothing of it is ever sent to partners.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newWatchlistAddCmd(g), newWatchlistListCmd(g), newWatchlistRemoveCmd(g))
	return c
}

func newWatchlistAddCmd(g *globals) *cobra.Command {
	var note string
	c := &cobra.Command{
		Use:   `add TYPE:VALUE|"WORDS" [--note TEXT]`,
		Short: "Add a watchlist entry",
		Long: `Add an entity (TYPE:VALUE, e.g. phone:+234 801 234 5678, iban:..., vessel:IMO 9074729)
or words (all must appear in a bulletin, in any case and with or without
accents). A phone number without + is read as one of this node's country.
Prints the new entry's ID.`,
		Example: `  concord watchlist add 'phone:0801 234 5678' --note 'case 2026/114'
  concord watchlist add '"MV Aurora" Lagos'`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := call1(c.Context(), g, (*api.Client).AddWatch, api.WatchRequest{Term: args[0], Note: note})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, e)
			}
			fmt.Fprintln(stdout, e.ID)
			fmt.Fprintf(stderr, "watching %s %s%s\n", e.Kind, e.Match, flaggedNote(e.Flagged))
			return nil
		},
	}
	c.Flags().StringVar(&note, "note", "", "a note kept with the entry and copied into its alerts")
	return c
}

func flaggedNote(flagged bool) string {
	if flagged {
		return " (the value fails its type's check: matched as written)"
	}
	return ""
}

func newWatchlistListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the watchlist",
		Long:  "List the watchlist entries, oldest first: ID, what is matched (entity or words), the term as given and the note.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			es, err := call(c.Context(), g, (*api.Client).Watchlist)
			if err != nil {
				return err
			}
			return printList(g, es, "ID\tADDED\tKIND\tMATCH\tNOTE", func(e api.WatchEntry) []any {
				return []any{e.ID, minuteUTC(e.Created), e.Kind, e.Match + flaggedMark(e.Flagged), e.Note}
			})
		},
	}
}

func flaggedMark(flagged bool) string {
	if flagged {
		return " (!)"
	}
	return ""
}

func newWatchlistRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a watchlist entry (its alerts stay)",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			client, err := g.client()
			if err != nil {
				return err
			}
			if err := client.RemoveWatch(c.Context(), args[0]); err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, map[string]string{"removed": args[0]})
			}
			fmt.Fprintf(stdout, "removed watchlist entry %s\n", args[0])
			return nil
		},
	}
}

func newAlertsCmd(g *globals) *cobra.Command {
	var since string
	var limit int
	c := &cobra.Command{
		Use:   "alerts [--since TIME] [--limit N]",
		Short: "List the alerts this node raised, oldest first",
		Long: `List the alerts this node raised: a bulletin it can read arrived or was
revised and either matched a watchlist entry (KIND watchlist) or shares an
entity with bulletins of other originators held before it (KIND
correlation; entities above [search] common_threshold or in [search]
exclude are left out). Each line gives when, the kind, the bulletin and
its originator, the matched term and the other bulletins. An alert stays
when its bulletin is later revoked or erased: it is then marked so.

--since takes an RFC 3339 time, a date, or a duration back from now (24h, 7d).
Alerts are local to this node; concord watch --alerts streams new ones.`,
		Example: `  concord alerts --since 24h
  concord alerts --json | jq -r '.[] | .bulletin.id'`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			q, err := alertQuery(since, limit, time.Now())
			if err != nil {
				return err
			}
			as, err := call1(c.Context(), g, (*api.Client).Alerts, q)
			if err != nil {
				return err
			}
			return printList(g, as, alertHeader, func(a api.Alert) []any { return alertRow(a) })
		},
	}
	c.Flags().StringVar(&since, "since", "", "only alerts raised since: RFC 3339, YYYY-MM-DD, or a duration such as 24h or 7d")
	c.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	return c
}

func alertQuery(since string, limit int, now time.Time) (api.AlertQuery, error) {
	q := api.AlertQuery{Limit: limit}
	if since != "" {
		t, err := parseSince(since, now)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	if limit < 0 {
		return q, usageError{fmt.Errorf("--limit %d is negative: give a count, or 0 for all", limit)}
	}
	return q, nil
}

const alertHeader = "TIME\tKIND\tBULLETIN\tORIGINATOR\tTERM\tOTHERS"

func alertRow(a api.Alert) []any {
	others := make([]string, len(a.Others))
	for i, o := range a.Others {
		others[i] = refCell(o) + " " + o.Country
	}
	cell := strings.Join(others, ", ")
	if a.OtherTotal > len(a.Others) {
		cell += fmt.Sprintf(" (%d in all)", a.OtherTotal)
	}
	return []any{minuteUTC(a.Time), a.Kind, refCell(a.Bulletin), strings.TrimSpace(a.Bulletin.Country + " " + a.Bulletin.Agency), a.Term, cell}
}

// refCell is a bulletin's ID, marked when its content is gone.
func refCell(r api.AlertRef) string {
	switch {
	case r.Revoked:
		return r.ID + " (revoked)"
	case r.Expired:
		return r.ID + " (expired)"
	}
	return r.ID
}

// watchAlerts streams alerts: each new one until interrupted.
func (g *globals) watchAlerts(ctx context.Context, topicID string) error {
	stream, err := call1(ctx, g, (*api.Client).WatchAlerts, api.AlertQuery{})
	if err != nil {
		return err
	}
	defer stream.Close()
	fmt.Fprintln(stderr, "watching alerts; press Ctrl-C to stop")
	return g.printAlertStream(ctx, stream, topicID)
}

func (g *globals) printAlertStream(ctx context.Context, stream *api.Stream[api.Alert], topicID string) error {
	if !g.json {
		fmt.Fprintln(stdout, strings.ReplaceAll(alertHeader, "\t", "  "))
	}
	return eachStreamedOf(ctx, stream, "alerts", func(a api.Alert) error {
		if topicID != "" && a.Bulletin.Topic != topicID {
			return nil
		}
		if g.json {
			return writeJSONLine(stdout, a)
		}
		cells := alertRow(a)
		line := make([]string, len(cells))
		for i, c := range cells {
			line[i] = fmt.Sprint(c)
		}
		_, err := fmt.Fprintln(stdout, strings.TrimRight(strings.Join(line, "  "), " "))
		return err
	})
}
