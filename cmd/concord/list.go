package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

type listFlags struct {
	topic, category, originator, since string
	limit                              int
	all                                bool
}

func newListCmd(g *globals) *cobra.Command {
	var f listFlags
	c := &cobra.Command{
		Use:   "list [--topic T] [--category C] [--originator M] [--since TIME] [--limit N | --all]",
		Short: "List bulletins, newest first",
		Long: `List the bulletins this node holds, newest first: ID, version, creation time
(UTC), topic, TLP, originator and title. A bulletin restricted to an audience
that does not include this member shows "(restricted)" and its envelope ID;
a revoked one "(revoked: REASON)". Bulletins erased by retention are not
listed.

--since takes an RFC 3339 time, a date (from 00:00 UTC), or a duration back
from now (24h, 90m, 7d). --limit defaults to 50; --all lists everything.`,
		Example: `  concord list
  concord list --topic "West Africa cocaine route" --since 7d
  concord list --category drug-trafficking --all --json`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if f.all && c.Flags().Changed("limit") {
				return usageError{fmt.Errorf("--limit and --all cannot be used together: --all lists every matching bulletin")}
			}
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			client, err := g.client()
			if err != nil {
				return err
			}
			bs, err := client.List(c.Context(), q)
			if err != nil {
				return err
			}
			dir := newDirectory(client)
			return printList(g, bs, listHeader, func(b api.Bulletin) []any { return dir.row(c.Context(), b) })
		},
	}
	c.Flags().StringVar(&f.topic, "topic", "", "only this topic (ID, unique prefix or name)")
	c.Flags().StringVar(&f.category, "category", "", "only this crime category (see concord categories)")
	c.Flags().StringVar(&f.originator, "originator", "", "only bulletins by this member: member ID, unique prefix or country code")
	c.Flags().StringVar(&f.since, "since", "", "only bulletins created since: RFC 3339, YYYY-MM-DD, or a duration such as 24h or 7d")
	c.Flags().IntVar(&f.limit, "limit", 50, "list at most this many")
	c.Flags().BoolVar(&f.all, "all", false, "list every matching bulletin")
	return c
}

// query is the API query for the flags.
func (f *listFlags) query(now time.Time) (api.ListQuery, error) {
	q := api.ListQuery{Topic: f.topic, Category: f.category, Originator: f.originator, Limit: f.limit}
	if f.since != "" {
		t, err := parseSince(f.since, now)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	if f.all {
		q.Limit = 0
	}
	if q.Limit < 0 {
		return q, usageError{fmt.Errorf("--limit %d is negative: give a count, or --all", q.Limit)}
	}
	return q, nil
}

const listHeader = "ID\tVER\tCREATED\tTOPIC\tTLP\tORIGINATOR\tTITLE"

// directory names members for display, asking the daemon for a topic's
// members the first time it needs one of them: sealed bulletins carry
// only their author's member ID.
type directory struct {
	c       *api.Client
	byTopic map[string][]api.Member
}

func newDirectory(c *api.Client) *directory {
	return &directory{c: c, byTopic: map[string][]api.Member{}}
}

// member returns the member id of topic, refreshing the cache once when
// it is unknown (it may have joined since).
func (d *directory) member(ctx context.Context, topic, id string) (api.Member, bool) {
	for attempt := 0; attempt < 2; attempt++ {
		for _, m := range d.byTopic[topic] {
			if m.ID == id {
				return m, true
			}
		}
		if attempt == 0 {
			ms, err := d.c.Members(ctx, topic)
			if err != nil {
				return api.Member{}, false
			}
			d.byTopic[topic] = ms
		}
	}
	return api.Member{}, false
}

// name describes member id of topic as "COUNTRY Name", else by its ID.
func (d *directory) name(ctx context.Context, topic, id string) string {
	if m, ok := d.member(ctx, topic, id); ok {
		return m.Country + " " + m.Name
	}
	return "member " + id
}

// row is a bulletin's line in list and watch. A sealed bulletin has no
// creation time we may read: its receive time stands in; its ID is the
// envelope ID, of which 26 characters are a prefix that show accepts. A
// tombstone has no title: the reason it was erased stands in.
func (d *directory) row(ctx context.Context, b api.Bulletin) []any {
	switch {
	case b.Tombstone():
		note := "(expired)"
		if b.Revoked {
			note = "(revoked: " + b.RevocationReason + ")"
		}
		return []any{b.ID, versionCell(b), minuteUTC(b.Created), b.TopicName, "-",
			truncate(d.name(ctx, b.Topic, b.Author), 30), truncate(note, 50)}
	case b.Sealed || b.Content == nil:
		return []any{b.ID[:min(len(b.ID), 26)], "-", minuteUTC(b.Received), b.TopicName, "-",
			truncate(d.name(ctx, b.Topic, b.Author), 30), "(restricted)"}
	}
	o := b.Content.Originator
	return []any{b.ID, b.Version, minuteUTC(b.Created), b.TopicName, b.Content.TLP,
		truncate(o.Country+" "+o.Agency, 30), truncate(b.Content.Title, 50)}
}
