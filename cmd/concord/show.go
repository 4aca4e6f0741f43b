package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

func newShowCmd(g *globals) *cobra.Command {
	var markdown bool
	var saveDir string
	c := &cobra.Command{
		Use:   "show ID [--markdown] [--save-attachments DIR]",
		Short: "Show one bulletin",
		Long: `Show a bulletin: its header (version, topic, TLP, handling, reliability,
originator, times, audience), summary, body, entities, attachments and
references, then its history: each version and revocation. ID is a
bulletin ID or a unique prefix of it. A revoked or expired bulletin shows
its tombstone: the content is erased, the history and reason remain.

--markdown prints the bulletin as a Markdown file with front matter, as
publish reads it (to keep, or to edit into a revision). --save-attachments
writes each attachment into DIR (created if needed, files mode 0600) after
checking its SHA-256; it never overwrites a file.`,
		Example: `  concord show 7q3c
  concord show 7q3c --markdown > report.md
  concord show 7q3c --save-attachments ./evidence`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if g.json && markdown {
				return usageError{fmt.Errorf("--json and --markdown are two different outputs: give one of them")}
			}
			client, err := g.client()
			if err != nil {
				return err
			}
			b, err := client.Bulletin(c.Context(), args[0])
			if err != nil {
				return err
			}
			dir := newDirectory(client)
			if b.Tombstone() {
				return showTombstone(c.Context(), g, dir, b, markdown || saveDir != "")
			}
			if b.Sealed || b.Content == nil {
				return showSealed(c.Context(), g, dir, b, markdown || saveDir != "")
			}
			if saveDir != "" {
				if err := saveAttachments(saveDir, b.Content.Attachments); err != nil {
					return err
				}
			}
			if markdown {
				_, err := stdout.Write(protocol.RenderMarkdown(b.Protocol()))
				return err
			}
			rel, err := g.related(c.Context(), b.ID, relatedInShow)
			if err != nil {
				return fmt.Errorf("bulletin %s: looking up related bulletins: %w", b.ID, err)
			}
			if g.json {
				return printJSON(stdout, shownBulletin{b, rel.Groups})
			}
			printBulletin(c.Context(), stdout, dir, b)
			printRelatedSummary(stdout, rel.Groups)
			return nil
		},
	}
	c.Flags().BoolVar(&markdown, "markdown", false, "print the bulletin as Markdown with YAML front matter")
	c.Flags().StringVar(&saveDir, "save-attachments", "", "save the attachments into this directory")
	return c
}

// relatedInShow is how many related bulletins show names per entity.
const relatedInShow = 3

// shownBulletin is show --json of a readable bulletin: the Bulletin, and
// the groups of related bulletins (see concord related).
type shownBulletin struct {
	api.Bulletin
	Related []api.RelatedGroup `json:"related"`
}

// showSealed describes a bulletin this member may not read. It is not an
// error: the node holds it so that the topic's log has no gaps. With
// --markdown or --save-attachments the note goes to stderr, so that a
// redirected output is not mistaken for content.
func showSealed(ctx context.Context, g *globals, dir *directory, b api.Bulletin, noteOnly bool) error {
	note := "This bulletin is restricted to its audience; its content cannot be read on this node.\n"
	return showUnreadable(g, b, noteOnly, note, func() {
		table(stdout, "", [][]any{
			{"envelope", b.Envelope},
			{"topic", fmt.Sprintf("%s (%s)", b.TopicName, shortID(b.Topic))},
			{"category", b.Category},
			{"originator", dir.name(ctx, b.Topic, b.Author) + ", member " + b.Author},
			{"received", longUTC(b.Received)},
			{"audience", audience(ctx, dir, b.Topic, b.Audience)},
		})
	})
}

// showUnreadable prints a bulletin whose content this node cannot show:
// as JSON, as its note alone on stderr (noteOnly), or as what describe
// prints (called only then: it may ask the node for names), then the note.
func showUnreadable(g *globals, b api.Bulletin, noteOnly bool, note string, describe func()) error {
	switch {
	case g.json:
		return printJSON(stdout, b)
	case noteOnly:
		fmt.Fprint(stderr, note)
		return nil
	}
	describe()
	fmt.Fprint(stdout, "\n"+note)
	return nil
}

// printBulletin writes the human form of a readable bulletin.
func printBulletin(ctx context.Context, w io.Writer, dir *directory, b api.Bulletin) {
	c := b.Content
	validUntil := "-"
	if c.ValidUntil != nil {
		validUntil = dateUTC(*c.ValidUntil)
	}
	table(w, "", [][]any{
		{"bulletin", b.ID}, {"version", b.Version},
		{"topic", fmt.Sprintf("%s (%s)", b.TopicName, shortID(b.Topic))},
		{"category", b.Category}, {"tlp", c.TLP}, {"handling", handling(c.Handling)},
		{"reliability", c.SourceReliability + c.InfoReliability}, {"language", c.Language},
		{"originator", originator(c.Originator)},
		{"created", longUTC(b.Created)}, {"modified", longUTC(c.Modified)}, {"valid until", validUntil},
		{"audience", audience(ctx, dir, b.Topic, b.Audience)},
	})
	printRequestBlock(ctx, w, dir, b) // requests.go
	fmt.Fprintf(w, "\n%s\n", c.Title)
	if c.Summary != "" {
		fmt.Fprintf(w, "\nSummary:\n%s\n", c.Summary)
	}
	if c.Body != "" {
		fmt.Fprintf(w, "\n%s\n", c.Body)
	}
	printEntities(w, c.Entities)
	printAttachments(w, c.Attachments)
	printReferences(w, c.References)
	printHistory(w, b.History)
}

func handling(h protocol.Handling) string {
	if h.Restrictions == "" {
		return h.Code
	}
	return h.Code + ": " + h.Restrictions
}

func originator(o protocol.Originator) string {
	s := fmt.Sprintf("%s %s, member %s", o.Country, o.Agency, o.Member)
	if o.Contact != "" {
		s += ", contact " + o.Contact
	}
	return s
}

func longUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// dateUTC formats valid_until: a date alone when it is midnight UTC, as
// --valid-until YYYY-MM-DD sets it.
func dateUTC(t time.Time) string {
	if t = t.UTC(); t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return longUTC(t)
}

func audience(ctx context.Context, dir *directory, topic string, ids []string) string {
	if len(ids) == 0 {
		return "every member of the topic"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = dir.name(ctx, topic, id)
		if !strings.HasPrefix(names[i], "member ") {
			names[i] += " (" + id + ")"
		}
	}
	return strings.Join(names, "; ")
}

func printEntities(w io.Writer, entities []protocol.Entity) {
	if len(entities) == 0 {
		return
	}
	rows := make([][]any, len(entities))
	for i, e := range entities {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
			fields = append(fields, k+"="+e.Fields[k])
		}
		rows[i] = []any{e.Type, e.Value, strings.Join(fields, "; ")}
	}
	fmt.Fprintln(w, "\nEntities:")
	table(w, "TYPE\tVALUE\tFIELDS", rows)
}

func printAttachments(w io.Writer, atts []protocol.Attachment) {
	if len(atts) == 0 {
		return
	}
	rows := make([][]any, len(atts))
	for i, a := range atts {
		rows[i] = []any{a.Name, a.MediaType, a.Size, a.SHA256}
	}
	fmt.Fprintln(w, "\nAttachments:")
	table(w, "NAME\tTYPE\tSIZE\tSHA256", rows)
}

func printReferences(w io.Writer, r protocol.References) {
	var rows [][]any
	for _, l := range []struct {
		kind string
		ids  []string
	}{{"supersedes", r.Supersedes}, {"extends", r.Extends}, {"in_reply_to", r.InReplyTo}} {
		for _, id := range l.ids {
			rows = append(rows, []any{l.kind, id})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nReferences:")
	table(w, "", rows)
}
