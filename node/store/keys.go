package store

import (
	"encoding/binary"
)

// Key schema. Every key starts with a one-byte prefix naming its family;
// fixed-size parts come first so prefixes iterate in order.
//
//	'e' envelopeID(32)                          → envelope bytes as received
//	'a' topic(32) author(24) seq(8)             → envelopeID(32) prev(32) per-author logs (prev absent for seq 1 and in entries of older stores)
//	'q' topic(32) author(24) seq(8) envelopeID  → envelope bytes          equivocation evidence (one per seq)
//	'u' topic(32) author                        → count(8) bytes(8)       envelopes stored per author (evidence included)
//	'o' topic(32)                               → seq(8) envelopeID(32)   our own last envelope
//	't' topic(32)                               → topic record (JSON)
//	'l' topic(32) index(8)                      → topic log entry bytes
//	'k' topic(32) epoch(8)                      → epoch identity (age secret key text)
//	'p' nonce(16)                               → pending invitation (JSON)
//	'b' bulletinID                              → bulletin record (CBOR, record.go; JSON before schema 4)
//	'x' index(1) value 0x00 created(12) bulletinID → nothing     list indexes (created: see createdKey)
//	'v' validUntil(8, Unix seconds) bulletinID  → nothing                 expiry index (retention)
//	'r' recvSeq(8)                              → bulletinID              change feed
//	'm' name                                    → metadata ("schema": the store schema version, see migrate.go)
//	'i' source                                  → bulletinID              imported foreign objects (imports.go)
const (
	pfxEnvelope    = 'e'
	pfxAuthorLog   = 'a'
	pfxEquivocated = 'q'
	pfxOwn         = 'o'
	pfxTopic       = 't'
	pfxLog         = 'l'
	pfxEpochKey    = 'k'
	pfxPending     = 'p'
	pfxBulletin    = 'b'
	pfxIndex       = 'x'
	pfxRecv        = 'r'
	pfxExpiry      = 'v'
	pfxMeta        = 'm'
	pfxUsage       = 'u'
	pfxImport      = 'i'
)

// Search indexes (index_*.go), kept in the record's own transaction;
// entries exist only for bulletins readable here (not sealed, revoked or
// expired). Values and words never contain 0x00 (see clipValue).
//
//	'n' type 0x00 value 0x00 created(12) bulletinID → nothing            entity postings, newest last (created: see createdKey)
//	'c' type 0x00 value                         → count(8)                bulletins posted under an entity key
//	'w' word 0x00 bulletinID                    → term frequency (uvarint) full-text postings
//	'f' bulletinID                              → docInfo (index_doc.go)  reverse entry: the bulletin's keys, words and filter fields
//	'm' "text"                                  → docs(8) words(8)        full-text totals (ranking)
const (
	pfxEntity      = 'n'
	pfxEntityCount = 'c'
	pfxWord        = 'w'
	pfxDoc         = 'f'
)

// Watchlists and alerts (watch.go): the analyst's own, never shared.
//
//	'W' entryID                                 → watchlist entry (JSON)
//	'A' alertSeq(8)                             → alert (JSON)
//	'S' sha256(kind, bulletin, version, entry, term) → alertSeq(8)   alerts raised, so none is raised twice
//	'm' "alert-cursor"                          → recvSeq(8)              change feed position alerts were raised up to
//
// Requests for information: 'R', see requests.go.
const (
	pfxWatch     = 'W'
	pfxAlert     = 'A'
	pfxAlertSeen = 'S'
)

func key(prefix byte, parts ...[]byte) []byte {
	k := []byte{prefix}
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
