package misp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

// flex reads a JSON string, number or boolean as text: MISP writes ids,
// timestamps and flags as strings in files but as numbers or booleans in
// some API answers.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flex(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v.(type) {
	case float64, bool:
		*f = flex(string(b))
		return nil
	}
	return fmt.Errorf("want a string, number or boolean, not %s", b)
}

func (f flex) true() bool { return f == "true" || f == "1" }

type inTag struct {
	Name string `json:"name"`
}

type inAttr struct {
	UUID           flex   `json:"uuid"`
	Type           flex   `json:"type"`
	Category       flex   `json:"category"`
	Value          flex   `json:"value"`
	ObjectRelation flex   `json:"object_relation"`
	Comment        flex   `json:"comment"`
	Deleted        flex   `json:"deleted"`
	Data           string `json:"data"`
}

type inObject struct {
	Name      flex     `json:"name"`
	Comment   flex     `json:"comment"`
	Deleted   flex     `json:"deleted"`
	Attribute []inAttr `json:"Attribute"`
}

type inReport struct {
	Name    flex `json:"name"`
	Content flex `json:"content"`
	Deleted flex `json:"deleted"`
}

type inEvent struct {
	UUID        flex       `json:"uuid"`
	Info        flex       `json:"info"`
	Date        flex       `json:"date"`
	Orgc        *Org       `json:"Orgc"`
	Tag         []inTag    `json:"Tag"`
	Attribute   []inAttr   `json:"Attribute"`
	Object      []inObject `json:"Object"`
	EventReport []inReport `json:"EventReport"`
}

// Import reads MISP events: one ({"Event": …}), a list of them, or an API
// answer ({"response": […]}). Each becomes a draft; an event tagged
// concord:revoked (a revoked Concord bulletin) becomes none. Attributes
// and objects that are not Concord entities are listed in a Markdown
// appendix, "## Imported MISP attributes", so nothing is dropped silently.
func Import(data []byte) ([]interop.Draft, error) {
	events, err := decodeEvents(data)
	if err != nil {
		return nil, err
	}
	drafts := make([]interop.Draft, 0, len(events))
	for i, ev := range events {
		if ev.UUID == "" {
			return nil, fmt.Errorf("misp: event %d (%q) has no uuid: MISP events need one; export it again from MISP", i+1, string(ev.Info))
		}
		if strings.TrimSpace(string(ev.Info)) == "" {
			return nil, fmt.Errorf("misp: event %d (uuid %s) has no info: it is the event's title, which a bulletin needs; set it in MISP and export again", i+1, ev.UUID)
		}
		if hasTag(ev.Tag, RevokedTag) {
			continue
		}
		drafts = append(drafts, interop.Draft{Draft: importEvent(ev), Source: "misp-event:" + string(ev.UUID)})
	}
	return drafts, nil
}

// decodeEvents accepts the three shapes MISP produces.
func decodeEvents(data []byte) ([]inEvent, error) {
	data = bytes.TrimSpace(data)
	if !json.Valid(data) {
		return nil, fmt.Errorf("misp: input is not JSON: %w", jsonError(data))
	}
	if len(data) > 0 && data[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("misp: reading the list of events: %w", err)
		}
		return decodeList(list)
	}
	var top struct {
		Event    json.RawMessage `json:"Event"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, notMISP()
	}
	switch {
	case top.Event != nil:
		ev, err := decodeEvent(data, 1)
		return []inEvent{ev}, err
	case top.Response != nil:
		return decodeEvents(top.Response)
	}
	return nil, notMISP()
}

func notMISP() error {
	return fmt.Errorf(`misp: not a MISP event: want {"Event": {...}}, a list of them, or {"response": [...]} as MISP's API returns`)
}

func jsonError(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return fmt.Errorf("empty input")
}

func decodeList(list []json.RawMessage) ([]inEvent, error) {
	events := make([]inEvent, 0, len(list))
	for i, raw := range list {
		ev, err := decodeEvent(raw, i+1)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

func decodeEvent(raw []byte, n int) (inEvent, error) {
	var w struct {
		Event *inEvent `json:"Event"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return inEvent{}, fmt.Errorf("misp: event %d: %w", n, err)
	}
	if w.Event == nil {
		return inEvent{}, fmt.Errorf(`misp: item %d is not a MISP event: want {"Event": {...}}`, n)
	}
	return *w.Event, nil
}

func hasTag(tags []inTag, name string) bool {
	for _, t := range tags {
		if t.Name == name {
			return true
		}
	}
	return false
}

// importEvent maps one event to a draft. Grades default to "cannot be
// judged" (X, 4), handling to H2 and TLP to AMBER when the event does not
// say: the analyst reviews the draft before publishing it.
func importEvent(ev inEvent) protocol.BulletinDraft {
	d := protocol.BulletinDraft{Language: "en", TLP: "AMBER", Handling: protocol.Handling{Code: "H2"},
		SourceReliability: "X", InfoReliability: "4"}
	im := importer{draft: &d}
	d.Title = im.title(string(ev.Info))
	im.tags(ev.Tag)
	for _, a := range ev.Attribute {
		im.attribute(a)
	}
	for _, o := range ev.Object {
		im.object(o)
	}
	d.Body = im.body(ev)
	im.sortEntities()
	return d
}

// importer accumulates one draft and what it could not map.
type importer struct {
	draft    *protocol.BulletinDraft
	order    []int    // each entity's position in the bulletin, -1 if foreign
	concord  bool     // the event came from Concord: its body is its report only
	appendix []string // Markdown list items
}

func (im *importer) title(info string) string {
	info = strings.Join(strings.Fields(info), " ")
	if len(info) <= protocol.MaxTitleLen {
		return info
	}
	im.appendix = append(im.appendix, "- event info (the title, shortened): "+info)
	cut := protocol.MaxTitleLen - len("…")
	for !utf8.RuneStart(info[cut]) {
		cut--
	}
	return info[:cut] + "…"
}

var (
	sourceFromAdmiralty = map[string]string{"a": "A", "b": "B", "c": "C", "d": "C", "e": "C", "f": "X", "g": "C"}
	infoFromAdmiralty   = map[string]string{"1": "1", "2": "2", "3": "3", "4": "4", "5": "4", "6": "4"}
)

// tags reads TLP, the Concord taxonomy and, failing that, admiralty-scale.
func (im *importer) tags(tags []inTag) {
	d := im.draft
	var src, info string
	var unknown []string
	for _, t := range tags {
		ns, pred, val := splitTag(t.Name)
		switch {
		case ns == "tlp":
			if tlp, ok := tlpFromTag(pred); ok {
				d.TLP = tlp
			}
		case ns == TaxonomyNamespace:
			im.concord = true
			im.concordTag(pred, val)
		case ns == "admiralty-scale" && pred == "source-reliability":
			src = sourceFromAdmiralty[val]
		case ns == "admiralty-scale" && pred == "information-credibility":
			info = infoFromAdmiralty[val]
		default:
			unknown = append(unknown, "`"+t.Name+"`")
		}
	}
	if !im.concord && src != "" {
		d.SourceReliability = src
	}
	if !im.concord && info != "" {
		d.InfoReliability = info
	}
	if len(unknown) > 0 {
		im.appendix = append(im.appendix, "- tags: "+strings.Join(unknown, ", "))
	}
}

func (im *importer) concordTag(pred, val string) {
	d := im.draft
	switch pred {
	case "handling":
		d.Handling.Code = val
	case "source-reliability":
		d.SourceReliability = val
	case "information-reliability":
		d.InfoReliability = val
	} // category: the topic the draft is published on decides it
}

// splitTag splits namespace:predicate="value" (value optional).
func splitTag(name string) (ns, pred, val string) {
	ns, rest, _ := strings.Cut(name, ":")
	pred, quoted, _ := strings.Cut(rest, "=")
	val = strings.Trim(quoted, `"`)
	return strings.ToLower(ns), pred, val
}

func tlpFromTag(pred string) (string, bool) {
	switch p := strings.ToLower(pred); p {
	case "clear", "white":
		return "CLEAR", true
	case "green", "amber", "amber+strict", "red":
		return strings.ToUpper(p), true
	}
	return "", false
}

// body is the event's report, else (for a foreign event) a summary of it,
// followed by the appendix of what was not mapped.
func (im *importer) body(ev inEvent) string {
	var body string
	for _, r := range ev.EventReport {
		if !r.Deleted.true() && r.Content != "" {
			body = string(r.Content)
			break
		}
	}
	if body == "" && !im.concord {
		body = generatedSummary(ev)
	}
	if len(im.appendix) == 0 {
		return body
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(body, "\n"))
	b.WriteString("\n\n## Imported MISP attributes\n\n")
	for i, line := range im.appendix {
		if b.Len()+len(line)+100 > protocol.MaxBodyLen {
			fmt.Fprintf(&b, "- … and %d more not listed (the body's size limit)\n", len(im.appendix)-i)
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func generatedSummary(ev inEvent) string {
	s := fmt.Sprintf("Imported from MISP event %s", ev.UUID)
	if ev.Orgc != nil && ev.Orgc.Name != "" {
		s += " created by " + ev.Orgc.Name
	}
	if ev.Date != "" {
		s += ", dated " + string(ev.Date)
	}
	return s + "."
}

// attribute maps one event-level attribute: Concord metadata, an entity,
// an attachment, or a line of the appendix.
func (im *importer) attribute(a inAttr) {
	if a.Deleted.true() {
		return
	}
	value, comment := string(a.Value), string(a.Comment)
	switch {
	case strings.HasPrefix(comment, "concord ") && a.Category == categoryInternal && im.meta(comment, value):
	case a.Type == "attachment" && im.attachmentOf(a):
	default:
		if ent, at, ok := entityOf(a); ok && im.addEntity(ent, at) {
			return
		}
		im.unmapped(a, "")
	}
}

func (im *importer) meta(comment, value string) bool {
	d := im.draft
	switch comment {
	case metaBulletinID:
		im.concord = true
	case metaSummary:
		d.Summary = value
	case metaLanguage:
		d.Language = value
	case metaRestrictions:
		d.Handling.Restrictions = value
	case metaValidUntil:
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return false
		}
		d.ValidUntil = &t
	case metaSupersedes:
		d.References.Supersedes = append(d.References.Supersedes, value)
	case metaExtends:
		d.References.Extends = append(d.References.Extends, value)
	case metaInReplyTo:
		d.References.InReplyTo = append(d.References.InReplyTo, value)
	case metaAudience:
		d.Audience = append(d.Audience, value)
	default:
		return false
	}
	return true
}

func (im *importer) attachmentOf(a inAttr) bool {
	data, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil || len(data) == 0 || len(im.draft.Attachments) >= protocol.MaxAttachments {
		return false
	}
	mediaType, _ := strings.CutPrefix(string(a.Comment), attachmentPrefix)
	if mediaType == string(a.Comment) {
		mediaType = "" // a foreign comment: guess from the name
	}
	im.draft.Attachments = append(im.draft.Attachments, protocol.NewAttachment(string(a.Value), mediaType, data))
	return true
}

// foreignEntity maps the attribute types of other MISP producers.
var foreignEntity = map[string]string{
	"phone-number": "phone", "email": "email", "email-src": "email", "email-dst": "email",
	"iban": "iban", "btc": "crypto-address", "xmr": "crypto-address", "passport-number": "passport",
	"identity-card-number": "id-document", "full-name": "person",
}

func entityOf(a inAttr) (protocol.Entity, int, bool) {
	value := string(a.Value)
	if t, at, fields, ok := parseEntityComment(string(a.Comment)); ok {
		return protocol.Entity{Type: t, Value: value, Fields: fields}, at, true
	}
	t, ok := foreignEntity[string(a.Type)]
	if !ok {
		return protocol.Entity{}, 0, false
	}
	ent := protocol.Entity{Type: t, Value: value}
	if t == "crypto-address" {
		ent.Fields = map[string]string{"currency": strings.ToUpper(string(a.Type))}
	}
	return ent, -1, true
}

// addEntity adds ent, at its position in the bulletin (-1: unknown), if
// it is valid and room is left.
func (im *importer) addEntity(ent protocol.Entity, at int) bool {
	d := im.draft
	if len(d.Entities) >= protocol.MaxEntities {
		return false
	}
	// A draft valid but for its entity: Validate then judges the entity alone.
	probe := protocol.BulletinDraft{Title: "probe", Language: "en", TLP: "CLEAR",
		Handling: protocol.Handling{Code: "H0"}, SourceReliability: "X", InfoReliability: "4",
		Entities: []protocol.Entity{ent}}
	if probe.Validate() != nil {
		return false
	}
	d.Entities = append(d.Entities, ent)
	im.order = append(im.order, at)
	return true
}

// sortEntities restores the bulletin's entity order, which MISP loses by
// keeping attributes and objects apart; foreign entities keep theirs, last.
func (im *importer) sortEntities() {
	if len(im.order) == 0 {
		return
	}
	idx := make([]int, len(im.order))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) int {
		if im.order[i] < 0 {
			return protocol.MaxEntities + i
		}
		return im.order[i]
	}
	slices.SortStableFunc(idx, func(a, b int) int { return key(a) - key(b) })
	sorted := make([]protocol.Entity, len(idx))
	for i, j := range idx {
		sorted[i] = im.draft.Entities[j]
	}
	im.draft.Entities = sorted
}

func (im *importer) unmapped(a inAttr, object string) {
	line := fmt.Sprintf("- %s`%s` (%s): %s", object, a.Type, a.Category, mdInline(string(a.Value)))
	if a.Comment != "" {
		line += " — " + mdInline(string(a.Comment))
	}
	im.appendix = append(im.appendix, line)
}

// mdInline keeps a value on one Markdown line.
func mdInline(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		cut := 500
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// object maps an object of a known template to an entity; any other
// object, or one without a value, goes to the appendix attribute by
// attribute.
func (im *importer) object(o inObject) {
	if o.Deleted.true() {
		return
	}
	if ent, at, ok := entityOfObject(o); ok && im.addEntity(ent, at) {
		return
	}
	for _, a := range o.Attribute {
		if !a.Deleted.true() {
			im.unmapped(a, fmt.Sprintf("object %s, %s: ", o.Name, a.ObjectRelation))
		}
	}
}

func entityOfObject(o inObject) (protocol.Entity, int, bool) {
	var m objectMap
	found := false
	for _, cand := range objectMaps {
		if cand.tmpl.name == string(o.Name) {
			m, found = cand, true
			break
		}
	}
	if !found {
		return protocol.Entity{}, 0, false
	}
	ent := protocol.Entity{Type: m.entity, Fields: map[string]string{}}
	at := -1
	if t, i, fields, ok := parseEntityComment(string(o.Comment)); ok && t == m.entity {
		at = i
		for k, v := range fields {
			ent.Fields[k] = v
		}
	}
	for _, a := range o.Attribute {
		if a.Deleted.true() {
			continue
		}
		rel, v := string(a.ObjectRelation), string(a.Value)
		if rel == m.value.relation {
			ent.Value = v
		} else if f := fieldOf(m, rel); f != "" {
			ent.Fields[f] = v
		} else if rel != "" {
			ent.Fields[rel] = v // a relation Concord does not map keeps its MISP name
		}
	}
	if ent.Value == "" && m.entity == "person" {
		ent.Value = strings.TrimSpace(ent.Fields["first-name"] + " " + ent.Fields["last-name"])
	}
	if len(ent.Fields) == 0 {
		ent.Fields = nil
	}
	return ent, at, ent.Value != ""
}

func fieldOf(m objectMap, rel string) string {
	for _, r := range m.fields {
		if r.relation == rel {
			return r.field
		}
	}
	return ""
}
