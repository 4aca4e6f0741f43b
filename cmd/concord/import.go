package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/internal/fsutil"
	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/interop/misp"
	"github.com/concordnet/concord/interop/stix"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// maxImportBytes bounds an imported file: STIX bundles and MISP events of
// a few thousand objects are a few MiB; anything this big is refused
// before it is read.
const maxImportBytes = 64 << 20

type importFlags struct {
	topic, out string
	publish    bool
}

func newImportCmd(g *globals) *cobra.Command {
	var f importFlags
	c := &cobra.Command{
		Use:   "import FILE [--out DIR | --publish --topic T]",
		Short: "Import a STIX 2.1 bundle or MISP events as bulletin drafts",
		Long: `Import the reports of a STIX 2.1 bundle or the events of a MISP JSON file
(detected by content; at most 64 MiB; docs/interop.md). A STIX bundle is
validated against the OASIS STIX 2.1 schemas first. Nothing is written or
published unless the whole file maps to valid drafts.

Without --publish, each draft is written into --out DIR (default: the
current directory) as a Markdown bulletin file named after its title, for
an analyst to review and publish with concord publish TOPIC FILE.md; an
existing file is never overwritten.

With --publish --topic T, each draft is published on T, unless this node
already published it from the same source object: importing the same
file twice publishes nothing the second time.`,
		Example: `  concord import apt1.json --out drafts/
  concord import misp-event.json --publish --topic "West Africa cocaine route"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if f.publish != (f.topic != "") {
				return usageError{fmt.Errorf("--publish and --topic T go together: give both to publish, neither to write drafts (see `concord import --help`)")}
			}
			if f.publish && c.Flags().Changed("out") {
				return usageError{fmt.Errorf("--out DIR is where drafts are written: not with --publish")}
			}
			drafts, err := readImport(args[0])
			if err != nil {
				return err
			}
			if f.publish {
				return g.publishImport(c.Context(), f.topic, drafts)
			}
			return g.writeDrafts(f.out, drafts)
		},
	}
	c.Flags().StringVar(&f.out, "out", ".", "directory the Markdown drafts are written into")
	c.Flags().BoolVar(&f.publish, "publish", false, "publish the drafts on --topic instead of writing them")
	c.Flags().StringVar(&f.topic, "topic", "", "with --publish: the topic to publish on (ID, unique prefix or name)")
	return c
}

// readImport reads, detects and maps the whole file; every draft must be
// valid, so that a bad file publishes nothing.
func readImport(path string) ([]interop.Draft, error) {
	data, err := readBounded(path, maxImportBytes)
	if err != nil {
		return nil, err
	}
	format, err := detectFormat(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var drafts []interop.Draft
	if format == "stix" {
		drafts, err = stix.Import(data)
	} else {
		drafts, err = misp.Import(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w; nothing was imported", path, formatName(format), err)
	}
	if len(drafts) == 0 {
		return nil, fmt.Errorf("%s (%s) holds nothing to import: no report or event", path, formatName(format))
	}
	for _, d := range drafts {
		if err := d.Draft.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %s (%q) does not make a valid bulletin: %w; nothing was imported", path, d.Source, d.Draft.Title, err)
		}
	}
	return drafts, nil
}

// readBounded reads a regular file of at most limit bytes, refusing a
// bigger one from its size before reading it, and still reading no more
// than limit+1 bytes should it grow meanwhile.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file to import: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tooBig := fmt.Errorf("%s is larger than %d MiB, the most an import reads: split it (one report or event per file) and import the parts", path, limit>>20)
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: give the path of a JSON file", path)
	}
	if info.Size() > limit {
		return nil, tooBig
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// detectFormat tells a STIX bundle ("stix") from MISP events ("misp") by
// their top-level shape.
func detectFormat(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if !json.Valid(data) {
		return "", errors.New("not JSON: give a STIX 2.1 bundle or a MISP event export (JSON)")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) == nil {
		var typ string
		json.Unmarshal(obj["type"], &typ)
		switch {
		case typ == "bundle":
			return "stix", nil
		case obj["Event"] != nil || obj["response"] != nil:
			return "misp", nil
		}
		return "", errors.New(`unknown format: a JSON object that is neither a STIX bundle ("type": "bundle") nor a MISP event ("Event" or "response"); export a bundle or an event from your platform`)
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(data, &list) == nil && len(list) > 0 {
		for _, o := range list {
			if o["Event"] == nil {
				return "", errors.New(`unknown format: a JSON list whose items are not all MISP events ({"Event": ...})`)
			}
		}
		return "misp", nil
	}
	return "", errors.New("unknown format: want a STIX 2.1 bundle (an object with \"type\": \"bundle\") or MISP events (an object with \"Event\" or \"response\", or a list of events)")
}

func formatName(format string) string {
	if format == "stix" {
		return "STIX 2.1 bundle"
	}
	return "MISP events"
}

// importResult is one draft's outcome, printed with --json.
type importResult struct {
	Source   string `json:"source"`
	Title    string `json:"title"`
	File     string `json:"file,omitempty"`     // written as a Markdown draft
	Bulletin string `json:"bulletin,omitempty"` // published, or published before
	Skipped  bool   `json:"already_imported,omitempty"`
}

// writeDrafts writes each draft as a Markdown bulletin file into dir,
// with its attachments beside it, after checking that no name is taken.
func (g *globals) writeDrafts(dir string, drafts []interop.Draft) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the output directory: %w", err)
	}
	names := draftNames(drafts)
	for _, name := range names {
		for _, p := range []string{name + ".md", name + ".files"} {
			if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
				return fmt.Errorf("%s already exists: import never overwrites; move it away or give another --out DIR (nothing was written)", filepath.Join(dir, p))
			}
		}
	}
	var results []importResult
	for i, d := range drafts {
		file, err := writeDraft(dir, names[i], d.Draft)
		if err != nil {
			return err
		}
		results = append(results, importResult{Source: d.Source, Title: d.Draft.Title, File: file})
		if !g.json {
			fmt.Fprintf(stdout, "%s\t%s\n", file, d.Source)
		}
	}
	if g.json {
		return printJSON(stdout, results)
	}
	fmt.Fprintf(stderr, "wrote %d draft(s) into %s: review them, then concord publish TOPIC FILE.md\n", len(drafts), dir)
	return nil
}

// writeDraft writes one draft; its attachments go into NAME.files/, which
// the Markdown lists them under.
func writeDraft(dir, name string, d protocol.BulletinDraft) (string, error) {
	if len(d.Attachments) > 0 {
		files := filepath.Join(dir, name+".files")
		if err := os.Mkdir(files, 0o700); err != nil {
			return "", fmt.Errorf("creating %s: %w", files, err)
		}
		atts := make([]protocol.Attachment, len(d.Attachments))
		for i, a := range d.Attachments {
			base := safeFileName(a.Name, fmt.Sprintf("attachment-%d", i+1))
			if err := fsutil.WriteNew(filepath.Join(files, base), a.Data); err != nil {
				return "", fmt.Errorf("writing attachment %s: %w", base, err)
			}
			a.Name = name + ".files/" + base
			atts[i] = a
		}
		d.Attachments = atts
	}
	path := filepath.Join(dir, name+".md")
	if err := fsutil.WriteNew(path, protocol.RenderDraftMarkdown(&d)); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// draftNames names each draft's file after its title, unique among them.
func draftNames(drafts []interop.Draft) []string {
	seen := map[string]int{}
	names := make([]string, len(drafts))
	for i, d := range drafts {
		name := slug(d.Draft.Title)
		seen[name]++
		if n := seen[name]; n > 1 {
			name = fmt.Sprintf("%s-%d", name, n)
		}
		names[i] = name
	}
	return names
}

// slug makes a portable file name of a title: lowercase letters and
// digits, words joined by '-', at most 60 characters.
func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return "draft"
	}
	return b.String()
}

// safeFileName keeps an attachment's base name unless it could escape the
// directory or is empty.
func safeFileName(name, fallback string) string {
	base := filepath.Base(name)
	if base == "." || base == ".." || base == string(filepath.Separator) || strings.HasPrefix(base, ".") {
		return fallback
	}
	return base
}

// publishImport publishes each draft not already imported on this node,
// then records it, so that importing the same file again publishes
// nothing twice.
func (g *globals) publishImport(ctx context.Context, topic string, drafts []interop.Draft) error {
	t, err := g.resolveTopic(ctx, topic)
	if err != nil {
		return err
	}
	var results []importResult
	for _, d := range drafts {
		r, err := g.publishDraft(ctx, t, d)
		if err != nil {
			return fmt.Errorf("%w (%d of %d drafts done before it; importing the file again skips them)", err, len(results), len(drafts))
		}
		results = append(results, r)
		if g.json {
			continue
		}
		if r.Skipped {
			fmt.Fprintf(stdout, "%s\talready imported as %s\n", d.Source, r.Bulletin)
		} else {
			fmt.Fprintf(stdout, "%s\tpublished as %s\n", d.Source, r.Bulletin)
		}
	}
	if g.json {
		return printJSON(stdout, results)
	}
	return nil
}

func (g *globals) publishDraft(ctx context.Context, t api.Topic, d interop.Draft) (importResult, error) {
	r := importResult{Source: d.Source, Title: d.Draft.Title}
	c, err := g.client()
	if err != nil {
		return r, err
	}
	rec, err := c.Import(ctx, d.Source)
	switch {
	case err == nil:
		r.Bulletin, r.Skipped = rec.Bulletin, true
		return r, nil
	case api.ClassOf(err) == api.NotFound && strings.Contains(err.Error(), "import source"):
	case api.ClassOf(err) == api.NotFound:
		return r, errors.New("the daemon cannot record imports: it runs an older concord; restart it with this version")
	default:
		return r, err
	}
	draft := d.Draft
	draft.Category = "" // the topic decides it
	resp, err := c.Publish(ctx, api.PublishRequest{Topic: t.ID, Draft: draft})
	if err != nil {
		return r, fmt.Errorf("publishing %s (%q): %w", d.Source, d.Draft.Title, err)
	}
	r.Bulletin = resp.ID
	if err := c.AddImport(ctx, api.ImportRecord{Source: d.Source, Bulletin: resp.ID}); err != nil {
		return r, fmt.Errorf("%s was published as %s but not recorded as imported (importing again would publish it twice): %w", d.Source, resp.ID, err)
	}
	return r, nil
}
