package api

import (
	"net/url"
	"time"
)

// LogEntry is one line of GET /v1/topics/{topic}/log: a topic log entry,
// its exact signed bytes with a readable summary of them. Raw is what an
// auditor checks (docs/protocol.md, "Verifying a raw export"); the other
// fields only say what Raw holds.
type LogEntry struct {
	Index  uint64    `json:"index"`
	Type   string    `json:"type"`
	Author string    `json:"author"`
	TS     time.Time `json:"ts"`
	Hash   string    `json:"hash"` // SHA-256 of Raw, hex
	Raw    []byte    `json:"raw"`  // base64 (standard) in JSON
	// Error, on the last line only, says the daemon could not finish the
	// export: the lines before it are not the whole log.
	Error string `json:"error,omitempty"`
}

// RawEnvelope is one line of GET /v1/topics/{topic}/envelopes: an envelope
// this node holds, exactly as stored, with a readable summary.
type RawEnvelope struct {
	ID     string `json:"id"` // SHA-256 of Raw, hex
	Author string `json:"author"`
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Epoch  uint64 `json:"epoch"`
	Size   int    `json:"size"` // bytes of Raw
	Raw    []byte `json:"raw"`
	// Error, on the last line only, says the export stopped short.
	Error string `json:"error,omitempty"`
}

// EnvelopeQuery selects the envelopes of GET /v1/topics/{topic}/envelopes.
type EnvelopeQuery struct {
	Author string // member ID, unique prefix or country code; empty: every author
}

// Values encodes q as URL query parameters.
func (q EnvelopeQuery) Values() url.Values {
	v := url.Values{}
	if q.Author != "" {
		v.Set("author", q.Author)
	}
	return v
}

// ParseEnvelopeQuery decodes an EnvelopeQuery.
func ParseEnvelopeQuery(v url.Values) (EnvelopeQuery, error) {
	return EnvelopeQuery{Author: v.Get("author")}, nil
}
