package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/protocol"
)

// Bounds on what one bulletin puts in the indexes, so that one record,
// however large, stays well inside one Badger transaction.
const (
	maxDocWords    = 4096 // distinct words indexed per bulletin, in order of first appearance
	maxDocEntities = 256  // entity keys indexed per bulletin
	maxWordBytes   = 64   // a longer word is indexed (and searched) by its first 64 bytes
	maxValueBytes  = 256  // likewise for an entity value
)

// docInfo is a bulletin's reverse entry: what its postings are (to remove
// them when it is revised, revoked or erased) and what a query needs to
// check and rank a candidate without reading its record.
type docInfo struct {
	Created  time.Time
	Topic    [32]byte
	Category string
	Author   string
	Length   int // words of the indexed text, duplicates included
	Entities []entity.Key
	Words    []wordFreq // distinct
}

type wordFreq struct {
	Word string
	TF   int
}

// indexedBulletin is the part of a record's bulletin JSON the indexes read.
type indexedBulletin struct {
	Originator struct {
		Country string `json:"country"`
	} `json:"originator"`
	Title    string            `json:"title"`
	Summary  string            `json:"summary"`
	Body     string            `json:"body"`
	Entities []protocol.Entity `json:"entities"`
}

// indexable reports whether rec's content is readable here: only such a
// record has postings.
func indexable(rec *BulletinRecord) bool {
	return !rec.Sealed && !rec.Tombstone() && len(rec.Bulletin) > 0
}

// parseIndexed decodes the indexed part of rec's bulletin.
func parseIndexed(rec *BulletinRecord) (*indexedBulletin, error) {
	var b indexedBulletin
	if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
		return nil, fmt.Errorf("indexing bulletin %s: its stored content is not valid JSON (%w): run concord reindex after restoring the store from a backup", rec.ID, err)
	}
	if b.Body == "" {
		b.Body = rec.Body // the record leaves it in the envelope
	}
	return &b, nil
}

// textFields returns the word sequences of a bulletin: title, summary,
// body and each entity value apart, so that a phrase never spans two.
func (b *indexedBulletin) textFields() [][]string {
	fields := [][]string{clipWords(entity.Words(b.Title)), clipWords(entity.Words(b.Summary)), clipWords(entity.Words(b.Body))}
	for _, e := range b.Entities {
		fields = append(fields, clipWords(entity.Words(e.Value)))
	}
	return fields
}

// buildDoc returns rec's reverse entry, nil if rec is not indexable.
func buildDoc(rec *BulletinRecord) (*docInfo, error) {
	if !indexable(rec) {
		return nil, nil
	}
	b, err := parseIndexed(rec)
	if err != nil {
		return nil, err
	}
	doc := &docInfo{Created: rec.Created, Topic: rec.Topic, Category: rec.Category, Author: rec.Author}
	tf := map[string]int{}
	for _, field := range b.textFields() {
		for _, w := range field {
			doc.Length++
			if _, seen := tf[w]; !seen && len(tf) >= maxDocWords {
				continue
			}
			if tf[w] == 0 {
				doc.Words = append(doc.Words, wordFreq{Word: w})
			}
			tf[w]++
		}
	}
	for i := range doc.Words {
		doc.Words[i].TF = tf[doc.Words[i].Word]
	}
	doc.Entities = docEntities(b)
	return doc, nil
}

// docEntities returns the distinct keys of a bulletin's entities, the
// originator's country as the default phone region.
func docEntities(b *indexedBulletin) []entity.Key {
	var keys []entity.Key
	seen := map[[2]string]bool{}
	for _, e := range b.Entities {
		for _, k := range entity.Keys(e, b.Originator.Country) {
			k.Value = clipValue(k.Value, maxValueBytes)
			id := [2]string{k.Type, k.Value}
			if k.Value == "" || k.Type == "" || seen[id] || len(keys) >= maxDocEntities {
				continue
			}
			seen[id] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// clipValue removes 0x00 (the key separator) and cuts s to at most n
// bytes on a rune boundary: what index keys hold, and queries look for.
func clipValue(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clipWords(words []string) []string {
	for i, w := range words {
		words[i] = clipValue(w, maxWordBytes)
	}
	return words
}

// docFormat is the first byte of an encoded docInfo.
const docFormat = 1

var errCorruptDoc = errors.New("corrupt search index entry: run concord reindex")

// encode writes d as: format, created(12), topic(32), then uvarint-
// prefixed category, author, length, entities (type, value, flagged) and
// words (word, tf).
func (d *docInfo) encode() []byte {
	b := append([]byte{docFormat}, createdKey(d.Created)...)
	b = append(b, d.Topic[:]...)
	b = appendString(appendString(b, d.Category), d.Author)
	b = binary.AppendUvarint(b, uint64(d.Length))
	b = binary.AppendUvarint(b, uint64(len(d.Entities)))
	for _, k := range d.Entities {
		b = appendString(appendString(b, k.Type), k.Value)
		flag := byte(0)
		if k.Flagged {
			flag = 1
		}
		b = append(b, flag)
	}
	b = binary.AppendUvarint(b, uint64(len(d.Words)))
	for _, w := range d.Words {
		b = binary.AppendUvarint(appendString(b, w.Word), uint64(w.TF))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// docReader reads an encoded docInfo field by field.
type docReader struct {
	b   []byte
	err error
}

func (r *docReader) uvarint() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 1<<31 {
		r.err, r.b = errCorruptDoc, nil
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *docReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err, r.b = errCorruptDoc, nil
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *docReader) str() []byte { return r.bytes(r.uvarint()) }

// decodeHead reads the fixed fields of an encoded docInfo and leaves r at
// its entities.
func decodeHead(v []byte) (*docInfo, *docReader) {
	r := &docReader{b: v}
	if f := r.bytes(1); r.err != nil || f[0] != docFormat {
		r.err = errCorruptDoc
		return nil, r
	}
	d := &docInfo{}
	created, _, ok := splitIndexKey(r.bytes(createdLen))
	if !ok {
		r.err = errCorruptDoc
		return nil, r
	}
	d.Created = created
	copy(d.Topic[:], r.bytes(32))
	d.Category, d.Author = string(r.str()), string(r.str())
	d.Length = r.uvarint()
	return d, r
}

// decodeDoc decodes an encoded docInfo in full.
func decodeDoc(v []byte) (*docInfo, error) {
	d, r := decodeHead(v)
	if r.err != nil {
		return nil, r.err
	}
	n := r.uvarint()
	for i := 0; i < n && r.err == nil; i++ {
		k := entity.Key{Type: string(r.str()), Value: string(r.str())}
		flag := r.bytes(1)
		k.Flagged = r.err == nil && flag[0] == 1
		d.Entities = append(d.Entities, k)
	}
	n = r.uvarint()
	for i := 0; i < n && r.err == nil; i++ {
		d.Words = append(d.Words, wordFreq{Word: string(r.str()), TF: r.uvarint()})
	}
	return d, r.err
}
