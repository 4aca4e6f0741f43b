package misp

import (
	"encoding/base64"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

// Fixed event settings. Distribution 0 (your organisation only) never
// widens what a MISP administrator chose: the feed's own distribution
// setting decides further sharing. Attributes inherit it (5).
const (
	analysisCompleted  = "2"
	threatUndefined    = "4"
	distOwnOrg         = "0"
	distInherit        = "5"
	categoryInternal   = "Internal reference"
	categoryAttachment = "External analysis"
)

// Meta attribute comments: the bulletin fields MISP has no place for,
// carried as Internal reference text attributes.
const (
	metaBulletinID   = "concord bulletin-id"
	metaSummary      = "concord summary"
	metaLanguage     = "concord language"
	metaRestrictions = "concord handling-restrictions"
	metaValidUntil   = "concord valid-until"
	metaSupersedes   = "concord supersedes"
	metaExtends      = "concord extends"
	metaInReplyTo    = "concord in-reply-to"
	metaAudience     = "concord audience"
	attachmentPrefix = "concord attachment "
)

// Events returns one MISP event per item, in the items' order. A revoked
// item (a tombstone) becomes a newer version of its event: tagged
// concord:revoked, its report deleted and a revocation notice in its place;
// WriteFeed marks the attributes the feed delivered before as deleted.
// now dates a revocation that carries no time.
func Events(items []interop.Item, now time.Time) ([]Event, error) {
	events := make([]Event, 0, len(items))
	for i, it := range items {
		if it.Bulletin == nil {
			return nil, fmt.Errorf("misp: item %d has no bulletin; pass the bulletin as the node holds it (a tombstone for a revoked one)", i)
		}
		if !protocol.ValidBulletinID(it.Bulletin.ID) {
			return nil, fmt.Errorf("misp: item %d: %q is not a bulletin ID", i, it.Bulletin.ID)
		}
		if it.Revoked {
			events = append(events, revokedEvent(it, now))
		} else {
			events = append(events, bulletinEvent(it.Bulletin))
		}
	}
	return events, nil
}

// eventHeader fills what every version of the event shares.
func eventHeader(b *protocol.Bulletin, ts time.Time) Event {
	stamp := unix(ts)
	return Event{
		UUID: EventUUID(b.ID), Date: b.Created.UTC().Format(time.DateOnly),
		Timestamp: stamp, PublishTimestamp: stamp, Published: true,
		Analysis: analysisCompleted, ThreatLevelID: threatUndefined, Distribution: distOwnOrg,
		Orgc:      Org{Name: b.Originator.Agency, UUID: OrgUUID(b.Originator.Member)},
		Attribute: []Attribute{}, Object: []Object{}, EventReport: []EventReport{},
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func bulletinEvent(b *protocol.Bulletin) Event {
	e := eventHeader(b, b.Modified)
	e.Info = b.Title
	e.Tag = bulletinTags(b)
	x := exporter{id: b.ID, stamp: e.Timestamp, seen: map[string]int{}}
	x.meta(b)
	for i, ent := range b.Entities {
		x.entity(i, ent)
	}
	for _, a := range b.Attachments {
		x.attachment(a)
	}
	e.Attribute, e.Object = x.attrs, x.objects
	if b.Body != "" {
		e.EventReport = []EventReport{{UUID: uuid5("bulletin/" + b.ID + "/report"), Name: b.Title,
			Content: b.Body, Distribution: distInherit, Timestamp: e.Timestamp}}
	}
	return e
}

func revokedEvent(it interop.Item, now time.Time) Event {
	b := it.Bulletin
	at := it.RevokedAt
	if at.IsZero() {
		at = now
	}
	if !at.After(b.Modified) {
		at = b.Modified.Add(time.Second) // MISP updates only what is newer
	}
	e := eventHeader(b, at)
	e.Info = "Revoked Concord bulletin " + b.ID
	e.Tag = []Tag{{RevokedTag}}
	if b.Category != "" {
		e.Tag = append(e.Tag, Tag{concordTag("category", b.Category)})
	}
	notice := fmt.Sprintf("Concord bulletin %s was revoked by its originator on %s.", b.ID, at.UTC().Format(time.RFC3339))
	if it.Reason != "" {
		notice += "\n\nReason: " + it.Reason
	}
	e.EventReport = []EventReport{
		{UUID: uuid5("bulletin/" + b.ID + "/report"), Name: "(revoked)", Content: "",
			Distribution: distInherit, Timestamp: e.Timestamp, Deleted: true},
		{UUID: uuid5("bulletin/" + b.ID + "/revocation"), Name: "Revocation",
			Content: notice, Distribution: distInherit, Timestamp: e.Timestamp},
	}
	return e
}

// exporter collects one bulletin's attributes and objects.
type exporter struct {
	id, stamp string
	seen      map[string]int // UUID names already used, for repeated entities
	attrs     []Attribute
	objects   []Object
}

// uuid returns a UUID for name, unique within the bulletin even when an
// entity appears twice.
func (x *exporter) uuid(name string) string {
	n := x.seen[name]
	x.seen[name] = n + 1
	if n > 0 {
		name += "#" + strconv.Itoa(n)
	}
	return uuid5("bulletin/" + x.id + "/" + name)
}

func (x *exporter) attr(name, typ, category, value, comment string) Attribute {
	return Attribute{UUID: x.uuid(name), Type: typ, Category: category, Value: value,
		Distribution: distInherit, Timestamp: x.stamp, Comment: comment}
}

func (x *exporter) metaAttr(comment, value string) {
	a := x.attr("meta/"+comment+"/"+value, "text", categoryInternal, value, comment)
	a.DisableCorrelation = comment != metaBulletinID
	x.attrs = append(x.attrs, a)
}

func (x *exporter) meta(b *protocol.Bulletin) {
	x.metaAttr(metaBulletinID, b.ID)
	x.metaAttr(metaLanguage, b.Language)
	if b.Summary != "" {
		x.metaAttr(metaSummary, b.Summary)
	}
	if b.Handling.Restrictions != "" {
		x.metaAttr(metaRestrictions, b.Handling.Restrictions)
	}
	if b.ValidUntil != nil {
		x.metaAttr(metaValidUntil, b.ValidUntil.UTC().Format(time.RFC3339Nano))
	}
	for _, l := range []struct {
		comment string
		ids     []string
	}{{metaSupersedes, b.References.Supersedes}, {metaExtends, b.References.Extends},
		{metaInReplyTo, b.References.InReplyTo}, {metaAudience, b.Audience}} {
		for _, id := range l.ids {
			x.metaAttr(l.comment, id)
		}
	}
}

func (x *exporter) entity(index int, ent protocol.Entity) {
	name := "entity/" + ent.Type + "/" + strings.ToLower(ent.Value)
	if m, ok := objectMapFor(ent.Type, ent.Fields); ok {
		if o := x.object(name, m, index, ent); len(o.Attribute) > 1 || !needsField[m.tmpl.name] {
			x.objects = append(x.objects, o)
			return
		}
	}
	k, ok := attrKinds[ent.Type]
	if ent.Type == "crypto-address" {
		k, ok = cryptoKind(ent.Value, ent.Fields), true
	}
	if !ok { // a type newer than this mapping: keep it readable
		k = attrKind{"text", "Other"}
	}
	x.attrs = append(x.attrs, x.attr(name, k.attrType, k.category, ent.Value, entityComment(ent.Type, index, ent.Fields)))
}

func (x *exporter) object(name string, m objectMap, index int, ent protocol.Entity) Object {
	uuid := x.uuid(name)
	o := Object{UUID: uuid, Name: m.tmpl.name, MetaCategory: m.tmpl.metaCategory,
		Description: m.tmpl.description, TemplateUUID: m.tmpl.uuid, TemplateVersion: m.tmpl.version,
		Distribution: distInherit, Timestamp: x.stamp}
	add := func(r relation, value string) {
		a := x.attr(name+"/"+r.relation, r.attrType, r.category, value, "")
		a.ObjectRelation = r.relation
		o.Attribute = append(o.Attribute, a)
	}
	add(m.value, ent.Value)
	rest := maps.Clone(ent.Fields)
	for _, r := range m.fields {
		if v, ok := rest[r.field]; ok && (r.ok == nil || r.ok(v)) {
			add(r, v)
			delete(rest, r.field)
		}
	}
	o.Comment = entityComment(ent.Type, index, rest)
	return o
}

func (x *exporter) attachment(a protocol.Attachment) {
	at := x.attr("attachment/"+a.Name, "attachment", categoryAttachment, a.Name, attachmentPrefix+a.MediaType)
	at.Data = base64.StdEncoding.EncodeToString(a.Data)
	x.attrs = append(x.attrs, at)
}

// Tag names of the Concord taxonomy (configs/misp-taxonomy-concord).
const (
	TaxonomyNamespace = "concord"
	RevokedTag        = "concord:revoked"
)

func concordTag(predicate, value string) string {
	return fmt.Sprintf("%s:%s=%q", TaxonomyNamespace, predicate, value)
}

// Closest admiralty-scale values (MISP's admiralty-scale taxonomy, a–g and
// 1–6) of the 4x4 grades. C is "not usually reliable", admiralty's d; the
// 4x4's "cannot be judged" grades are admiralty's f and 6.
var (
	admiraltySource = map[string]string{"A": "a", "B": "b", "C": "d", "X": "f"}
	admiraltyInfo   = map[string]string{"1": "1", "2": "2", "3": "3", "4": "6"}
)

func bulletinTags(b *protocol.Bulletin) []Tag {
	names := []string{
		"tlp:" + strings.ToLower(b.TLP),
		concordTag("handling", b.Handling.Code),
		concordTag("source-reliability", b.SourceReliability),
		concordTag("information-reliability", b.InfoReliability),
	}
	if b.Category != "" {
		names = append(names, concordTag("category", b.Category))
	}
	if v, ok := admiraltySource[b.SourceReliability]; ok {
		names = append(names, fmt.Sprintf("admiralty-scale:source-reliability=%q", v))
	}
	if v, ok := admiraltyInfo[b.InfoReliability]; ok {
		names = append(names, fmt.Sprintf("admiralty-scale:information-credibility=%q", v))
	}
	tags := make([]Tag, len(names))
	for i, n := range names {
		tags[i] = Tag{n}
	}
	return tags
}
