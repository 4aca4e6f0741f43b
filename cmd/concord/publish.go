package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// publishFlags are the bulletin fields publish takes from flags.
type publishFlags struct {
	title, summary, bodyFile, tlp, handling, restrictions string
	source, info, language, validUntil                    string
	entities, attach, to, refs                            []string
}

func newPublishCmd(g *globals) *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "publish TOPIC [FILE.md] [flags]",
		Short: "Publish a bulletin on a topic",
		Long: `Publish a bulletin to every member of TOPIC, encrypted to the topic's key
(or, with --to, to the named members only). Prints the new bulletin's ID.

The bulletin comes from flags, or from FILE.md: Markdown with YAML front
matter (title, summary, tlp, handling, source_reliability, info_reliability,
language, valid_until, references, entities, attachments, audience), whose
body is the bulletin's body; attachments are paths relative to the file.
Flags given explicitly override the file's fields; the repeatable flags
(--entity, --attach, --to, --reference) add to its lists.

Unset fields default to TLP AMBER, handling H2, reliability B2, language en.
--restrictions implies handling H3 unless --handling says otherwise.`,
		Example: `  concord publish "West Africa cocaine route" report.md
  concord publish 3f9a --title "MV Aurora under surveillance" --summary "Departed Lomé 12 May" \
      --body-file notes.md --tlp AMBER+STRICT --source-reliability A --info-reliability 2 \
      --entity "vessel=MV Aurora;imo=9321483;flag=PAN" --entity phone=+22890000000 \
      --attach photo.jpg --valid-until 2026-12-31
  # restricted to two members: only they can read it
  concord publish 3f9a report.md --to ESP --to FRA`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("publish takes a TOPIC and an optional FILE.md, got %d argument(s): usage: %s", len(args), c.UseLine())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			d, err := f.draft(c.Flags(), args[1:], nil)
			if err != nil {
				return err
			}
			return g.printPublished(call1(c.Context(), g, (*api.Client).Publish, api.PublishRequest{Topic: args[0], Draft: *d}))
		},
	}
	f.register(c.Flags())
	return c
}

func (f *publishFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.title, "title", "", "title (one line)")
	fs.StringVar(&f.summary, "summary", "", "summary (one paragraph)")
	fs.StringVar(&f.bodyFile, "body-file", "", `file holding the Markdown body ("-" for stdin)`)
	fs.StringVar(&f.tlp, "tlp", "AMBER", "TLP 2.0 label: CLEAR, GREEN, AMBER, AMBER+STRICT or RED")
	fs.StringVar(&f.handling, "handling", "H2", "handling code: H0, H1, H2 or H3")
	fs.StringVar(&f.restrictions, "restrictions", "", "handling restrictions (free text; implies H3)")
	fs.StringVar(&f.source, "source-reliability", "B", "source reliability: A, B, C or X")
	fs.StringVar(&f.info, "info-reliability", "2", "information reliability: 1, 2, 3 or 4")
	fs.StringVar(&f.language, "language", "en", "language tag of the text, e.g. en, fr, es-419")
	fs.StringVar(&f.validUntil, "valid-until", "", "review or expiry date: YYYY-MM-DD (00:00 UTC) or RFC 3339")
	fs.StringArrayVar(&f.entities, "entity", nil, "entity TYPE=VALUE[;KEY=VALUE...] (repeatable), e.g. phone=+33612345678")
	fs.StringArrayVar(&f.attach, "attach", nil, "attach a file, under its base name (repeatable)")
	fs.StringArrayVar(&f.to, "to", nil, "restrict the audience to a member: ID, unique prefix or country code (repeatable)")
	fs.StringArrayVar(&f.refs, "reference", nil, "KIND:ID where KIND is supersedes, extends or in_reply_to (repeatable)")
}

// draft builds the bulletin draft from the Markdown file if any, else from
// current (the version a revision starts from; nil when publishing), then
// the defaults for what is unset, then the flags given explicitly. For a
// revision, the fields every version has that the file leaves out keep
// their current values instead of taking the defaults.
func (f *publishFlags) draft(fs *pflag.FlagSet, file []string, current *protocol.BulletinDraft) (*protocol.BulletinDraft, error) {
	d := &protocol.BulletinDraft{}
	if current != nil {
		d = current
	}
	if len(file) == 1 {
		if file[0] == "-" && f.bodyFile == "-" {
			return nil, usageError{fmt.Errorf("FILE.md and --body-file cannot both read standard input")}
		}
		var err error
		if d, err = markdownDraft(file[0]); err != nil {
			return nil, err
		}
		if current != nil {
			keepCurrent(d, current)
		}
	}
	f.applyTexts(fs, d)
	if err := f.applyParsed(fs, d); err != nil {
		return nil, err
	}
	if strings.TrimSpace(d.Title) == "" {
		return nil, usageError{fmt.Errorf("a bulletin needs a title: give --title TEXT, or a title: line in the Markdown front matter")}
	}
	return d, nil
}

// keepCurrent fills what a revision's file leaves out of the fields every
// version has (title, language, TLP, handling, reliabilities, audience)
// with the current version's, rather than with publish's defaults.
func keepCurrent(d, current *protocol.BulletinDraft) {
	for _, f := range []struct {
		dst *string
		cur string
	}{
		{&d.Title, current.Title}, {&d.Language, current.Language}, {&d.TLP, current.TLP},
		{&d.SourceReliability, current.SourceReliability}, {&d.InfoReliability, current.InfoReliability},
	} {
		if *f.dst == "" {
			*f.dst = f.cur
		}
	}
	if d.Handling.Code == "" {
		d.Handling = current.Handling
	}
	if len(d.Audience) == 0 {
		d.Audience = current.Audience
	}
}

// markdownDraft parses a Markdown bulletin file ("-": stdin, attachments
// relative to the current directory).
func markdownDraft(path string) (*protocol.BulletinDraft, error) {
	text, err := readInput(path)
	if err != nil {
		return nil, fmt.Errorf("reading the bulletin: %w", err)
	}
	dir := "."
	if path != "-" {
		dir = filepath.Dir(path)
	}
	d, err := protocol.ParseMarkdown(text, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inputName(path), err)
	}
	return d, nil
}

// applyTexts sets each one-value field from its flag when the flag was
// given or the field is still empty (the flag then holds the default).
// Codes are upper-cased: "amber" can only mean AMBER.
func (f *publishFlags) applyTexts(fs *pflag.FlagSet, d *protocol.BulletinDraft) {
	set := func(name string, dst *string, v string) {
		if fs.Changed(name) || *dst == "" {
			*dst = v
		}
	}
	set("title", &d.Title, f.title)
	set("summary", &d.Summary, f.summary)
	set("language", &d.Language, f.language)
	set("tlp", &d.TLP, f.tlp)
	set("handling", &d.Handling.Code, strings.ToUpper(f.handling)) // compared with H3 below
	set("source-reliability", &d.SourceReliability, f.source)
	set("info-reliability", &d.InfoReliability, f.info)
	switch {
	case fs.Changed("restrictions"):
		d.Handling.Restrictions = f.restrictions
		if !fs.Changed("handling") {
			d.Handling.Code = "H3"
		}
	case fs.Changed("handling") && d.Handling.Code != "H3":
		// Restrictions from the file or the current version go with H3.
		d.Handling.Restrictions = ""
	}
}

// applyParsed applies the flags whose values need parsing or reading.
func (f *publishFlags) applyParsed(fs *pflag.FlagSet, d *protocol.BulletinDraft) error {
	if fs.Changed("body-file") {
		body, err := readInput(f.bodyFile)
		if err != nil {
			return fmt.Errorf("reading the body: %w", err)
		}
		d.Body = strings.TrimRight(string(body), " \t\r\n")
	}
	if fs.Changed("valid-until") {
		t, err := parseValidUntil(f.validUntil)
		if err != nil {
			return err
		}
		d.ValidUntil = &t
	}
	for _, s := range f.entities {
		e, err := parseEntity(s)
		if err != nil {
			return err
		}
		d.Entities = append(d.Entities, e)
	}
	for _, s := range f.refs {
		if err := addReference(&d.References, s); err != nil {
			return err
		}
	}
	for _, path := range f.attach {
		a, err := readAttachment(path)
		if err != nil {
			return err
		}
		d.Attachments = append(d.Attachments, a)
	}
	d.Audience = append(d.Audience, f.to...)
	return nil
}

// printPublished prints what publishing answered: the new bulletin's ID,
// or the whole answer with --json.
func (g *globals) printPublished(resp api.PublishResponse, err error) error {
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(stdout, resp)
	}
	fmt.Fprintln(stdout, resp.ID)
	return nil
}
