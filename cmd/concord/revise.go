package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/concordnet/concord/node/api"
)

func newReviseCmd(g *globals) *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "revise ID [FILE.md] [flags]",
		Short: "Publish a new version of one of your bulletins",
		Long: `Publish the next version of bulletin ID (the ID or a unique prefix), which
this member must have originated. Every member then holds the new version,
and show lists the bulletin's history. Prints the ID and the new version.

Without FILE.md, the new version starts from the current one and the flags
change what they name. With FILE.md (as show --markdown prints it), the file
is the new version: what it leaves out is removed, except the fields every
version has (title, language, tlp, handling, reliabilities, audience), which
keep their current values. The flags are those of publish; the repeatable
ones (--entity, --attach, --reference) add to the lists. A revision keeps
the bulletin's audience: publish a new bulletin for another one.`,
		Example: `  concord revise 7q3c --tlp AMBER+STRICT --valid-until 2026-12-31
  concord revise 7q3c --entity phone=+22890000001
  concord show 7q3c --markdown > report.md && concord show 7q3c --save-attachments .
  $EDITOR report.md && concord revise 7q3c report.md`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("revise takes an ID and an optional FILE.md, got %d argument(s): usage: %s", len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			client, err := g.client()
			if err != nil {
				return err
			}
			cur, err := readableBulletin(c.Context(), client, args[0], "revise")
			if err != nil {
				return err
			}
			d, err := f.draft(c.Flags(), args[1:], cur.Protocol().Draft())
			if err != nil {
				return err
			}
			resp, err := client.Revise(c.Context(), cur.ID, api.ReviseRequest{Draft: *d})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, resp)
			}
			fmt.Fprintf(stdout, "%s version %d\n", resp.ID, resp.Version)
			return nil
		},
	}
	f.register(c.Flags())
	keepCurrentDefaults(c.Flags())
	return c
}

// keepCurrentDefaults hides publish's defaults from revise's help: an
// unset field keeps the current version's value.
func keepCurrentDefaults(fs *pflag.FlagSet) {
	for _, name := range []string{"tlp", "handling", "source-reliability", "info-reliability", "language"} {
		fs.Lookup(name).DefValue = ""
	}
}

// readableBulletin fetches bulletin ref whole, refusing one whose content
// this node does not hold, for what (revise) to start from.
func readableBulletin(ctx context.Context, c *api.Client, ref, what string) (api.Bulletin, error) {
	b, err := c.Bulletin(ctx, ref)
	if err != nil {
		return b, err
	}
	switch {
	case b.Revoked:
		return b, api.Errorf(api.Conflict, "bulletin %s was revoked (%s): a revoked bulletin cannot be revised; publish a new one", b.ID, b.RevocationReason)
	case b.Expired:
		return b, api.Errorf(api.Conflict, "bulletin %s expired and its content was erased on this node: publish a new one", b.ID)
	case b.Sealed || b.Content == nil:
		return b, api.Errorf(api.Forbidden, "this node cannot read bulletin %s: only its originator may %s it", b.ID, what)
	}
	return b, nil
}

func newRevokeCmd(g *globals) *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "revoke ID --reason TEXT",
		Short: "Revoke one of your bulletins: every member erases its content",
		Long: `Revoke bulletin ID (the ID or a unique prefix), which this member must have
originated. Every member's node, including one offline now, erases the
bulletin's content and keeps a tombstone: its ID, topic, originator, history
and the reason, which every member reads. A revocation cannot be undone.`,
		Example: `  concord revoke 7q3c --reason "Source retracted the statement"`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageError{fmt.Errorf("revoke needs --reason TEXT: every member reads why the bulletin was revoked")}
			}
			resp, err := call2(c.Context(), g, (*api.Client).Revoke, args[0], api.RevokeRequest{Reason: reason})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, resp)
			}
			fmt.Fprintf(stdout, "%s revoked\n", resp.ID)
			return nil
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why the bulletin is revoked (required; every member reads it)")
	return c
}

// printHistory writes a bulletin's history: each version and revocation.
func printHistory(w io.Writer, h []api.Revision) {
	if len(h) == 0 {
		return
	}
	rows := make([][]any, len(h))
	for i, r := range h {
		version := "-"
		if r.Version > 0 {
			version = fmt.Sprint(r.Version)
		}
		rows[i] = []any{version, r.Kind, longUTC(r.Modified), shortID(r.Envelope), r.Reason}
	}
	fmt.Fprintln(w, "\nHistory:")
	table(w, "VERSION\tKIND\tMODIFIED\tENVELOPE\tREASON", rows)
}

// showTombstone describes a bulletin whose content is erased: revoked by
// its originator, or expired here. As for a sealed bulletin, --markdown and
// --save-attachments only get the note, on stderr.
func showTombstone(ctx context.Context, g *globals, dir *directory, b api.Bulletin, noteOnly bool) error {
	note := "This bulletin was revoked by its originator; its content is erased on this node.\n"
	status := []any{"revoked", longUTC(timeOr(b.RevokedAt)) + ": " + b.RevocationReason}
	if !b.Revoked {
		note = "This bulletin expired; retention erased its content on this node.\n"
		status = []any{"expired", longUTC(timeOr(b.ExpiredAt))}
	}
	return showUnreadable(g, b, noteOnly, note, func() {
		table(stdout, "", [][]any{
			{"bulletin", b.ID}, {"version", versionCell(b)},
			{"topic", fmt.Sprintf("%s (%s)", b.TopicName, shortID(b.Topic))},
			{"category", b.Category},
			{"originator", dir.name(ctx, b.Topic, b.Author) + ", member " + b.Author},
			{"created", longUTC(b.Created)},
			status,
		})
		printHistory(stdout, b.History)
	})
}

// versionCell is a bulletin's version for tables: "-" when unknown (a
// sealed bulletin, or a revocation whose bulletin never arrived).
func versionCell(b api.Bulletin) string {
	if b.Version == 0 {
		return "-"
	}
	return fmt.Sprint(b.Version)
}

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
