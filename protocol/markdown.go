package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits on a Markdown bulletin file; attachment files are read separately.
// The YAML parser takes time superlinear in the front matter's size and
// quadratic in its flow nesting ([ and {), so both are bounded before it
// runs.
const (
	MaxMarkdownBytes    = MaxBodyLen + MaxFrontMatterBytes + 1024
	MaxFrontMatterBytes = 256 << 10
	maxFlowDepth        = 32
)

// FrontMatterKeys returns the keys a Markdown bulletin's front matter may
// hold, in the order RenderMarkdown writes them.
func FrontMatterKeys() []string {
	keys := make([]string, len(frontMatterFields))
	for i, f := range frontMatterFields {
		keys[i] = f.key
	}
	return keys
}

// MarkdownError reports a problem in a Markdown bulletin. Line counts from
// 1 in the whole file; it is 0 when the problem is not on one line.
type MarkdownError struct {
	Line    int
	Problem string
}

func (e *MarkdownError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return e.Problem
}

// ParseMarkdown reads a bulletin draft from Markdown with YAML front
// matter: a first line "---", the front matter, a line "---", then the
// body. Attachments are listed in the front matter as file paths, relative
// to baseDir unless absolute. Values are taken as text exactly as written
// (a phone number +33612345678 stays text), trimmed of surrounding space;
// valid_until is a date (YYYY-MM-DD, meaning 00:00 UTC that day) or an
// RFC 3339 time. ParseMarkdown reports syntax and structure errors as
// *MarkdownError; it does not validate values (see BulletinDraft.Validate),
// so that flags can still amend the draft.
func ParseMarkdown(text []byte, baseDir string) (*BulletinDraft, error) {
	return parseMarkdown(text, func(path string, limit int) ([]byte, error) {
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		return readRegularFile(path, limit)
	})
}

// readFunc reads an attachment file of at most limit bytes.
type readFunc func(path string, limit int) ([]byte, error)

func parseMarkdown(text []byte, read readFunc) (*BulletinDraft, error) {
	if len(text) > MaxMarkdownBytes {
		return nil, &MarkdownError{Problem: fmt.Sprintf("file is %d bytes, at most %d allowed", len(text), MaxMarkdownBytes)}
	}
	front, body, err := splitFrontMatter(text)
	if err != nil {
		return nil, err
	}
	d := &BulletinDraft{Body: body}
	fm := &frontMatter{d: d, read: read, lineOffset: 1}
	if err := fm.decode(front); err != nil {
		return nil, err
	}
	return d, nil
}

// splitFrontMatter returns the front matter and the body, with CRLF line
// ends made LF, leading blank lines and trailing space removed from the body.
func splitFrontMatter(text []byte) (front []byte, body string, err error) {
	s := strings.ReplaceAll(strings.TrimPrefix(string(text), "\ufeff"), "\r\n", "\n")
	first, rest, _ := strings.Cut(s, "\n")
	if !isDelimiter(first) {
		return nil, "", &MarkdownError{Line: 1, Problem: `a Markdown bulletin must start with a line "---" that opens its YAML front matter`}
	}
	var fm strings.Builder
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if isDelimiter(line) {
			return []byte(fm.String()), trimBody(rest), nil
		}
		fm.WriteString(line)
		fm.WriteByte('\n')
	}
	return nil, "", &MarkdownError{Line: 1, Problem: `the front matter opened on this line has no closing line "---"`}
}

func isDelimiter(line string) bool { return strings.TrimRight(line, " \t") == "---" }

func trimBody(s string) string {
	s = strings.TrimRight(s, " \t\n")
	for {
		line, rest, found := strings.Cut(s, "\n")
		if !found || strings.Trim(line, " \t") != "" {
			return s
		}
		s = rest
	}
}

// readRegularFile reads a regular file of at most limit bytes: never a
// device or pipe, which could block or never end.
func readRegularFile(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("is not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if info.Size() > int64(limit) || len(data) > limit {
		return nil, fmt.Errorf("is larger than the %d bytes left for attachments (at most %d bytes together)", limit, MaxAttachmentBytes)
	}
	return data, nil
}

// frontMatter decodes front matter into a draft. It walks the YAML syntax
// tree itself rather than unmarshalling: scalars keep the text the analyst
// wrote, every error has a line, and aliases (which can expand
// exponentially) are refused before anything is built.
type frontMatter struct {
	d          *BulletinDraft
	read       readFunc
	lineOffset int // lines of the file before the front matter
}

type frontMatterField struct {
	key string
	set func(f *frontMatter, v ast.Node) error
}

var frontMatterFields = []frontMatterField{
	textField("title", func(d *BulletinDraft) *string { return &d.Title }),
	textField("summary", func(d *BulletinDraft) *string { return &d.Summary }),
	textField("category", func(d *BulletinDraft) *string { return &d.Category }),
	textField("language", func(d *BulletinDraft) *string { return &d.Language }),
	textField("tlp", func(d *BulletinDraft) *string { return &d.TLP }),
	{"handling", (*frontMatter).handling},
	textField("source_reliability", func(d *BulletinDraft) *string { return &d.SourceReliability }),
	textField("info_reliability", func(d *BulletinDraft) *string { return &d.InfoReliability }),
	{"valid_until", (*frontMatter).validUntil},
	{"references", (*frontMatter).references},
	{"entities", (*frontMatter).entities},
	{"attachments", (*frontMatter).attachments},
	{"audience", func(f *frontMatter, v ast.Node) error { return f.textList(v, "audience", &f.d.Audience) }},
	{"request", (*frontMatter).request},
}

func textField(key string, dst func(*BulletinDraft) *string) frontMatterField {
	return frontMatterField{key, func(f *frontMatter, v ast.Node) error { return f.text(v, key, dst(f.d)) }}
}

func (f *frontMatter) decode(src []byte) error {
	if len(src) > MaxFrontMatterBytes {
		return &MarkdownError{Line: 1, Problem: fmt.Sprintf("the front matter is %d bytes, at most %d allowed", len(src), MaxFrontMatterBytes)}
	}
	if line := deepFlowLine(src); line > 0 {
		return &MarkdownError{Line: line + f.lineOffset, Problem: fmt.Sprintf("the front matter nests [ and { more than %d deep", maxFlowDepth)}
	}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return f.yamlError(err)
	}
	if len(file.Docs) > 1 {
		return f.errAt(file.Docs[1], "the front matter holds more than one YAML document")
	}
	if len(file.Docs) == 0 || isNull(file.Docs[0].Body) {
		return nil
	}
	return f.mapping(file.Docs[0].Body, "the front matter", FrontMatterKeys(), func(key string, v ast.Node) error {
		for _, field := range frontMatterFields {
			if field.key == key {
				return field.set(f, v)
			}
		}
		return nil // unreachable: mapping checked the key
	})
}

// deepFlowLine returns the line on which brackets and braces first nest
// deeper than maxFlowDepth, or 0. It counts them even inside quotes, which
// can only make it stricter than YAML on absurd text.
func deepFlowLine(src []byte) int {
	depth, line := 0, 1
	for _, c := range src {
		switch c {
		case '\n':
			line++
		case '[', '{':
			if depth++; depth > maxFlowDepth {
				return line
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return 0
}

func (f *frontMatter) yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return &MarkdownError{Line: ye.GetToken().Position.Line + f.lineOffset,
			Problem: "front matter is not valid YAML: " + ye.GetMessage()}
	}
	return &MarkdownError{Problem: "front matter is not valid YAML: " + err.Error()}
}

func (f *frontMatter) errAt(n ast.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line + f.lineOffset
		}
	}
	return &MarkdownError{Line: line, Problem: fmt.Sprintf(format, args...)}
}

// unwrap strips tags and anchors, and refuses aliases.
func (f *frontMatter) unwrap(n ast.Node) (ast.Node, error) {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			return nil, f.errAt(n, "YAML aliases (*name) are not allowed in front matter")
		default:
			return n, nil
		}
	}
}

func isNull(n ast.Node) bool {
	_, null := n.(*ast.NullNode)
	return n == nil || null
}

// scalar returns the text of a scalar exactly as written, so that numbers,
// booleans and dates stay the analyst's text.
func (f *frontMatter) scalar(n ast.Node, what string) (string, error) {
	n, err := f.unwrap(n)
	if err != nil {
		return "", err
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "", nil
	case *ast.StringNode:
		return strings.TrimSpace(v.Value), nil
	case *ast.LiteralNode:
		return strings.TrimSpace(v.Value.Value), nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, nil
	}
	return "", f.errAt(n, "%s must be text, not a %s", what, kind(n))
}

func kind(n ast.Node) string {
	switch n.(type) {
	case *ast.SequenceNode:
		return "list"
	case ast.MapNode:
		return "mapping"
	}
	return strings.ToLower(n.Type().String())
}

func (f *frontMatter) text(n ast.Node, what string, dst *string) error {
	s, err := f.scalar(n, what)
	*dst = s
	return err
}

// list returns the items of a sequence; null is the empty list.
func (f *frontMatter) list(n ast.Node, what string) ([]ast.Node, error) {
	n, err := f.unwrap(n)
	if err != nil || isNull(n) {
		return nil, err
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, f.errAt(n, "%s must be a list, such as [a, b] or lines starting with \"- \"", what)
	}
	return seq.Values, nil
}

func (f *frontMatter) textList(n ast.Node, what string, dst *[]string) error {
	items, err := f.list(n, what)
	if err != nil {
		return err
	}
	for i, item := range items {
		s, err := f.scalar(item, fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return err
		}
		*dst = append(*dst, s)
	}
	return nil
}

// mapping calls set for each key of a mapping, refusing keys not in allowed
// (any key is allowed when allowed is nil). Null is the empty mapping.
func (f *frontMatter) mapping(n ast.Node, what string, allowed []string, set func(key string, v ast.Node) error) error {
	n, err := f.unwrap(n)
	if err != nil || isNull(n) {
		return err
	}
	m, ok := n.(ast.MapNode)
	if !ok {
		return f.errAt(n, "%s must be a mapping of keys to values, not a %s", what, kind(n))
	}
	for it := m.MapRange(); it.Next(); {
		key, err := f.scalar(it.Key(), "a key in "+what)
		if err != nil {
			return err
		}
		if allowed != nil && !slices.Contains(allowed, key) {
			return f.errAt(it.Key(), "unknown key %q in %s; allowed keys: %s", key, what, strings.Join(allowed, ", "))
		}
		if err := set(key, it.Value()); err != nil {
			return err
		}
	}
	return nil
}

// handling accepts a bare code ("H2") or a mapping {code, restrictions}.
func (f *frontMatter) handling(n ast.Node) error {
	u, err := f.unwrap(n)
	if err != nil {
		return err
	}
	if _, isMap := u.(ast.MapNode); !isMap {
		return f.text(u, "handling", &f.d.Handling.Code)
	}
	return f.mapping(u, "handling", []string{"code", "restrictions"}, func(key string, v ast.Node) error {
		if key == "code" {
			return f.text(v, "handling.code", &f.d.Handling.Code)
		}
		return f.text(v, "handling.restrictions", &f.d.Handling.Restrictions)
	})
}

func (f *frontMatter) validUntil(n ast.Node) error {
	s, err := f.scalar(n, "valid_until")
	if err != nil || s == "" {
		return err
	}
	t, err := parseValidUntil(s)
	if err != nil {
		return f.errAt(n, "valid_until %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-12-31T18:00:00Z)", s)
	}
	f.d.ValidUntil = &t
	return nil
}

func parseValidUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

func (f *frontMatter) references(n ast.Node) error {
	r := &f.d.References
	lists := map[string]*[]string{"supersedes": &r.Supersedes, "extends": &r.Extends, "in_reply_to": &r.InReplyTo}
	return f.mapping(n, "references", []string{"supersedes", "extends", "in_reply_to"}, func(key string, v ast.Node) error {
		return f.textList(v, "references."+key, lists[key])
	})
}

func (f *frontMatter) entities(n ast.Node) error {
	items, err := f.list(n, "entities")
	if err != nil {
		return err
	}
	if len(items) > MaxEntities {
		return f.errAt(n, "entities lists %d entities, at most %d allowed", len(items), MaxEntities)
	}
	for i, item := range items {
		e, err := f.entity(item, fmt.Sprintf("entities[%d]", i))
		if err != nil {
			return err
		}
		f.d.Entities = append(f.d.Entities, e)
	}
	return nil
}

func (f *frontMatter) entity(n ast.Node, path string) (Entity, error) {
	var e Entity
	err := f.mapping(n, path, []string{"type", "value", "fields"}, func(key string, v ast.Node) error {
		switch key {
		case "type":
			return f.text(v, path+".type", &e.Type)
		case "value":
			return f.text(v, path+".value", &e.Value)
		}
		return f.mapping(v, path+".fields", nil, func(name string, v ast.Node) error {
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			s, err := f.scalar(v, fmt.Sprintf("%s.fields.%s", path, name))
			e.Fields[name] = s
			return err
		})
	})
	return e, err
}

func (f *frontMatter) attachments(n ast.Node) error {
	items, err := f.list(n, "attachments")
	if err != nil {
		return err
	}
	if len(items) > MaxAttachments {
		return f.errAt(n, "attachments lists %d files, at most %d allowed", len(items), MaxAttachments)
	}
	left := MaxAttachmentBytes
	for i, item := range items {
		path, err := f.scalar(item, fmt.Sprintf("attachments[%d]", i))
		if err != nil {
			return err
		}
		if path == "" {
			return f.errAt(item, "attachments[%d] is an empty file path", i)
		}
		data, err := f.read(path, left)
		if err != nil {
			return f.errAt(item, "attachment %q: %v", path, err)
		}
		left -= len(data)
		f.d.Attachments = append(f.d.Attachments, NewAttachment(filepath.Base(path), "", data))
	}
	return nil
}

// RenderMarkdown writes b as ParseMarkdown reads it, for reading and for
// editing into a revision. The header fields, which the node sets, become
// YAML comments; attachments are listed by name, so they resolve against
// the directory the attachments are saved in.
func RenderMarkdown(b *Bulletin) []byte {
	var w bytes.Buffer
	w.WriteString("---\n")
	fmt.Fprintf(&w, "# bulletin %s, version %d\n", oneLine(b.ID), b.Version)
	fmt.Fprintf(&w, "# created %s, modified %s\n", b.Created.Format(time.RFC3339), b.Modified.Format(time.RFC3339))
	fmt.Fprintf(&w, "# originator %s (%s), member %s", oneLine(b.Originator.Agency), oneLine(b.Originator.Country), oneLine(b.Originator.Member))
	if b.Originator.Contact != "" {
		fmt.Fprintf(&w, ", contact %s", oneLine(b.Originator.Contact))
	}
	w.WriteString("\n")
	writeFrontMatter(&w, &b.BulletinDraft)
	w.WriteString("---\n\n")
	if b.Body != "" {
		w.WriteString(b.Body)
		w.WriteString("\n")
	}
	return w.Bytes()
}

func writeFrontMatter(w *bytes.Buffer, d *BulletinDraft) {
	y := yamlWriter{w}
	y.field("", "title", d.Title)
	y.optional("", "summary", d.Summary)
	y.optional("", "category", d.Category)
	y.field("", "language", d.Language)
	y.field("", "tlp", d.TLP)
	if d.Handling.Restrictions == "" {
		y.field("", "handling", d.Handling.Code)
	} else {
		w.WriteString("handling:\n")
		y.field("  ", "code", d.Handling.Code)
		y.field("  ", "restrictions", d.Handling.Restrictions)
	}
	y.field("", "source_reliability", d.SourceReliability)
	y.field("", "info_reliability", d.InfoReliability)
	if d.ValidUntil != nil {
		y.field("", "valid_until", formatValidUntil(*d.ValidUntil))
	}
	if r := d.References; len(r.Supersedes)+len(r.Extends)+len(r.InReplyTo) > 0 {
		w.WriteString("references:\n")
		y.list("  ", "supersedes", r.Supersedes)
		y.list("  ", "extends", r.Extends)
		y.list("  ", "in_reply_to", r.InReplyTo)
	}
	y.entities(d.Entities)
	names := make([]string, len(d.Attachments))
	for i, a := range d.Attachments {
		names[i] = a.Name
	}
	y.list("", "attachments", names)
	y.list("", "audience", d.Audience)
	if r := d.Request; r != nil {
		w.WriteString("request:\n")
		y.field("  ", "due", r.Due.UTC().Format(time.RFC3339Nano))
		y.field("  ", "priority", r.Priority)
		y.list("  ", "to", r.To)
	}
}

// formatValidUntil writes a time at midnight UTC as the date it starts.
func formatValidUntil(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// yamlWriter writes block-style YAML that quotes whatever could be read
// back as anything but the same text.
type yamlWriter struct{ w *bytes.Buffer }

// field writes "key: value" after indent; multi-line text becomes a
// literal block indented two spaces past the key.
func (y yamlWriter) field(indent, key, value string) {
	y.w.WriteString(indent + yamlText(key) + ":")
	if !literalSafe(value) {
		y.w.WriteString(" " + yamlText(value) + "\n")
		return
	}
	y.w.WriteString(" |-\n")
	pad := strings.Repeat(" ", len(indent)+2)
	for _, line := range strings.Split(value, "\n") {
		if line != "" {
			y.w.WriteString(pad + line)
		}
		y.w.WriteString("\n")
	}
}

func (y yamlWriter) optional(indent, key, value string) {
	if value != "" {
		y.field(indent, key, value)
	}
}

func (y yamlWriter) list(indent, key string, items []string) {
	if len(items) == 0 {
		return
	}
	y.w.WriteString(indent + key + ":\n")
	for _, item := range items {
		y.w.WriteString(indent + "  - " + yamlText(item) + "\n")
	}
}

func (y yamlWriter) entities(entities []Entity) {
	if len(entities) == 0 {
		return
	}
	y.w.WriteString("entities:\n")
	for _, e := range entities {
		y.field("  - ", "type", e.Type)
		y.field("    ", "value", e.Value)
		if len(e.Fields) == 0 {
			continue
		}
		y.w.WriteString("    fields:\n")
		for _, name := range slices.Sorted(maps.Keys(e.Fields)) {
			y.field("      ", name, e.Fields[name])
		}
	}
}

// plainYAML matches text that YAML reads back unchanged without quotes
// (ParseMarkdown keeps numbers and booleans as written).
var plainYAML = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N} ._+@/(),'-]*[\p{L}\p{N}._+@/()'-])?$`)

func yamlText(s string) string {
	if plainYAML.MatchString(s) && !strings.EqualFold(s, "null") {
		return s
	}
	return strconv.Quote(s) // a Go quoted string is a valid YAML double-quoted one
}

// literalSafe reports whether multi-line text reads back unchanged from a
// literal block: no surrounding or trailing space, nothing but printable
// characters and newlines.
func literalSafe(s string) bool {
	if !strings.Contains(s, "\n") || strings.TrimSpace(s) != s {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " ") != line {
			return false
		}
		for _, r := range line {
			if !unicode.IsPrint(r) && r != ' ' {
				return false
			}
		}
	}
	return true
}

// oneLine flattens text for a YAML comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
