package stix

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/internal/iso3166"
	"github.com/concordnet/concord/interop"
	"github.com/concordnet/concord/protocol"
)

// object is one STIX object; encoding/json writes map keys sorted, which
// keeps the output deterministic.
type object = map[string]any

// exporter gathers the objects of one bundle, deduplicated by ID.
type exporter struct {
	objects     map[string]object
	originators map[string]*originator // by identity ID
	markings    map[string]bool        // TLP labels used
}

// originator is an agency whose identity the bundle holds, with what its
// shared objects take from its bulletins.
type originator struct {
	o       protocol.Originator
	created time.Time // earliest bulletin: dates the identity
	tlp     string    // most restrictive TLP of its bulletins
}

// Export returns one STIX 2.1 bundle holding the items: per bulletin a
// report, its entities and attachments; per originator an identity in its
// State; the TLP 2.0 marking-definitions used; the Concord
// extension-definition. The same items give the same bytes: IDs are
// UUIDv5 of bulletin IDs and entities, objects are sorted by ID. now dates
// a revocation whose time is unknown.
func Export(items []interop.Item, now time.Time) ([]byte, error) {
	e := &exporter{objects: map[string]object{}, originators: map[string]*originator{}, markings: map[string]bool{}}
	for i, it := range items {
		if it.Bulletin == nil {
			return nil, fmt.Errorf("stix: items[%d] has no bulletin: pass the bulletin or its tombstone", i)
		}
		if !protocol.ValidBulletinID(it.Bulletin.ID) {
			return nil, fmt.Errorf("stix: items[%d]: %q is not a bulletin ID", i, it.Bulletin.ID)
		}
		if err := e.item(it, now); err != nil {
			return nil, fmt.Errorf("stix: bulletin %s: %w", it.Bulletin.ID, err)
		}
	}
	e.finish()
	list := make([]object, 0, len(e.objects))
	var seed strings.Builder
	for _, id := range slices.Sorted(maps.Keys(e.objects)) {
		o := e.objects[id]
		list = append(list, o)
		fmt.Fprintf(&seed, "%s %v\n", id, o["modified"])
	}
	return json.Marshal(object{"type": "bundle", "id": stixID("bundle", seed.String()), "objects": list})
}

// add puts o in the bundle; of two objects with one ID, the latest
// version (greatest modified) wins, so a revision supersedes.
func (e *exporter) add(o object) {
	id := o["id"].(string)
	if old, ok := e.objects[id]; ok && cmp.Compare(fmt.Sprint(old["modified"]), fmt.Sprint(o["modified"])) > 0 {
		return
	}
	e.objects[id] = o
}

func (e *exporter) item(it interop.Item, now time.Time) error {
	b := it.Bulletin
	orgID := e.originator(b)
	if it.Revoked {
		e.add(revokedReport(it, orgID, now))
		return nil
	}
	if _, ok := tlpRank[b.TLP]; !ok {
		return fmt.Errorf("TLP %q is not a TLP 2.0 label (%s)", b.TLP, strings.Join(protocol.TLPLabels(), ", "))
	}
	e.markings[b.TLP] = true
	if o := e.originators[orgID]; tlpRank[b.TLP] > tlpRank[o.tlp] {
		o.tlp = b.TLP
	}
	marking := []string{TLPMarkings[b.TLP]}
	refs := []string{orgID, locationID(b.Originator.Country), locatedAtID(orgID)}
	seen := map[string]bool{}
	for _, en := range b.Entities {
		o := entityObject(b, en, seen)
		o["object_marking_refs"] = marking
		e.add(o)
		refs = append(refs, o["id"].(string))
	}
	for _, a := range b.Attachments {
		o := artifact(b.ID, a)
		o["object_marking_refs"] = marking
		e.add(o)
		refs = append(refs, o["id"].(string))
	}
	// object_refs keep the bulletin's order of entities and attachments,
	// which an import gives back.
	e.add(report(it, orgID, refs))
	return nil
}

func report(it interop.Item, orgID string, refs []string) object {
	b := it.Bulletin
	o := sdo("report", stixID("report", b.ID), b.Created, b.Modified)
	o["name"] = b.Title
	if d := description(b.Summary, b.Body); d != "" {
		o["description"] = d
	}
	o["published"] = timestamp(b.Created)
	o["lang"] = b.Language
	o["created_by_ref"] = orgID
	o["object_refs"] = refs
	o["object_marking_refs"] = []string{TLPMarkings[b.TLP]}
	o["external_references"] = []object{{"source_name": "concord", "external_id": b.ID}}
	if b.Category != "" {
		o["labels"] = []string{b.Category}
	}
	ext := object{"extension_type": "property-extension", "bulletin_id": b.ID, "bulletin_version": b.Version,
		"handling_code": b.Handling.Code, "source_reliability": b.SourceReliability, "info_reliability": b.InfoReliability}
	setNonEmpty(ext, "category", b.Category)
	setNonEmpty(ext, "summary", b.Summary)
	setNonEmpty(ext, "handling_restrictions", b.Handling.Restrictions)
	setNonEmpty(ext, "topic", it.Topic)
	setNonEmpty(ext, "topic_name", it.TopicName)
	if b.ValidUntil != nil {
		ext["valid_until"] = b.ValidUntil.UTC().Format(time.RFC3339Nano)
	}
	setList(ext, "audience", b.Audience)
	setList(ext, "supersedes", b.References.Supersedes)
	setList(ext, "extends", b.References.Extends)
	setList(ext, "in_reply_to", b.References.InReplyTo)
	o["extensions"] = object{ExtensionID: ext}
	return o
}

// description is what a report's description holds: the summary, a
// blank line, the body (the summary is also in the extension, to split
// them again on import).
func description(summary, body string) string {
	switch {
	case summary == "":
		return body
	case body == "":
		return summary
	}
	return summary + "\n\n" + body
}

// revokedReport is the last version of a revoked bulletin's report: its
// content is erased, so it names the bulletin and says why.
func revokedReport(it interop.Item, orgID string, now time.Time) object {
	b := it.Bulletin
	at := it.RevokedAt
	if at.IsZero() {
		at = now
	}
	if !at.Truncate(time.Millisecond).After(b.Modified.Truncate(time.Millisecond)) {
		at = b.Modified.Add(time.Millisecond) // a new version must be later
	}
	o := sdo("report", stixID("report", b.ID), b.Created, at)
	o["name"] = "(revoked) " + b.ID
	o["published"] = timestamp(b.Created)
	o["revoked"] = true
	o["created_by_ref"] = orgID
	o["object_refs"] = []string{orgID}
	o["external_references"] = []object{{"source_name": "concord", "external_id": b.ID}}
	ext := object{"extension_type": "property-extension", "bulletin_id": b.ID, "bulletin_version": b.Version}
	if it.Reason != "" {
		o["description"] = "Revoked: " + it.Reason
		ext["revocation_reason"] = it.Reason
	}
	setNonEmpty(ext, "category", b.Category)
	setNonEmpty(ext, "topic", it.Topic)
	o["extensions"] = object{ExtensionID: ext}
	return o
}

// originator records b's originator and returns its identity's ID.
func (e *exporter) originator(b *protocol.Bulletin) string {
	id := stixID("identity", "originator", b.Originator.Member)
	o, ok := e.originators[id]
	if !ok {
		o = &originator{o: b.Originator, created: b.Created}
		e.originators[id] = o
	}
	if b.Created.Before(o.created) {
		o.created, o.o = b.Created, b.Originator
	}
	return id
}

// finish adds the objects shared by bulletins: originators, their
// States, the markings used and the Concord extension-definition.
func (e *exporter) finish() {
	for id, org := range e.originators {
		var marking []string
		if org.tlp != "" {
			marking = []string{TLPMarkings[org.tlp]}
		}
		for _, o := range originatorObjects(id, org) {
			if marking != nil {
				o["object_marking_refs"] = marking
			}
			e.add(o)
		}
	}
	for label := range e.markings {
		e.add(tlpMarking(label))
	}
	e.add(concordIdentityObject())
	e.add(extensionDefinition())
}

// originatorObjects returns the agency's identity, its State as a
// location (alpha-2 country, as STIX wants) and the located-at
// relationship between them.
func originatorObjects(id string, org *originator) []object {
	ident := sdo("identity", id, org.created, org.created)
	ident["name"] = org.o.Agency
	ident["identity_class"] = "organization"
	setNonEmpty(ident, "contact_information", org.o.Contact)
	ident["extensions"] = object{ExtensionID: object{"extension_type": "property-extension",
		"member": org.o.Member, "country": org.o.Country}}
	loc := sdo("location", locationID(org.o.Country), org.created, org.created)
	loc["country"] = org.o.Country
	if a, ok := iso3166.Alpha2(org.o.Country); ok {
		loc["country"] = a
	}
	loc["name"] = org.o.Country
	rel := sdo("relationship", locatedAtID(id), org.created, org.created)
	rel["relationship_type"] = "located-at"
	rel["source_ref"] = id
	rel["target_ref"] = loc["id"]
	return []object{ident, loc, rel}
}

func locationID(country string) string { return stixID("location", "country", country) }
func locatedAtID(orgID string) string  { return stixID("relationship", "located-at", orgID) }

// tlpMarking returns the TLP 2.0 marking-definition exactly as OASIS
// publishes it (cti-stix-common-objects, extension-definition--60a3c5c5…).
func tlpMarking(label string) object {
	return object{"type": "marking-definition", "spec_version": "2.1", "id": TLPMarkings[label],
		"created": tlp2Created, "name": "TLP:" + label,
		"extensions": object{tlp2Extension: object{"extension_type": "property-extension", "tlp_2_0": strings.ToLower(label)}}}
}

func concordIdentityObject() object {
	o := object{"type": "identity", "spec_version": "2.1", "id": concordIdentity,
		"created": extensionCreated, "modified": extensionCreated}
	o["name"] = "Concord"
	o["identity_class"] = "system"
	o["description"] = "Concord, the intelligence bulletin network: author of the Concord STIX extension."
	return o
}

func extensionDefinition() object {
	return object{"type": "extension-definition", "spec_version": "2.1", "id": ExtensionID,
		"created": extensionCreated, "modified": extensionCreated, "created_by_ref": concordIdentity,
		"name":            "Concord bulletins",
		"description":     "Concord bulletin properties STIX has no place for (handling code, 4x4 grading, references, summary, audience), the Concord type of entities, and the concord-entity SCO for entities STIX has no object for (phone, IBAN, vessel, vehicle, aircraft, passport, id-document, crypto-address, firearm, other).",
		"schema":          ExtensionSchemaURL,
		"version":         "1.0.0",
		"extension_types": []string{"new-sco", "property-extension"}}
}

// sdo starts a STIX domain or relationship object.
func sdo(typ, id string, created, modified time.Time) object {
	return object{"type": typ, "spec_version": "2.1", "id": id,
		"created": timestamp(created), "modified": timestamp(modified)}
}

func setNonEmpty(o object, key, v string) {
	if v != "" {
		o[key] = v
	}
}

// setList sets a list property only when non-empty: STIX lists have at
// least one item.
func setList(o object, key string, v []string) {
	if len(v) > 0 {
		o[key] = v
	}
}

// mimeType is what artifact.json accepts as mime_type.
var mimeType = regexp.MustCompile(`^(application|audio|font|image|message|model|multipart|text|video)/[a-zA-Z0-9.+_-]+`)

// artifact carries an attachment: its bytes in payload_bin, its digest in
// hashes, its file name in the Concord extension (artifact has no name).
func artifact(bulletinID string, a protocol.Attachment) object {
	o := object{"type": "artifact", "spec_version": "2.1", "id": stixID("artifact", bulletinID, "attachment", a.Name),
		"payload_bin": base64.StdEncoding.EncodeToString(a.Data), "hashes": object{"SHA-256": a.SHA256},
		"extensions": object{ExtensionID: object{"extension_type": "property-extension", "file_name": a.Name}}}
	if mimeType.MatchString(a.MediaType) {
		o["mime_type"] = a.MediaType
	}
	return o
}
