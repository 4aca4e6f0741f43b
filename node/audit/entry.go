// Package audit keeps the node's audit log: who did what through the
// local API, append-only and hash-chained, so that an edit, a deletion or
// a reordering of a stored entry is found by Verify.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Outcomes of a recorded call.
const (
	OK      = "ok"      // the call succeeded
	Refused = "refused" // the caller's role does not allow it
	Error   = "error"   // the call failed; Class says how
)

// zeroHash is the Prev of the first entry of a log never pruned.
var zeroHash = strings.Repeat("0", 64)

// Entry is one audit record. Its stored form is its canonical bytes
// (Canonical); Hash is the SHA-256 of the canonical bytes of the entry
// with Hash empty, and Prev the Hash of the entry before.
type Entry struct {
	Index    uint64    `json:"index"`
	Time     time.Time `json:"time"`
	User     string    `json:"user"` // OS user name, else "uid:N"
	UID      uint32    `json:"uid"`
	Action   string    `json:"action"`
	Topic    string    `json:"topic,omitempty"`
	Bulletin string    `json:"bulletin,omitempty"`
	Detail   string    `json:"detail,omitempty"` // the query, for reads that name no object
	Outcome  string    `json:"outcome"`
	Class    string    `json:"class,omitempty"` // the error class, for refused and error
	Prev     string    `json:"prev"`
	Hash     string    `json:"hash"`
}

// Canonical returns the bytes an entry is stored as: compact JSON in
// field order, time in UTC.
func (e Entry) Canonical() []byte {
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // no field can fail to marshal
	}
	return b
}

// sum is the entry's hash: SHA-256 of its canonical bytes without Hash.
func (e Entry) sum() string {
	e.Hash = ""
	h := sha256.Sum256(e.Canonical())
	return hex.EncodeToString(h[:])
}

// seal fills Hash.
func (e Entry) seal() Entry {
	e.Time = e.Time.UTC()
	e.Hash = e.sum()
	return e
}

// decode parses stored bytes and checks that they are the canonical form
// of an entry whose Hash is right: any byte changed fails.
func decode(b []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not an audit entry: %v", err)
	}
	if !bytes.Equal(e.Canonical(), b) {
		return e, fmt.Errorf("stored bytes are not the entry's canonical form")
	}
	if e.sum() != e.Hash {
		return e, fmt.Errorf("its hash does not match its content")
	}
	return e, nil
}

// Head names the last entry of the chain: what an operator ships
// elsewhere to detect a rewritten or truncated log.
type Head struct {
	Index uint64 `json:"index"`
	Hash  string `json:"hash"`
}
