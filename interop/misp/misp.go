package misp

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Event is one MISP event. json.Marshal writes it in the MISP file format,
// {"Event": {...}}, with strings for every timestamp and enumeration as
// MISP's core format requires.
type Event struct {
	UUID             string        `json:"uuid"`
	Info             string        `json:"info"`
	Date             string        `json:"date"` // YYYY-MM-DD
	Timestamp        string        `json:"timestamp"`
	PublishTimestamp string        `json:"publish_timestamp"`
	Published        bool          `json:"published"`
	Analysis         string        `json:"analysis"`        // 0 initial, 1 ongoing, 2 completed
	ThreatLevelID    string        `json:"threat_level_id"` // 1 high … 4 undefined
	Distribution     string        `json:"distribution"`    // 0 your organisation only … 5 inherit
	Orgc             Org           `json:"Orgc"`
	Tag              []Tag         `json:"Tag"`
	Attribute        []Attribute   `json:"Attribute"`
	Object           []Object      `json:"Object"`
	EventReport      []EventReport `json:"EventReport"`
}

// Org is an organisation: the event's creator (Orgc).
type Org struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// Tag is a tag by name, such as tlp:amber or concord:handling="H2".
type Tag struct {
	Name string `json:"name"`
}

// Attribute is one MISP attribute, on the event or inside an object.
type Attribute struct {
	UUID               string `json:"uuid"`
	Type               string `json:"type"`
	Category           string `json:"category"`
	Value              string `json:"value"`
	ObjectRelation     string `json:"object_relation,omitempty"`
	ToIDs              bool   `json:"to_ids"`
	DisableCorrelation bool   `json:"disable_correlation"`
	Distribution       string `json:"distribution"`
	Timestamp          string `json:"timestamp"`
	Comment            string `json:"comment"`
	Deleted            bool   `json:"deleted"`
	Data               string `json:"data,omitempty"` // base64, for attachment attributes
}

// Object is one MISP object: a template (misp-objects) instance grouping
// attributes by relation.
type Object struct {
	UUID            string      `json:"uuid"`
	Name            string      `json:"name"`
	MetaCategory    string      `json:"meta-category"`
	Description     string      `json:"description"`
	TemplateUUID    string      `json:"template_uuid"`
	TemplateVersion string      `json:"template_version"`
	Distribution    string      `json:"distribution"`
	Timestamp       string      `json:"timestamp"`
	Comment         string      `json:"comment"`
	Deleted         bool        `json:"deleted"`
	Attribute       []Attribute `json:"Attribute"`
}

// EventReport is a Markdown report attached to an event.
type EventReport struct {
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	Content      string `json:"content"`
	Distribution string `json:"distribution"`
	Timestamp    string `json:"timestamp"`
	Deleted      bool   `json:"deleted"`
}

// eventBody has Event's fields without its methods, to (un)marshal the
// inside of the {"Event": …} wrapper without recursion.
type eventBody Event

// MarshalJSON writes the event wrapped as MISP files hold it.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event eventBody `json:"Event"`
	}{eventBody(e)})
}

// UnmarshalJSON reads an event written by MarshalJSON. It is strict about
// types; Import reads MISP's own, looser output.
func (e *Event) UnmarshalJSON(data []byte) error {
	var w struct {
		Event *eventBody `json:"Event"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if w.Event == nil {
		return fmt.Errorf(`misp: not an event: want {"Event": {...}}`)
	}
	*e = Event(*w.Event)
	return nil
}

// namespace is Concord's fixed UUIDv5 namespace for MISP UUIDs. It never
// changes: a changed namespace would make MISP see every bulletin as new.
var namespace = [16]byte{0x6b, 0x1e, 0x4c, 0x3a, 0x92, 0x0d, 0x5f, 0x27,
	0xa4, 0x18, 0x3c, 0x55, 0x7e, 0x90, 0xc2, 0x61}

// uuid5 returns the RFC 9562 version 5 UUID of name in Concord's namespace.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// EventUUID returns the UUID of the MISP event made of bulletin id: the
// name of its file in a feed directory, <uuid>.json.
func EventUUID(bulletinID string) string { return uuid5("bulletin/" + bulletinID) }

// OrgUUID returns the UUID of the MISP organisation of a Concord member.
func OrgUUID(memberID string) string { return uuid5("member/" + memberID) }
