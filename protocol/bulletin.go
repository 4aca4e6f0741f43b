package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

// Bulletin is the analyst's record, as signed and encrypted on the wire.
//
// The CBOR and JSON field names are identical. Optional fields are omitted
// when empty, so an empty optional field has exactly one encoding: absent.
// All times are UTC; ValidUntil is a pointer so that "no expiry" is nil.
type Bulletin struct {
	ID         string     `cbor:"id" json:"id"`
	Version    int        `cbor:"version" json:"version"`
	Created    time.Time  `cbor:"created" json:"created"`
	Modified   time.Time  `cbor:"modified" json:"modified"`
	Originator Originator `cbor:"originator" json:"originator"`
	// BulletinDraft holds every field the analyst sets; its fields encode
	// inline, as if declared here.
	BulletinDraft
}

// BulletinDraft is the part of a bulletin that an analyst sets, from a
// Markdown file (ParseMarkdown) or from CLI flags. It is what the CLI sends
// to the daemon, which turns it into a Bulletin with Build or Revise.
// Category may be empty: the topic the draft is published on decides it.
type BulletinDraft struct {
	Category          string       `cbor:"category,omitempty" json:"category,omitempty"`
	Title             string       `cbor:"title" json:"title"`
	Summary           string       `cbor:"summary,omitempty" json:"summary,omitempty"`
	Body              string       `cbor:"body,omitempty" json:"body,omitempty"` // Markdown
	Language          string       `cbor:"language" json:"language"`
	TLP               string       `cbor:"tlp" json:"tlp"`
	Handling          Handling     `cbor:"handling" json:"handling"`
	SourceReliability string       `cbor:"source_reliability" json:"source_reliability"`
	InfoReliability   string       `cbor:"info_reliability" json:"info_reliability"`
	ValidUntil        *time.Time   `cbor:"valid_until,omitempty" json:"valid_until,omitempty"`
	References        References   `cbor:"references,omitempty" json:"references,omitzero"`
	Entities          []Entity     `cbor:"entities,omitempty" json:"entities,omitempty"`
	Attachments       []Attachment `cbor:"attachments,omitempty" json:"attachments,omitempty"`
	Audience          []string     `cbor:"audience,omitempty" json:"audience,omitempty"`
	// Request makes the bulletin a request for information (request.go).
	Request *Request `cbor:"request,omitempty" json:"request,omitempty"`
}

// Originator identifies the agency that wrote a bulletin.
type Originator struct {
	Member  string `cbor:"member" json:"member"`   // member ID
	Country string `cbor:"country" json:"country"` // ISO 3166-1 alpha-3
	Agency  string `cbor:"agency" json:"agency"`
	Contact string `cbor:"contact,omitempty" json:"contact,omitempty"` // point of contact
}

// Handling is a handling code, H0 to H3. Restrictions is free text,
// required with H3 and forbidden with the other codes.
type Handling struct {
	Code         string `cbor:"code" json:"code"`
	Restrictions string `cbor:"restrictions,omitempty" json:"restrictions,omitempty"`
}

// References link a bulletin to others by bulletin ID.
type References struct {
	Supersedes []string `cbor:"supersedes,omitempty" json:"supersedes,omitempty"`
	Extends    []string `cbor:"extends,omitempty" json:"extends,omitempty"`
	InReplyTo  []string `cbor:"in_reply_to,omitempty" json:"in_reply_to,omitempty"`
}

// Entity is a typed thing a bulletin is about (see EntityTypes), with
// optional free-form fields such as "imo" or "flag" for a vessel.
type Entity struct {
	Type   string            `cbor:"type" json:"type"`
	Value  string            `cbor:"value" json:"value"`
	Fields map[string]string `cbor:"fields,omitempty" json:"fields,omitempty"`
}

// Attachment is a file carried inside a bulletin. SHA256 is the lowercase
// hex digest of Data and Size its length. Data is base64 in JSON.
type Attachment struct {
	Name      string `cbor:"name" json:"name"`
	MediaType string `cbor:"media_type" json:"media_type"`
	Size      int64  `cbor:"size" json:"size"`
	SHA256    string `cbor:"sha256" json:"sha256"`
	Data      []byte `cbor:"data" json:"data"`
}

// NewAttachment returns an attachment holding data (not copied), with its
// size and digest filled in. An empty mediaType is guessed from the name's
// extension (mime.TypeByExtension), else from the content
// (http.DetectContentType): the same for --attach and for front matter.
func NewAttachment(name, mediaType string, data []byte) Attachment {
	if mediaType == "" {
		mediaType = mime.TypeByExtension(filepath.Ext(name))
	}
	if mediaType == "" {
		mediaType = http.DetectContentType(data)
	}
	sum := sha256.Sum256(data)
	return Attachment{Name: name, MediaType: mediaType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Data: data}
}

// BulletinIDLen is the length of a bulletin ID in characters.
const BulletinIDLen = 26

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// bulletinIDDomain separates the hash that binds a bulletin ID from every
// other SHA-256 use.
const bulletinIDDomain = "concord/bulletin-id/1"

// NewBulletinID returns a fresh bulletin ID bound to its originator and
// topic: 8 random bytes followed by the first 8 bytes of their binding
// hash (bulletinIDTag), in lowercase unpadded base32. A member cannot make
// an ID that passes CheckBulletinID for another originator, so it cannot
// squat (publish first under) another member's bulletin ID.
func NewBulletinID(topic TopicID, originator string) string {
	var raw [16]byte
	rand.Read(raw[:8]) // never fails: crypto/rand aborts the program instead
	tag := bulletinIDTag(topic, originator, raw[:8])
	copy(raw[8:], tag[:8])
	return strings.ToLower(idEncoding.EncodeToString(raw[:]))
}

// CheckBulletinID checks that id is a bulletin ID that originator made for
// topic (NewBulletinID). Errors are *FieldError on field "id".
func CheckBulletinID(id string, topic TopicID, originator string) error {
	if !ValidBulletinID(id) {
		return bulletinErr("id", "%s is not a bulletin ID (%d lowercase base32 characters)", quote(id), BulletinIDLen)
	}
	raw, _ := idEncoding.DecodeString(strings.ToUpper(id)) // valid: checked above
	tag := bulletinIDTag(topic, originator, raw[:8])
	if !bytes.Equal(raw[8:], tag[:8]) {
		return bulletinErr("id", "%s is not bound to originator %s on topic %s: a bulletin ID is made by its originator for one topic, so this one belongs to another member or topic (or was forged)",
			id, quote(originator), topic.Short())
	}
	return nil
}

// bulletinIDTag is SHA-256(domain || topic || originator || nonce). Only
// the originator varies in length, so the concatenation is unambiguous.
func bulletinIDTag(topic TopicID, originator string, nonce []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(bulletinIDDomain))
	h.Write(topic[:])
	h.Write([]byte(originator))
	h.Write(nonce)
	return [sha256.Size]byte(h.Sum(nil))
}

// ValidBulletinID reports whether s is a bulletin ID in its one canonical
// spelling (the two unused low bits of the last character are zero).
func ValidBulletinID(s string) bool {
	if len(s) != BulletinIDLen || strings.ToLower(s) != s {
		return false
	}
	raw, err := idEncoding.DecodeString(strings.ToUpper(s))
	return err == nil && len(raw) == 16 && strings.ToLower(idEncoding.EncodeToString(raw)) == s
}

// Stamp is what the publishing node adds to a draft: identity, version,
// times, originator, and the category of the topic it is published on.
type Stamp struct {
	ID         string
	Version    int
	Created    time.Time
	Modified   time.Time
	Originator Originator
	Category   string
}

// Build returns the validated bulletin made of a copy of d and the stamp s,
// with times converted to UTC, the audience sorted (the order envelopes
// require), and the TLP label, handling code and source reliability
// upper-cased, whatever the draft came from (flags, front matter, API).
// A draft that names a category must name the topic's.
func (d *BulletinDraft) Build(s Stamp) (*Bulletin, error) {
	if d.Category != "" && d.Category != s.Category {
		return nil, bulletinErr("category", "the draft says %q but the topic's category is %q", d.Category, s.Category)
	}
	b := &Bulletin{ID: s.ID, Version: s.Version, Created: s.Created.UTC(), Modified: s.Modified.UTC(),
		Originator: s.Originator, BulletinDraft: d.clone()}
	b.Category = s.Category
	if r := b.Request; r != nil {
		slices.Sort(r.To)
		r.Due = r.Due.UTC()
		if len(b.Audience) == 0 { // a request's audience follows from it
			b.Audience = requestAudience(r, s.Originator.Member)
		}
	}
	slices.Sort(b.Audience)
	for _, f := range []*string{&b.TLP, &b.Handling.Code, &b.SourceReliability} {
		*f = strings.ToUpper(*f)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b, nil
}

// Revise returns the next version of b with the content of d: same ID,
// originator, category and creation time, version plus one, modified now.
func (b *Bulletin) Revise(d *BulletinDraft, now time.Time) (*Bulletin, error) {
	// A revision is never dated before the version it follows: a clock
	// set back since (it ran fast when b was made) must not make it
	// invalid, nor order it first.
	modified := now
	if modified.Before(b.Modified) {
		modified = b.Modified
	}
	return d.Build(Stamp{ID: b.ID, Version: b.Version + 1, Created: b.Created, Modified: modified,
		Originator: b.Originator, Category: b.Category})
}

// Draft returns a copy of the analyst-set part of b, to edit and revise.
func (b *Bulletin) Draft() *BulletinDraft {
	d := b.BulletinDraft.clone()
	return &d
}

// clone copies d deeply enough that the copy shares no slice or map with
// d (attachment bytes excepted: they are never modified in place).
func (d *BulletinDraft) clone() BulletinDraft {
	c := *d
	if d.ValidUntil != nil {
		t := d.ValidUntil.UTC()
		c.ValidUntil = &t
	}
	c.References = References{slices.Clone(d.References.Supersedes),
		slices.Clone(d.References.Extends), slices.Clone(d.References.InReplyTo)}
	c.Entities = slices.Clone(d.Entities)
	for i := range c.Entities {
		c.Entities[i].Fields = maps.Clone(c.Entities[i].Fields)
	}
	c.Attachments = slices.Clone(d.Attachments)
	c.Audience = slices.Clone(d.Audience)
	if d.Request != nil {
		r := *d.Request
		r.To = slices.Clone(r.To)
		c.Request = &r
	}
	return c
}

// EncodeBulletin validates b and returns its canonical CBOR encoding.
func EncodeBulletin(b *Bulletin) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	data, err := canon.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("bulletin: encoding: %w", err)
	}
	if len(data) > MaxBulletinBytes {
		return nil, fmt.Errorf("bulletin: encodes to %d bytes, more than the %d allowed; make attachments or entities smaller",
			len(data), MaxBulletinBytes)
	}
	return data, nil
}

// DecodeBulletin decodes and validates a bulletin's canonical CBOR
// encoding. Validation failures are *FieldError; other errors start with
// "bulletin: ".
func DecodeBulletin(data []byte) (*Bulletin, error) {
	if len(data) > MaxBulletinBytes {
		return nil, fmt.Errorf("bulletin: %d bytes, more than the %d allowed", len(data), MaxBulletinBytes)
	}
	var b Bulletin
	if err := canon.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("bulletin: malformed encoding: %w", err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Limits on a bulletin's content, in bytes unless they count items; the
// audience is bounded by MaxAudience. MaxBulletinBytes bounds the whole
// encoding and has the last word: a bulletin within every other limit can
// still be too big.
const (
	MaxTitleLen          = 200
	MaxSummaryLen        = 2000
	MaxBodyLen           = 128 << 10
	MaxContactLen        = 256
	MaxRestrictionsLen   = 1000
	MaxReferences        = 32 // per list: supersedes, extends, in_reply_to
	MaxEntities          = 256
	MaxEntityValueLen    = 1024 // an entity's value, and each field's value
	MaxEntityFields      = 32
	MaxFieldNameLen      = 64
	MaxAttachments       = 8
	MaxAttachmentBytes   = 640 << 10 // all attachments' data together
	MaxAttachmentNameLen = 255
	MaxMediaTypeLen      = 255
	MaxBulletinBytes     = 800 << 10 // the canonical CBOR encoding
	maxLanguageLen       = 35
)

var (
	tlpLabels     = []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}
	handlingCodes = []string{"H0", "H1", "H2", "H3"}
	sourceGrades  = []string{"A", "B", "C", "X"}
	infoGrades    = []string{"1", "2", "3", "4"}
	entityTypes   = []string{"person", "organization", "vehicle", "vessel", "aircraft", "phone", "email",
		"iban", "crypto-address", "passport", "id-document", "location", "firearm", "other"}
	languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

// TLPLabels returns the TLP 2.0 labels a bulletin may carry.
func TLPLabels() []string { return slices.Clone(tlpLabels) }

// HandlingCodes returns the handling codes; H3 requires restrictions.
func HandlingCodes() []string { return slices.Clone(handlingCodes) }

// SourceReliabilities returns the source grades of the 4x4 evaluation:
// A reliable, B usually reliable, C not usually reliable, X cannot be judged.
func SourceReliabilities() []string { return slices.Clone(sourceGrades) }

// InfoReliabilities returns the information grades of the 4x4 evaluation:
// 1 known to be true, 2 known personally to the source, 3 not known
// personally to the source but corroborated, 4 cannot be judged.
func InfoReliabilities() []string { return slices.Clone(infoGrades) }

// EntityTypes returns the entity types a bulletin may name.
func EntityTypes() []string { return slices.Clone(entityTypes) }

// FieldError reports one invalid bulletin field. Field is a path such as
// "tlp", "entities[2].type" or "attachments[0].sha256".
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("bulletin field %q: %s", e.Field, e.Problem)
}

func bulletinErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate checks every field of b and returns the first problem found as a
// *FieldError.
func (b *Bulletin) Validate() error {
	if !ValidBulletinID(b.ID) {
		return bulletinErr("id", "%s is not a bulletin ID (%d lowercase base32 characters)", quote(b.ID), BulletinIDLen)
	}
	if b.Version < 1 {
		return bulletinErr("version", "is %d, must be 1 or more", b.Version)
	}
	if err := checkTime("created", b.Created); err != nil {
		return err
	}
	if err := checkTime("modified", b.Modified); err != nil {
		return err
	}
	if b.Modified.Before(b.Created) {
		return bulletinErr("modified", "%s is before created (%s)", b.Modified.Format(time.RFC3339Nano), b.Created.Format(time.RFC3339Nano))
	}
	if err := b.Originator.validate(); err != nil {
		return err
	}
	if b.Category == "" {
		return bulletinErr("category", "is missing; valid categories: %s", strings.Join(CategorySlugs(), ", "))
	}
	if err := b.BulletinDraft.Validate(); err != nil {
		return err
	}
	return b.checkLinks()
}

// checkLinks checks what relates the content to the header.
func (b *Bulletin) checkLinks() error {
	if b.ValidUntil != nil && !b.ValidUntil.After(b.Created) {
		return bulletinErr("valid_until", "%s is not after created (%s)", b.ValidUntil.Format(time.RFC3339Nano), b.Created.Format(time.RFC3339Nano))
	}
	for _, l := range b.References.lists() {
		if i := slices.Index(l.ids, b.ID); i >= 0 {
			return bulletinErr(fmt.Sprintf("references.%s[%d]", l.name, i), "refers to the bulletin itself")
		}
	}
	return b.checkRequestLinks()
}

func (d *BulletinDraft) checkRequest() error {
	if d.Request == nil {
		return nil
	}
	return d.Request.validate()
}

func (o *Originator) validate() error {
	if !crypto.ValidMemberID(o.Member) {
		return bulletinErr("originator.member", "%s is not a member ID (%d lowercase base32 characters)", quote(o.Member), crypto.MemberIDLen)
	}
	if err := crypto.CheckCountry(o.Country); err != nil {
		return bulletinErr("originator.country", "%v", err)
	}
	if err := checkRequired("originator.agency", o.Agency, crypto.MaxNameLen, false); err != nil {
		return err
	}
	return checkText("originator.contact", o.Contact, MaxContactLen, false)
}

// Validate checks the fields an analyst sets, as Bulletin.Validate does,
// except that Category may be empty. It returns the first problem found as
// a *FieldError.
func (d *BulletinDraft) Validate() error {
	checks := []func() error{d.checkTexts, d.checkGrades, d.checkValidUntil, d.References.validate,
		d.checkEntities, d.checkAttachments, d.checkAudience, d.checkRequest}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (d *BulletinDraft) checkTexts() error {
	if d.Category != "" {
		if _, err := LookupCategory(d.Category); err != nil {
			return bulletinErr("category", "%v", err)
		}
	}
	if err := checkRequired("title", d.Title, MaxTitleLen, false); err != nil {
		return err
	}
	if err := checkText("summary", d.Summary, MaxSummaryLen, true); err != nil {
		return err
	}
	if err := checkText("body", d.Body, MaxBodyLen, true); err != nil {
		return err
	}
	if len(d.Language) > maxLanguageLen || !languageTag.MatchString(d.Language) {
		return bulletinErr("language", "%s is not a language tag: want a lowercase ISO 639 code with optional subtags, for example en, fr, es-419, pt-BR", quote(d.Language))
	}
	return nil
}

func (d *BulletinDraft) checkGrades() error {
	if err := checkOneOf("tlp", d.TLP, tlpLabels, "a TLP 2.0 label"); err != nil {
		return err
	}
	if err := checkOneOf("handling.code", d.Handling.Code, handlingCodes, "a handling code"); err != nil {
		return err
	}
	if d.Handling.Code == "H3" {
		if err := checkRequired("handling.restrictions", d.Handling.Restrictions, MaxRestrictionsLen, true); err != nil {
			return bulletinErr("handling.restrictions", "%s: handling code H3 requires restrictions", err.(*FieldError).Problem)
		}
	} else if d.Handling.Restrictions != "" {
		return bulletinErr("handling.restrictions", "is only allowed with handling code H3, not %s", d.Handling.Code)
	}
	if err := checkOneOf("source_reliability", d.SourceReliability, sourceGrades, "a source reliability grade"); err != nil {
		return err
	}
	return checkOneOf("info_reliability", d.InfoReliability, infoGrades, "an information reliability grade")
}

func (d *BulletinDraft) checkValidUntil() error {
	if d.ValidUntil == nil {
		return nil
	}
	return checkTime("valid_until", *d.ValidUntil)
}

type refList struct {
	name string
	ids  []string
}

// lists returns the reference lists with their field names, in order.
func (r *References) lists() []refList {
	return []refList{{"supersedes", r.Supersedes}, {"extends", r.Extends}, {"in_reply_to", r.InReplyTo}}
}

func (r *References) validate() error {
	for _, l := range r.lists() {
		name, ids := l.name, l.ids
		if len(ids) > MaxReferences {
			return bulletinErr("references."+name, "has %d bulletin IDs, at most %d allowed", len(ids), MaxReferences)
		}
		for i, id := range ids {
			field := fmt.Sprintf("references.%s[%d]", name, i)
			if !ValidBulletinID(id) {
				return bulletinErr(field, "%s is not a bulletin ID (%d lowercase base32 characters)", quote(id), BulletinIDLen)
			}
			if slices.Index(ids, id) < i {
				return bulletinErr(field, "%s is listed twice", id)
			}
		}
	}
	return nil
}

func (d *BulletinDraft) checkEntities() error {
	if len(d.Entities) > MaxEntities {
		return bulletinErr("entities", "has %d entities, at most %d allowed", len(d.Entities), MaxEntities)
	}
	for i, e := range d.Entities {
		if err := e.validate(fmt.Sprintf("entities[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (e *Entity) validate(path string) error {
	if err := checkOneOf(path+".type", e.Type, entityTypes, "an entity type"); err != nil {
		return err
	}
	if err := checkRequired(path+".value", e.Value, MaxEntityValueLen, false); err != nil {
		return err
	}
	if len(e.Fields) > MaxEntityFields {
		return bulletinErr(path+".fields", "has %d fields, at most %d allowed", len(e.Fields), MaxEntityFields)
	}
	names := slices.Sorted(maps.Keys(e.Fields))
	for _, name := range names {
		if err := checkRequired(path+".fields", name, MaxFieldNameLen, false); err != nil {
			return bulletinErr(path+".fields", "field name %s %s", quote(name), err.(*FieldError).Problem)
		}
		if err := checkText(fmt.Sprintf("%s.fields[%q]", path, name), e.Fields[name], MaxEntityValueLen, false); err != nil {
			return err
		}
	}
	return nil
}

func (d *BulletinDraft) checkAttachments() error {
	if len(d.Attachments) > MaxAttachments {
		return bulletinErr("attachments", "has %d attachments, at most %d allowed", len(d.Attachments), MaxAttachments)
	}
	total := 0
	for i, a := range d.Attachments {
		path := fmt.Sprintf("attachments[%d]", i)
		if err := a.validate(path); err != nil {
			return err
		}
		if slices.IndexFunc(d.Attachments, func(o Attachment) bool { return o.Name == a.Name }) < i {
			return bulletinErr(path+".name", "%s is the name of an earlier attachment", quote(a.Name))
		}
		if total += len(a.Data); total > MaxAttachmentBytes {
			return bulletinErr("attachments", "hold more than %d bytes together", MaxAttachmentBytes)
		}
	}
	return nil
}

func (a *Attachment) validate(path string) error {
	if err := checkRequired(path+".name", a.Name, MaxAttachmentNameLen, false); err != nil {
		return err
	}
	if strings.ContainsAny(a.Name, `/\`) || a.Name == "." || a.Name == ".." {
		return bulletinErr(path+".name", "%s is not a plain file name (no / or \\, not . or ..)", quote(a.Name))
	}
	if err := checkRequired(path+".media_type", a.MediaType, MaxMediaTypeLen, false); err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(a.MediaType)
	if typ, sub, _ := strings.Cut(mt, "/"); err != nil || typ == "" || sub == "" {
		return bulletinErr(path+".media_type", "%s is not a media type such as application/pdf", quote(a.MediaType))
	}
	if a.Size != int64(len(a.Data)) {
		return bulletinErr(path+".size", "is %d but the data holds %d bytes", a.Size, len(a.Data))
	}
	if a.Size == 0 {
		return bulletinErr(path+".size", "is 0: empty attachments are not allowed")
	}
	sum := sha256.Sum256(a.Data)
	if want := hex.EncodeToString(sum[:]); a.SHA256 != want {
		return bulletinErr(path+".sha256", "%s is not the SHA-256 of the data in lowercase hex (want %s)", quote(a.SHA256), want)
	}
	return nil
}

func (d *BulletinDraft) checkAudience() error {
	if len(d.Audience) > MaxAudience {
		return bulletinErr("audience", "has %d members, at most %d allowed", len(d.Audience), MaxAudience)
	}
	return checkMemberList("audience", d.Audience)
}

// checkMemberList checks that every entry of the list field names is a
// member ID, listed once.
func checkMemberList(field string, ms []string) error {
	for i, m := range ms {
		at := fmt.Sprintf("%s[%d]", field, i)
		if !crypto.ValidMemberID(m) {
			return bulletinErr(at, "%s is not a member ID (%d lowercase base32 characters)", quote(m), crypto.MemberIDLen)
		}
		if slices.Index(ms, m) < i {
			return bulletinErr(at, "%s is listed twice", m)
		}
	}
	return nil
}

// MaxFutureSkew is how far ahead of a receiver's clock a bulletin's
// created and modified times, or an envelope's ts, may be. Clocks differ a
// little; a time further ahead would let a publisher pin its bulletin at
// the top of every time-ordered view, and make a revision dated in the
// future unbeatable by the originator's honest next revision.
const MaxFutureSkew = 10 * time.Minute

// CheckBulletinTimes refuses a bulletin whose created or modified time is
// more than MaxFutureSkew ahead of now, the receiver's clock, or before
// 1970. It depends on the clock, so it is the receiver's check, apart from
// Validate. Errors are *FieldError.
func CheckBulletinTimes(b *Bulletin, now time.Time) error {
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"created", b.Created}, {"modified", b.Modified}} {
		if err := checkTime(f.name, f.t); err != nil {
			return err
		}
		if f.t.After(now.Add(MaxFutureSkew)) {
			return bulletinErr(f.name, "%s is more than %s ahead of this node's clock (%s): check the publisher's clock",
				f.t.Format(time.RFC3339Nano), MaxFutureSkew, now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// checkTime requires a set UTC time whose year RFC 3339 can write.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return bulletinErr(field, "is missing")
	}
	if _, offset := t.Zone(); offset != 0 {
		return bulletinErr(field, "%s is not in UTC", t.Format(time.RFC3339Nano))
	}
	if y := t.Year(); y < 1970 || y > 9999 {
		return bulletinErr(field, "year %d is outside 1970 to 9999", y)
	}
	return nil
}

func checkOneOf(field, v string, allowed []string, what string) error {
	if v == "" {
		return bulletinErr(field, "is missing; want %s (%s)", what, strings.Join(allowed, ", "))
	}
	if !slices.Contains(allowed, v) {
		return bulletinErr(field, "%s is not %s (%s)", quote(v), what, strings.Join(allowed, ", "))
	}
	return nil
}

func checkRequired(field, s string, max int, multiline bool) error {
	if strings.TrimSpace(s) == "" {
		return bulletinErr(field, "is empty")
	}
	return checkText(field, s, max, multiline)
}

// checkText requires valid UTF-8 within max bytes and no control
// characters but newline and tab in multi-line text: a bulletin is shown
// on analysts' terminals, where control sequences could forge what they see.
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return bulletinErr(field, "is not valid UTF-8")
	}
	if len(s) > max {
		return bulletinErr(field, "is %d bytes, at most %d allowed", len(s), max)
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case !multiline && (r == '\n' || r == '\r'):
			return bulletinErr(field, "must be a single line")
		case unicode.IsControl(r):
			return bulletinErr(field, "contains the control character %U", r)
		}
	}
	return nil
}

// quote quotes a value for an error message, shortened if long.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}
