package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

func newSearchCmd(g *globals) *cobra.Command {
	var f listFlags
	c := &cobra.Command{
		Use:   "search QUERY [--topic T] [--category C] [--originator M] [--since TIME] [--limit N]",
		Short: "Search the bulletins this node can read",
		Long: `Search the title, summary, body and entities of every bulletin this node can
read, in every topic. All terms must match:

  word          a word, in any case and with or without accents
  "a phrase"    these words, one after the other
  pref*         any word starting with pref (2 letters or more)
  TYPE:VALUE    an entity, matched on its normalised form: phone:+234 801 234 5678
                finds +2348012345678 and 0801 234 5678 written in Nigeria; quote
                a value with words in it: person:"Juan Perez"

Bulletins are listed best match first, then newest, with list's columns and
an excerpt around the first match. Restricted bulletins this member may not
read, revoked and expired ones are never found. The filters are list's.`,
		Example: `  concord search 'phone:+234 801 234 5678'
  concord search '"MV Aurora" crew' --since 30d
  concord search cocain* --category drug-trafficking --json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("search needs a QUERY: usage: %s", c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if f.limit < 0 {
				return usageError{fmt.Errorf("--limit %d is negative: give a count, or 0 for all", f.limit)}
			}
			filter, err := f.query(time.Now()) // list's filters
			if err != nil {
				return err
			}
			client, err := g.client()
			if err != nil {
				return err
			}
			hits, err := client.Search(c.Context(), api.SearchQuery{ListQuery: filter, Q: strings.Join(args, " ")})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, hits)
			}
			dir := newDirectory(client)
			rows := make([][]any, len(hits))
			for i, h := range hits {
				rows[i] = append(dir.row(c.Context(), h.Bulletin), truncate(h.Excerpt, 60))
			}
			if len(rows) == 0 {
				fmt.Fprintln(stderr, "no bulletin matches")
				return nil
			}
			table(stdout, listHeader+"\tEXCERPT", rows)
			return nil
		},
	}
	c.Flags().StringVar(&f.topic, "topic", "", "only this topic (ID, unique prefix or name)")
	c.Flags().StringVar(&f.category, "category", "", "only this crime category (see concord categories)")
	c.Flags().StringVar(&f.originator, "originator", "", "only bulletins by this member: member ID, unique prefix or country code")
	c.Flags().StringVar(&f.since, "since", "", "only bulletins created since: RFC 3339, YYYY-MM-DD, or a duration such as 24h or 7d")
	c.Flags().IntVar(&f.limit, "limit", 50, "show at most this many (0: all)")
	return c
}

func newRelatedCmd(g *globals) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "related ID [--limit N]",
		Short: "List the bulletins sharing an entity with a bulletin",
		Long: `List every bulletin this node can read, in any topic, that shares a normalised
entity with bulletin ID (the same phone number written differently, the same
vessel by IMO number, the same person with names in another order), grouped by
entity, newest first, with topic and originator.

An entity held by more bulletins than [search] common_threshold is counted,
not listed; entities in [search] exclude are left out (see the config).`,
		Example: `  concord related 7q3c
  concord related 7q3c --json`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if limit < 0 {
				return usageError{fmt.Errorf("--limit %d is negative: give a count, or 0 for all", limit)}
			}
			rel, err := g.related(c.Context(), args[0], limit)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, rel)
			}
			if len(rel.Groups) == 0 {
				fmt.Fprintf(stderr, "no other bulletin shares an entity with %s\n", rel.ID)
				return nil
			}
			printRelatedGroups(stdout, rel.Groups)
			return nil
		},
	}
	c.Flags().IntVar(&limit, "limit", 50, "list at most this many bulletins per entity (0: all)")
	return c
}

// related asks the daemon for the bulletins related to id.
func (g *globals) related(ctx context.Context, id string, limit int) (api.Related, error) {
	c, err := g.client()
	if err != nil {
		return api.Related{}, err
	}
	return c.Related(ctx, id, limit)
}

// printRelatedGroups writes each shared entity, then its bulletins.
func printRelatedGroups(w io.Writer, groups []api.RelatedGroup) {
	var rows [][]any
	for _, grp := range groups {
		if grp.Common {
			rows = append(rows, []any{entityCell(grp), "-", "-", "-", "-", fmt.Sprintf("(common: %d bulletins)", grp.Total)})
			continue
		}
		for _, b := range grp.Bulletins {
			rows = append(rows, []any{entityCell(grp), b.ID, minuteUTC(b.Created), b.TopicName,
				truncate(b.Originator.Country+" "+b.Originator.Agency, 30), truncate(b.Title, 50)})
		}
		if more := grp.Total - len(grp.Bulletins); more > 0 {
			rows = append(rows, []any{entityCell(grp), "-", "-", "-", "-", fmt.Sprintf("(and %d more)", more)})
		}
	}
	table(w, "ENTITY\tID\tCREATED\tTOPIC\tORIGINATOR\tTITLE", rows)
}

// entityCell is a shared entity as TYPE:VALUE, marked when its value
// failed its type's check.
func entityCell(grp api.RelatedGroup) string {
	if grp.Flagged {
		return grp.Entity + " (unchecked)"
	}
	return grp.Entity
}

// printRelatedSummary is show's Related table: each shared entity, how
// many other bulletins hold it, and the newest few.
func printRelatedSummary(w io.Writer, groups []api.RelatedGroup) {
	if len(groups) == 0 {
		return
	}
	rows := make([][]any, len(groups))
	for i, grp := range groups {
		newest := "(common)"
		if !grp.Common {
			ids := make([]string, len(grp.Bulletins))
			for j, b := range grp.Bulletins {
				ids[j] = b.ID + " " + b.Originator.Country
			}
			newest = strings.Join(ids, ", ")
			if len(grp.Bulletins) < grp.Total {
				newest += ", …"
			}
		}
		rows[i] = []any{entityCell(grp), grp.Total, newest}
	}
	fmt.Fprintln(w, "\nRelated:")
	table(w, "ENTITY\tOTHERS\tNEWEST", rows)
}

func newReindexCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search and entity indexes from the stored bulletins",
		Long: `Rebuild the full-text and entity indexes from the bulletins this node holds.
The daemon keeps them up to date by itself, and rebuilds them when a new
version changes their format; run this after restoring an old backup or if a
search seems to miss bulletins. Progress goes to stderr; the daemon goes on
serving meanwhile.`,
		Example: `  concord reindex`,
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			progress, err := call(c.Context(), g, (*api.Client).Reindex)
			if err != nil {
				return err
			}
			defer progress.Close()
			last, err := readReindex(progress)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, last)
			}
			fmt.Fprintf(stdout, "reindexed %d bulletins in %s\n", last.Done, last.Elapsed)
			return nil
		},
	}
}

// readReindex prints progress lines on stderr and returns the last one.
func readReindex(progress *api.Stream[api.ReindexProgress]) (api.ReindexProgress, error) {
	for {
		p, err := progress.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return p, errors.New("the daemon ended the reindex before it finished (was it stopped?); run concord reindex again")
			}
			return p, fmt.Errorf("reading the reindex progress: %w", err)
		}
		switch {
		case p.Error != "":
			return p, errors.New(p.Error)
		case p.Finished:
			return p, nil
		}
		fmt.Fprintf(stderr, "reindexing: %d of %d bulletins\n", p.Done, p.Total)
	}
}
