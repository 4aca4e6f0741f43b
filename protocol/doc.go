// Package protocol holds Concord's wire types and the rules every node
// applies to them: topic logs, envelopes, bulletins, crime categories,
// protocol IDs and size limits.
//
// # Contents
//
//   - Topic logs: LogEntry and its payloads (topiclog.go), TopicState, the
//     log replayed (topicstate.go), and forks: CheckForkEntry and
//     ResolveFork (fork.go).
//   - Envelopes, the signed and encrypted unit of gossip and sync:
//     SealEnvelope, DecodeEnvelope, OpenInner.
//   - Bulletins: Bulletin, its validation and its Markdown form
//     (ParseMarkdown, RenderMarkdown).
//   - Crime categories (Categories, LookupCategory), protocol IDs and
//     topic strings (protocol.go).
//
// # Entry points
//
// NewGenesis and SignEntry write a topic log; Replay and
// TopicState.Apply check one; TopicState.CheckEnvelope checks an envelope
// against it. Everything here is a pure function of its inputs: no
// network, no storage, no clock but the one passed in.
//
// # Dependencies
//
// crypto (member cards, signatures, epoch keys) and internal/canon (the
// CBOR of every signed structure); nothing of node. docs/protocol.md is
// the specification.
package protocol
