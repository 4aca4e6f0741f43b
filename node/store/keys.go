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
//	'b' bulletinID                              → bulletin record (JSON)
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

func key(prefix byte, parts ...[]byte) []byte {
	k := []byte{prefix}
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
