package protocol

import (
	"encoding/hex"
	"fmt"
)

// ProtocolVersion is the version of the wire formats in this package. It
// appears in GossipSub topic strings and in the "v" field of every
// structure.
const ProtocolVersion = 1

// libp2p stream protocols.
const (
	// JoinProtocol carries an invitee's join request to the inviting admin.
	JoinProtocol = "/concord/join/1"
	// SyncProtocol exchanges topic log heads, version vectors and missing
	// envelopes between members of a topic.
	SyncProtocol = "/concord/sync/1"
)

// Size limits. An envelope must fit in one GossipSub message (1 MiB by
// default) with room left for the pubsub framing and StrictSign signature.
const (
	MaxEnvelopeBytes = 960 << 10
	MaxLogEntryBytes = 512 << 10
)

// TopicString returns the GossipSub topic on which a topic's envelopes
// travel.
func TopicString(category string, topic TopicID) string {
	return fmt.Sprintf("/concord/%d/%s/%s", ProtocolVersion, category, topic)
}

// LogTopicString returns the GossipSub topic on which a topic's log entries
// travel. It is separate from the envelope topic so that log entries, which
// carry epoch keys, can be validated and prioritised on their own.
func LogTopicString(category string, topic TopicID) string {
	return TopicString(category, topic) + "/log"
}

// hashLen is the length of every identifier that is a SHA-256 hash.
const hashLen = 32

// TopicID identifies a topic: the SHA-256 of its genesis entry's bytes.
type TopicID [hashLen]byte

// String returns the ID in lowercase hex (64 characters).
func (t TopicID) String() string { return hex.EncodeToString(t[:]) }

// Short returns an abbreviation for error messages and logs.
func (t TopicID) Short() string { return short(t[:]) }

// MarshalText encodes the ID as hex, for JSON at the API edge.
func (t TopicID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a hex ID.
func (t *TopicID) UnmarshalText(b []byte) error {
	id, err := ParseTopicID(string(b))
	*t = id
	return err
}

// ParseTopicID decodes a full topic ID (64 hex characters).
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	return id, parseHash(id[:], s, "topic ID")
}

// EnvelopeID identifies an envelope: the SHA-256 of its wire bytes. It is
// also the envelope's GossipSub message ID.
type EnvelopeID [hashLen]byte

// String returns the ID in lowercase hex (64 characters).
func (e EnvelopeID) String() string { return hex.EncodeToString(e[:]) }

// Short returns an abbreviation for error messages and logs.
func (e EnvelopeID) Short() string { return short(e[:]) }

// MarshalText encodes the ID as hex, for JSON at the API edge.
func (e EnvelopeID) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText decodes a hex ID.
func (e *EnvelopeID) UnmarshalText(b []byte) error {
	id, err := ParseEnvelopeID(string(b))
	*e = id
	return err
}

// ParseEnvelopeID decodes a full envelope ID (64 hex characters).
func ParseEnvelopeID(s string) (EnvelopeID, error) {
	var id EnvelopeID
	return id, parseHash(id[:], s, "envelope ID")
}

func parseHash(dst []byte, s, what string) error {
	if len(s) != 2*hashLen {
		return fmt.Errorf("%s is %d characters, want %d hex characters", what, len(s), 2*hashLen)
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%s %q is not hex: %v", what, s, err)
	}
	return nil
}

func short(b []byte) string { return hex.EncodeToString(b[:6]) + "…" }

// clip shortens an untrusted string before it is quoted in an error, so
// that a hostile input cannot flood logs through error messages.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
