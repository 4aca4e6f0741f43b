package stix

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

// What a draft gets when the bundle does not say: handling H2 (the CLI's
// default), grading X/4 ("cannot be judged" in the 4x4), TLP AMBER
// (unmarked content is not shared beyond the recipients' organisations
// until an analyst decides), language English.
const (
	defaultHandling   = "H2"
	defaultSource     = "X"
	defaultInfo       = "4"
	defaultTLP        = "AMBER"
	defaultLanguage   = "en"
	appendixHeading   = "## Imported STIX objects"
	maxAppendixValue  = 200
	untitledReport    = "Untitled STIX report"
	bundleTitlePrefix = "STIX bundle "
)

var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// Import reads a STIX 2.1 bundle, validated first as Validate does, and
// returns one draft per report that is not revoked (a revoked report
// cannot become a new bulletin), or, when the bundle has no report, one
// draft for the whole bundle. A draft takes the report's name, its
// description (split into summary and body when the Concord extension
// says how), the most restrictive TLP of the report and of what it
// includes, the Concord extension's handling, grading, references,
// audience and validity, entities from the observables and identities it
// recognises, attachments from artifacts, and lists every other object
// under "## Imported STIX objects" in the body. Source is the report's ID
// (or the bundle's).
func Import(data []byte) ([]interop.Draft, error) {
	bundleID, objects, err := parseBundle(data)
	if err != nil {
		return nil, err
	}
	in := newImporter(objects)
	var drafts []interop.Draft
	for _, r := range in.reports {
		if r["revoked"] == true {
			continue
		}
		d, err := in.draft(r, refs(r))
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
	}
	if len(in.reports) == 0 {
		d, err := in.bundleDraft(bundleID)
		if err != nil {
			return nil, err
		}
		drafts = append(drafts, d)
	}
	return drafts, nil
}

// importer indexes a bundle's objects.
type importer struct {
	byID       map[string]object
	reports    []object // latest version of each, by ID
	referenced map[string]bool
	meta       map[string]bool // IDs the drafts carry otherwise (markings, originators…)
	leftover   bool            // unreferenced objects already listed
}

func newImporter(objects []object) *importer {
	in := &importer{byID: map[string]object{}, referenced: map[string]bool{}, meta: map[string]bool{}}
	for _, o := range objects {
		id := str(o, "id")
		if old, ok := in.byID[id]; ok && str(old, "modified") >= str(o, "modified") {
			continue // keep the latest version
		}
		in.byID[id] = o
	}
	for _, id := range slices.Sorted(maps.Keys(in.byID)) {
		o := in.byID[id]
		switch str(o, "type") {
		case "report":
			in.reports = append(in.reports, o)
			for _, r := range refs(o) {
				in.referenced[r] = true
			}
		case "marking-definition", "extension-definition":
			in.meta[id] = true
		case "identity":
			in.markOriginator(o)
		}
	}
	in.meta[concordIdentity] = true
	return in
}

// markOriginator recognises a Concord originator's identity and the
// objects placing it in its State: the report's created_by_ref says it.
func (in *importer) markOriginator(o object) {
	ext, ok := extensionOf(o)
	if !ok || str(ext, "member") == "" {
		return
	}
	id := str(o, "id")
	in.meta[id] = true
	in.meta[locationID(str(ext, "country"))] = true
	in.meta[locatedAtID(id)] = true
}

func refs(o object) []string {
	list, _ := o["object_refs"].([]any)
	out := make([]string, 0, len(list))
	for _, r := range list {
		if s, ok := r.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// draftBuilder accumulates one draft.
type draftBuilder struct {
	d        protocol.BulletinDraft
	tlp      string
	appendix []string
	total    int // attachment bytes
}

func (in *importer) draft(r object, ids []string) (interop.Draft, error) {
	b := &draftBuilder{}
	ext, hasExt := extensionOf(r)
	b.d.Title = line(cmp.Or(strings.TrimSpace(str(r, "name")), untitledReport), protocol.MaxTitleLen)
	b.d.Summary, b.d.Body = splitDescription(str(r, "description"), str(ext, "summary"))
	b.d.Language = defaultLanguage
	if l := str(r, "lang"); languageTag.MatchString(l) && len(l) <= 35 {
		b.d.Language = l
	}
	b.mark(in, r)
	b.grading(ext)
	if hasExt {
		b.extras(ext)
	}
	for _, id := range ids {
		in.include(b, id)
	}
	if !in.leftover {
		in.leftover = true
		for _, id := range slices.Sorted(maps.Keys(in.byID)) {
			if o := in.byID[id]; !in.referenced[id] && !in.meta[id] && str(o, "type") != "report" {
				b.note(o, "in the bundle, no report refers to it")
			}
		}
	}
	return b.finish(str(r, "id"))
}

// bundleDraft makes one draft of a bundle without report: every object
// is included as if a report referred to it.
func (in *importer) bundleDraft(bundleID string) (interop.Draft, error) {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(in.byID)) {
		if !in.meta[id] {
			ids = append(ids, id)
		}
	}
	in.leftover = true
	r := object{"id": bundleID, "name": bundleTitlePrefix + bundleID}
	return in.draft(r, ids)
}

func (in *importer) include(b *draftBuilder, id string) {
	if in.meta[id] {
		return
	}
	o, ok := in.byID[id]
	if !ok {
		b.appendix = append(b.appendix, fmt.Sprintf("- `%s`: referred to but not in the bundle", id))
		return
	}
	if str(o, "type") == "artifact" && b.attachment(o) {
		b.mark(in, o)
		return
	}
	if en, ok := entityFrom(o); ok && b.entity(en) {
		b.mark(in, o)
		return
	}
	b.note(o, "")
}

// mark raises the draft's TLP to that of o's markings.
func (b *draftBuilder) mark(in *importer, o object) {
	list, _ := o["object_marking_refs"].([]any)
	for _, m := range list {
		id, _ := m.(string)
		if tlp := in.tlpOf(id); tlp != "" && (b.tlp == "" || tlpRank[tlp] > tlpRank[b.tlp]) {
			b.tlp = tlp
		}
	}
}

// tlpOf returns the TLP label a marking-definition ID stands for: the
// OASIS TLP 2.0 and 1.0 IDs, OpenCTI's, or a marking in the bundle named
// TLP:… or defined as TLP.
func (in *importer) tlpOf(id string) string {
	for label, mid := range TLPMarkings {
		if mid == id {
			return label
		}
	}
	if label, ok := importMarkings[id]; ok {
		return label
	}
	m, ok := in.byID[id]
	if !ok {
		return ""
	}
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(str(m, "name")), "TLP:"))
	if def, ok := m["definition"].(map[string]any); ok && str(m, "definition_type") == "tlp" {
		name = strings.ToUpper(str(def, "tlp"))
	}
	if name == "WHITE" {
		name = "CLEAR"
	}
	if _, ok := tlpRank[name]; ok {
		return name
	}
	return ""
}

func (b *draftBuilder) grading(ext object) {
	b.d.Handling.Code = oneOf(str(ext, "handling_code"), protocol.HandlingCodes(), defaultHandling)
	if b.d.Handling.Code == "H3" {
		b.d.Handling.Restrictions = str(ext, "handling_restrictions")
	}
	b.d.SourceReliability = oneOf(str(ext, "source_reliability"), protocol.SourceReliabilities(), defaultSource)
	b.d.InfoReliability = oneOf(str(ext, "info_reliability"), protocol.InfoReliabilities(), defaultInfo)
}

func oneOf(v string, allowed []string, def string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return def
}

// extras restores what only the Concord extension carries.
func (b *draftBuilder) extras(ext object) {
	if t, err := time.Parse(time.RFC3339Nano, str(ext, "valid_until")); err == nil {
		t = t.UTC()
		b.d.ValidUntil = &t
	}
	b.d.Audience = stringList(ext["audience"])
	b.d.References.Supersedes = stringList(ext["supersedes"])
	b.d.References.Extends = stringList(ext["extends"])
	b.d.References.InReplyTo = stringList(ext["in_reply_to"])
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// attachment adds an artifact's payload as an attachment, within the
// bulletin's limits; false leaves it for the appendix.
func (b *draftBuilder) attachment(o object) bool {
	data, err := base64.StdEncoding.DecodeString(str(o, "payload_bin"))
	if err != nil || len(data) == 0 || len(b.d.Attachments) >= protocol.MaxAttachments ||
		b.total+len(data) > protocol.MaxAttachmentBytes {
		return false
	}
	ext, _ := extensionOf(o)
	name := str(ext, "file_name")
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		name = strings.TrimPrefix(str(o, "id"), "artifact--")
	}
	name = line(name, protocol.MaxAttachmentNameLen)
	if slices.ContainsFunc(b.d.Attachments, func(a protocol.Attachment) bool { return a.Name == name }) {
		return false
	}
	b.total += len(data)
	b.d.Attachments = append(b.d.Attachments, protocol.NewAttachment(name, str(o, "mime_type"), data))
	return true
}

// entity adds en if the bulletin's limits allow; false leaves it for the
// appendix.
func (b *draftBuilder) entity(en protocol.Entity) bool {
	if len(b.d.Entities) >= protocol.MaxEntities || len(en.Fields) > protocol.MaxEntityFields {
		return false
	}
	en.Value = line(en.Value, protocol.MaxEntityValueLen)
	for k, v := range en.Fields {
		if len(k) > protocol.MaxFieldNameLen || strings.TrimSpace(k) == "" {
			delete(en.Fields, k)
			continue
		}
		en.Fields[k] = line(v, protocol.MaxEntityValueLen)
	}
	if strings.TrimSpace(en.Value) == "" {
		return false
	}
	b.d.Entities = append(b.d.Entities, en)
	return true
}

// note lists o in the appendix: its type, ID and name or value.
func (b *draftBuilder) note(o object, why string) {
	s := fmt.Sprintf("- `%s` `%s`", line(str(o, "type"), 64), line(str(o, "id"), 128))
	v := cmp.Or(str(o, "name"), str(o, "value"), str(o, "pattern"))
	if r := str(o, "relationship_type"); r != "" {
		v = fmt.Sprintf("%s %s %s", str(o, "source_ref"), r, str(o, "target_ref"))
	}
	if v != "" {
		s += ": " + line(v, maxAppendixValue)
	}
	if why != "" {
		s += " (" + why + ")"
	}
	b.appendix = append(b.appendix, s)
}

func (b *draftBuilder) finish(source string) (interop.Draft, error) {
	b.d.TLP = b.tlp
	if b.tlp == "" {
		b.d.TLP = defaultTLP
		b.appendix = append(b.appendix, "- no TLP marking in the bundle: the draft says AMBER; review it")
	}
	if len(b.appendix) > 0 {
		b.d.Body = strings.TrimRight(b.d.Body, "\n") + "\n\n" + appendixHeading + "\n\n" + strings.Join(b.appendix, "\n") + "\n"
		b.d.Body = strings.TrimLeft(b.d.Body, "\n")
	}
	b.d.Summary = text(b.d.Summary, protocol.MaxSummaryLen)
	b.d.Body = text(b.d.Body, protocol.MaxBodyLen)
	if err := b.d.Validate(); err != nil {
		return interop.Draft{}, fmt.Errorf("stix: %s does not make a valid bulletin draft: %v; edit the object or import a smaller one", source, err)
	}
	return interop.Draft{Draft: b.d, Source: source}, nil
}

// splitDescription undoes description(): with the exported summary the
// body is what follows it; without, it is all body.
func splitDescription(desc, summary string) (string, string) {
	switch {
	case summary == "":
		return "", desc
	case desc == summary:
		return summary, ""
	case strings.HasPrefix(desc, summary+"\n\n"):
		return summary, desc[len(summary)+2:]
	}
	return summary, desc
}

// line makes s a single line without control characters, at most max
// bytes.
func line(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return truncate(s, max)
}

// text keeps newlines and tabs, drops other control characters and cuts
// at max bytes.
func text(s string, max int) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return truncate(s, max)
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
