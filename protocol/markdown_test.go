package protocol

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const cocaineReport = `---
title: Cocaine in banana containers on MV Example Star
summary: |
  400 kg of cocaine hidden in a reefer container of bananas,
  loaded in Santos, due in Le Havre on 3 December.
category: drug-trafficking
language: en
tlp: AMBER
handling:
  code: H3
  restrictions: Not for use in judicial proceedings without OFAST's consent.
source_reliability: B
info_reliability: 2
valid_until: 2027-06-01
references:
  in_reply_to: [aeaqcaibaeaqcaibaeaqcaibae]
entities:
  - type: vessel
    value: MV Example Star
    fields:
      imo: 9123456
      flag: PAN
      mmsi: 352001234
  - type: organization
    value: Example Fruit Export Ltda
    fields: {country: BRA}
  - type: phone
    value: +5511987654321
  - type: person
    value: João Exemplo
    fields:
      born: 1978-04-02
      role: broker
attachments:
  - manifest.txt
audience:
  - aeaqcaibaeaqcaibaeaqcaib
---

## Facts

The container **MSCU 123456-7** was loaded in Santos on 20 November.

---

A second section after a thematic break.
`

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestParseRealisticBulletin(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "manifest.txt", "MSCU1234567 bananas 21 t\n")
	d, err := ParseMarkdown([]byte(cocaineReport), dir)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	want := &BulletinDraft{
		Category:          "drug-trafficking",
		Title:             "Cocaine in banana containers on MV Example Star",
		Summary:           "400 kg of cocaine hidden in a reefer container of bananas,\nloaded in Santos, due in Le Havre on 3 December.",
		Body:              "## Facts\n\nThe container **MSCU 123456-7** was loaded in Santos on 20 November.\n\n---\n\nA second section after a thematic break.",
		Language:          "en",
		TLP:               "AMBER",
		Handling:          Handling{Code: "H3", Restrictions: "Not for use in judicial proceedings without OFAST's consent."},
		SourceReliability: "B",
		InfoReliability:   "2",
		ValidUntil:        &until,
		References:        References{InReplyTo: []string{"aeaqcaibaeaqcaibaeaqcaibae"}},
		Entities: []Entity{
			{Type: "vessel", Value: "MV Example Star", Fields: map[string]string{"imo": "9123456", "flag": "PAN", "mmsi": "352001234"}},
			{Type: "organization", Value: "Example Fruit Export Ltda", Fields: map[string]string{"country": "BRA"}},
			{Type: "phone", Value: "+5511987654321"},
			{Type: "person", Value: "João Exemplo", Fields: map[string]string{"born": "1978-04-02", "role": "broker"}},
		},
		Attachments: []Attachment{NewAttachment("manifest.txt", "", []byte("MSCU1234567 bananas 21 t\n"))},
		Audience:    []string{"aeaqcaibaeaqcaibaeaqcaib"},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", d, want)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseMarkdownShortForms(t *testing.T) {
	src := "\ufeff---\r\ntitle: Short\r\nhandling: H2\r\ninfo_reliability: 1\r\nvalid_until: 2027-01-01T12:30:00+01:00\r\n---\r\nBody\r\n"
	d, err := ParseMarkdown([]byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "Short" || d.Handling != (Handling{Code: "H2"}) || d.InfoReliability != "1" || d.Body != "Body" ||
		!d.ValidUntil.Equal(time.Date(2027, 1, 1, 11, 30, 0, 0, time.UTC)) || d.ValidUntil.Location() != time.UTC {
		t.Fatalf("%+v", d)
	}
}

// markdownError parses src and returns its *MarkdownError.
func markdownError(t *testing.T, src string) *MarkdownError {
	t.Helper()
	_, err := ParseMarkdown([]byte(src), t.TempDir())
	var me *MarkdownError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want a *MarkdownError", err)
	}
	return me
}

func TestParseMarkdownUnknownKey(t *testing.T) {
	me := markdownError(t, "---\ntitle: x\ntitel: y\n---\nbody\n")
	if me.Line != 3 || !strings.Contains(me.Problem, `"titel"`) {
		t.Errorf("got %v", me)
	}
	for _, key := range FrontMatterKeys() {
		if !strings.Contains(me.Problem, key) {
			t.Errorf("error does not list %q: %v", key, me)
		}
	}
	me = markdownError(t, "---\nentities:\n  - type: vessel\n    valeu: X\n---\n")
	if me.Line != 4 || !strings.Contains(me.Problem, `"valeu"`) || !strings.Contains(me.Problem, "type, value, fields") {
		t.Errorf("got %v", me)
	}
}

func TestParseMarkdownBadYAML(t *testing.T) {
	me := markdownError(t, "---\ntitle: x\nentities: [a\nsummary: y\n---\n")
	if me.Line < 3 || me.Line > 5 || !strings.Contains(me.Problem, "not valid YAML") {
		t.Errorf("got %v", me)
	}
}

func TestParseMarkdownStructureErrors(t *testing.T) {
	cases := []struct {
		src  string
		line int
		says string
	}{
		{"title: x\n", 1, `start with a line "---"`},
		{"---\ntitle: x\n", 1, "no closing"},
		{"---\n- a\n---\n", 2, "must be a mapping"},
		{"---\ntitle: [a, b]\n---\n", 2, "title must be text, not a list"},
		{"---\naudience: abc\n---\n", 2, "audience must be a list"},
		{"---\nhandling: {code: H3, why: x}\n---\n", 2, `unknown key "why" in handling`},
		{"---\nvalid_until: tomorrow\n---\n", 2, "neither a date"},
		{"---\ntitle: &t x\nsummary: *t\n---\n", 3, "aliases"},
		{"---\nattachments: [missing.pdf]\n---\n", 2, `attachment "missing.pdf"`},
		{"---\nentities: [x]\n---\n", 2, "entities[0] must be a mapping"},
		{"---\ntitle: x\nsummary: " + strings.Repeat("[", 33) + "\n---\n", 3, "more than 32 deep"},
		{"---\n" + strings.Repeat("# padding\n", MaxFrontMatterBytes/10+1) + "---\n", 1, "front matter is"},
	}
	for _, c := range cases {
		me := markdownError(t, c.src)
		if me.Line != c.line || !strings.Contains(me.Problem, c.says) {
			t.Errorf("%q: got %v, want line %d saying %q", c.src, me, c.line, c.says)
		}
	}
}

func TestParseMarkdownRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := ParseMarkdown([]byte("---\nattachments: [.]\n---\n"), dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("got %v", err)
	}
	writeFile(t, dir, "big.bin", strings.Repeat("x", MaxAttachmentBytes+1))
	_, err = ParseMarkdown([]byte("---\nattachments: [big.bin]\n---\n"), dir)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("got %v", err)
	}
}

func TestRenderMarkdownReadsBack(t *testing.T) {
	b := sampleBulletin()
	b.Summary = "Line one: with a colon\n  indented # not a comment\n\nafter a blank line"
	b.Entities = append(b.Entities,
		Entity{Type: "other", Value: "null"},
		Entity{Type: "other", Value: "- dash", Fields: map[string]string{"key: odd": "tab\there", "n": "1.50"}},
	)
	out := RenderMarkdown(b)
	dir := t.TempDir()
	for _, a := range b.Attachments {
		writeFile(t, dir, a.Name, string(a.Data))
	}
	d, err := ParseMarkdown(out, dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d.Body += "\n" // the parser trims the body's final newline
	if !reflect.DeepEqual(d, b.Draft()) {
		t.Fatalf("read back\n%+v\nwant\n%+v\nfrom\n%s", d, b.Draft(), out)
	}
	if !strings.Contains(string(out), "# originator Office anti-stupéfiants (FRA)") {
		t.Errorf("header comment missing:\n%s", out)
	}
}

func FuzzParseMarkdown(f *testing.F) {
	f.Add([]byte(cocaineReport))
	f.Add(RenderMarkdown(sampleBulletin()))
	f.Add([]byte("---\ntitle: x\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\ntitle: [a\n---\n"))
	f.Add([]byte("---\na: &a [*a]\n---\n"))
	f.Add([]byte("---\nhandling: {code: H3, restrictions: \"a\\tb\"}\nentities: [{type: x, fields: {? a : b}}]\n---\n"))
	f.Add([]byte("---\ntitle: !!str 12\nsummary: >\n  folded\n  text\n# comment\ntlp: RED\n...\n---\nbody\n"))
	f.Add([]byte("---\ntitle: x\nhandling: H0\nlanguage: es-419\nsource_reliability: X\ninfo_reliability: 4\ntlp: CLEAR\n" +
		"entities: [{type: email, value: a@example.org}]\nattachments: [a.txt, dir/b.pdf]\nreferences: {supersedes: [aeaqcaibaeaqcaibaeaqcaibae]}\n---\n"))
	read := func(path string, limit int) ([]byte, error) { return []byte("attached:" + path), nil }
	stamp := Stamp{ID: bulletinID(1), Version: 1, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Originator: sampleBulletin().Originator, Category: "terrorism"}
	f.Fuzz(func(t *testing.T, text []byte) {
		d, err := parseMarkdown(text, read)
		if err != nil {
			return
		}
		d.Category = ""
		b, err := d.Build(stamp)
		if err != nil {
			return
		}
		// A valid bulletin must read back from its rendering unchanged.
		again, err := parseMarkdown(RenderMarkdown(b), func(path string, limit int) ([]byte, error) {
			for _, a := range b.Attachments {
				if a.Name == path {
					return a.Data, nil
				}
			}
			return nil, errors.New("no such attachment")
		})
		if err != nil {
			t.Fatalf("rendering does not parse: %v\n%s", err, RenderMarkdown(b))
		}
		if want := b.Draft(); !reflect.DeepEqual(again, want) {
			t.Fatalf("rendering reads back\n%+v\nwant\n%+v\n%s", again, want, RenderMarkdown(b))
		}
	})
}
