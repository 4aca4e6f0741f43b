package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/interop/misp"
	"github.com/concordnet/concord/interop/stix"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

type exportFlags struct {
	topic, since, format, out string
	all, follow               bool
}

// exportSummary is what export prints with --json.
type exportSummary struct {
	Format    string `json:"format"`
	Bulletins int    `json:"bulletins"`
	Revoked   int    `json:"revoked"`
	Sealed    int    `json:"sealed_skipped"` // restricted to an audience without this member
	Output    string `json:"output"`
}

func newExportCmd(g *globals) *cobra.Command {
	var f exportFlags
	c := &cobra.Command{
		Use:   "export (ID... | --topic T [--since TIME] | --all) --format stix|misp [-o FILE] | --format misp-feed DIR [--topic T] [--follow]",
		Short: "Export bulletins as a STIX 2.1 bundle, MISP events or a MISP feed",
		Long: `Export bulletins for threat-intelligence platforms (docs/interop.md).

--format stix writes one STIX 2.1 bundle; --format misp writes the MISP
events (one event as {"Event": ...}, several as a JSON list). The output
goes to standard output, or with -o to FILE, replaced whole (never half
written). Give bulletin IDs (or unique prefixes), --topic T (optionally
--since TIME) or --all. Revoked bulletins export as revoked; bulletins
restricted to an audience this member is not in are skipped and counted.

--format misp-feed DIR writes a MISP feed directory (manifest.json,
hashes.csv, one <uuid>.json per event) that a MISP instance pulls as a
local feed; --follow then keeps it current as bulletins arrive, are
revised or revoked, until Ctrl-C.`,
		Example: `  concord export 7q3c --format stix -o report.json
  concord export --topic "West Africa cocaine route" --since 7d --format misp
  concord export --all --format misp-feed /srv/misp-feed --follow`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(c, args); err != nil {
				return err
			}
			if f.format == "misp-feed" {
				return g.exportFeed(c.Context(), &f, args[0])
			}
			return g.exportFile(c.Context(), &f, args)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.format, "format", "", "stix, misp or misp-feed (required)")
	fs.StringVarP(&f.out, "output", "o", "", "write to this file instead of standard output")
	fs.StringVar(&f.topic, "topic", "", "every bulletin of this topic (ID, unique prefix or name)")
	fs.StringVar(&f.since, "since", "", "with --topic or --all: only bulletins created since (RFC 3339, YYYY-MM-DD, or a duration such as 7d)")
	fs.BoolVar(&f.all, "all", false, "every bulletin this node holds")
	fs.BoolVar(&f.follow, "follow", false, "with misp-feed: keep the directory current until interrupted")
	return c
}

// check validates the combination of arguments and flags.
func (f *exportFlags) check(c *cobra.Command, args []string) error {
	usage := func(format string, a ...any) error {
		return usageError{fmt.Errorf(format+" (see `concord export --help`)", a...)}
	}
	switch f.format {
	case "misp-feed":
		if len(args) != 1 {
			return usage("--format misp-feed takes one argument, the feed directory, got %d", len(args))
		}
		if f.out != "" || f.since != "" {
			return usage("--format misp-feed writes into its directory: -o and --since do not apply")
		}
		return nil
	case "stix", "misp":
	case "":
		return usage("give --format stix, misp or misp-feed")
	default:
		return usage("--format %q is not stix, misp or misp-feed", f.format)
	}
	if f.follow {
		return usage("--follow keeps a feed directory current: use it with --format misp-feed")
	}
	ways := 0
	for _, given := range []bool{len(args) > 0, f.topic != "", f.all} {
		if given {
			ways++
		}
	}
	if ways != 1 {
		return usage("say what to export in one way: bulletin IDs, --topic T, or --all")
	}
	if f.since != "" && len(args) > 0 {
		return usage("--since selects among a topic's or all bulletins: not with IDs")
	}
	return nil
}

// exportFile writes a STIX bundle or MISP events to stdout or -o.
func (g *globals) exportFile(ctx context.Context, f *exportFlags, ids []string) error {
	x, err := g.exporter()
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		err = x.addIDs(ctx, ids)
	} else {
		err = x.addList(ctx, f.topic, f.since)
	}
	if err != nil {
		return err
	}
	data, err := encodeExport(f.format, x.items, time.Now())
	if err != nil {
		return err
	}
	sum := x.summary(f.format, f.out)
	if f.out == "" {
		sum.Output = "standard output"
		_, err = stdout.Write(data)
	} else {
		err = writeReplacing(f.out, data)
	}
	if err != nil {
		return err
	}
	return g.reportExport(sum)
}

// encodeExport calls the format's library.
func encodeExport(format string, items []interop.Item, now time.Time) ([]byte, error) {
	if format == "stix" {
		data, err := stix.Export(items, now)
		if err != nil {
			return nil, fmt.Errorf("building the STIX bundle: %w", err)
		}
		return append(data, '\n'), nil
	}
	events, err := misp.Events(items, now)
	if err != nil {
		return nil, fmt.Errorf("building the MISP events: %w", err)
	}
	var v any = events
	switch len(events) {
	case 0:
		v = []misp.Event{} // an empty list, not null
	case 1:
		v = events[0] // what MISP's "import from MISP JSON" takes
	}
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}

// reportExport prints the summary: on stderr when the export itself went
// to stdout, so that it does not corrupt it.
func (g *globals) reportExport(s exportSummary) error {
	w := stdout
	if s.Output == "standard output" {
		w = stderr
	}
	if g.json {
		return printJSON(w, s)
	}
	fmt.Fprintf(w, "exported %d bulletin(s) (%d revoked) as %s to %s", s.Bulletins, s.Revoked, s.Format, s.Output)
	if s.Sealed > 0 {
		fmt.Fprintf(w, "; skipped %d restricted to an audience without this member", s.Sealed)
	}
	fmt.Fprintln(w)
	return nil
}

// exportFeed writes the feed directory, then with --follow keeps it
// current from the change feed. The stream opens before the first
// export, so nothing that happens in between is missed.
func (g *globals) exportFeed(ctx context.Context, f *exportFlags, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the feed directory: %w", err)
	}
	var topicID string
	if f.topic != "" {
		t, err := g.resolveTopic(ctx, f.topic)
		if err != nil {
			return err
		}
		topicID = t.ID
	}
	if !f.follow {
		return g.writeFeedOnce(ctx, f.topic, dir)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	x, err := g.exporter()
	if err != nil {
		return err
	}
	stream, err := x.c.Watch(ctx, api.WatchQuery{})
	if err != nil {
		return err
	}
	defer stream.Close()
	if err := g.writeFeedOnce(ctx, f.topic, dir); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "following: %s is kept current; press Ctrl-C to stop\n", dir)
	return eachStreamed(ctx, stream, topicID, func(b api.Bulletin) error {
		x.items = x.items[:0]
		if err := x.add(ctx, b); err != nil || len(x.items) == 0 {
			return err
		}
		if err := writeFeed(dir, x.items); err != nil {
			return err
		}
		state := "version " + fmt.Sprint(x.items[0].Bulletin.Version)
		if b.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(stderr, "updated %s (%s)\n", b.ID, state)
		return nil
	})
}

func (g *globals) writeFeedOnce(ctx context.Context, topic, dir string) error {
	x, err := g.exporter()
	if err != nil {
		return err
	}
	if err := x.addList(ctx, topic, ""); err != nil {
		return err
	}
	if err := writeFeed(dir, x.items); err != nil {
		return err
	}
	return g.reportExport(x.summary("misp-feed", dir))
}

func writeFeed(dir string, items []interop.Item) error {
	events, err := misp.Events(items, time.Now())
	if err != nil {
		return fmt.Errorf("building the MISP events: %w", err)
	}
	if err := misp.WriteFeed(dir, events); err != nil {
		return fmt.Errorf("writing the feed into %s: %w (check the directory's permissions and free space)", dir, err)
	}
	return nil
}

// exporter gathers the items to export through the local API.
type exporter struct {
	c      *api.Client
	dir    *directory
	items  []interop.Item
	sealed int
}

func (g *globals) exporter() (*exporter, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return &exporter{c: c, dir: newDirectory(c)}, nil
}

func (x *exporter) summary(format, out string) exportSummary {
	s := exportSummary{Format: format, Bulletins: len(x.items), Sealed: x.sealed, Output: out}
	for _, it := range x.items {
		if it.Revoked {
			s.Revoked++
		}
	}
	return s
}

// addIDs adds the bulletins named by ID or unique prefix, in full.
func (x *exporter) addIDs(ctx context.Context, ids []string) error {
	for _, id := range ids {
		b, err := x.c.Bulletin(ctx, id)
		if err != nil {
			return err
		}
		if b.Expired && !b.Revoked {
			return fmt.Errorf("bulletin %s expired and was erased on this node: there is nothing left to export", b.ID)
		}
		if b.Sealed {
			return fmt.Errorf("%s is restricted to an audience without this member: its content cannot be read here, so it cannot be exported", id)
		}
		if err := x.add(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// addList adds every bulletin of topic (all topics if empty) created
// since (if set), as list selects them.
func (x *exporter) addList(ctx context.Context, topic, since string) error {
	lf := listFlags{topic: topic, since: since, all: true}
	q, err := lf.query(time.Now())
	if err != nil {
		return err
	}
	bs, err := x.c.List(ctx, q)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if err := x.add(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// add adds one bulletin as listed: a tombstone as a revoked item, a
// readable one with its body and attachments' bytes (which only show's
// full view carries). Sealed and expired bulletins have nothing to export.
func (x *exporter) add(ctx context.Context, b api.Bulletin) error {
	switch {
	case b.Revoked:
		x.items = append(x.items, x.tombstone(ctx, b))
		return nil
	case b.Expired:
		return nil
	case b.Sealed || b.Content == nil:
		x.sealed++
		return nil
	}
	if hasAttachmentsWithoutData(b.Content.Attachments) || (b.Content.Body == "" && b.Content.BodySize > 0) {
		full, err := x.c.Bulletin(ctx, b.ID)
		if err != nil {
			return fmt.Errorf("reading the attachments of %s: %w", b.ID, err)
		}
		if full.Content == nil {
			return x.add(ctx, full) // revoked or erased in between
		}
		b = full
	}
	x.items = append(x.items, interop.Item{Bulletin: b.Protocol(), Topic: b.Topic, TopicName: b.TopicName})
	return nil
}

func hasAttachmentsWithoutData(attachments []protocol.Attachment) bool {
	for _, a := range attachments {
		if a.Data == nil && a.Size > 0 {
			return true
		}
	}
	return false
}

// tombstone builds the item of a revoked bulletin: its content is erased,
// so the originator comes from the topic's member list.
func (x *exporter) tombstone(ctx context.Context, b api.Bulletin) interop.Item {
	orig := protocol.Originator{Member: b.Author}
	if m, ok := x.dir.member(ctx, b.Topic, b.Author); ok {
		orig.Country, orig.Agency = m.Country, m.Name
	}
	revokedAt := b.Created
	if b.RevokedAt != nil {
		revokedAt = *b.RevokedAt
	}
	return interop.Item{
		Bulletin: &protocol.Bulletin{ID: b.ID, Version: b.Version, Created: b.Created, Modified: revokedAt,
			Originator: orig, BulletinDraft: protocol.BulletinDraft{Category: b.Category}},
		Topic: b.Topic, TopicName: b.TopicName, Revoked: true, RevokedAt: revokedAt, Reason: b.RevocationReason,
	}
}

// writeReplacing writes data to path through a temporary file in the same
// directory and a rename: a reader sees the old file or the new one,
// never half of one.
func writeReplacing(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w (check that its directory exists and is writable)", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
