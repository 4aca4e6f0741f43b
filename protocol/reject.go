package protocol

import (
	"errors"
	"fmt"
)

// Rejection reasons: short, stable labels, one set for every verdict a
// node gives (envelope checks, decrypted content, what the node holds,
// log entries, sync). They are the labels of
// concord_messages_rejected_total (docs/protocol.md §8.7): never change
// the values.
const (
	// The envelope's own checks (DecodeEnvelope, CheckEnvelope).
	ReasonTooLarge     = "too-large"
	ReasonMalformed    = "malformed"
	ReasonUnknownTopic = "unknown-topic"
	ReasonUnknownEpoch = "unknown-epoch"
	ReasonNotMember    = "not-member"
	ReasonWrongNode    = "wrong-node"
	ReasonBadSignature = "bad-signature"
	ReasonStaleEpoch   = "stale-epoch"
	ReasonBadAudience  = "bad-audience"
	ReasonBadTime      = "bad-time" // ts far ahead of the receiver's clock, or before 1970 (CheckEnvelopeTime)
	// Found after decryption, by OpenInner.
	ReasonBadInner          = "bad-inner"           // malformed, or not matching its envelope
	ReasonBadInnerSignature = "bad-inner-signature" // inner signature is not the author's
	// Content, the node's state, log entries and sync.
	ReasonWrongPubsubTopic = "wrong-pubsub-topic" // valid item on the wrong GossipSub topic string
	ReasonUndecryptable    = "undecryptable"      // we hold the key but age decryption fails
	ReasonBadBulletin      = "bad-bulletin"       // payload not a valid bulletin, or not matching its envelope
	ReasonBadRevocation    = "bad-revocation"     // a revocation payload that does not decode
	ReasonBadReceipt       = "bad-receipt"        // a receipt payload that does not decode, or for a request not its recipient's
	ReasonBadBulletinID    = "bad-bulletin-id"    // an ID not bound to the envelope's author and topic
	ReasonNotOriginator    = "not-originator"     // revision or revocation of another member's bulletin
	ReasonBadRevision      = "bad-revision"       // a revision that changes topic, creation time or audience
	ReasonEquivocation     = "equivocation"       // a different envelope already holds (topic, author, seq)
	ReasonBrokenChain      = "broken-chain"       // prev does not link to the stored neighbours
	ReasonFormerChain      = "former-chain"       // a former member's envelope off the chain its removal pinned, or not yet linked
	ReasonBudget           = "budget"             // over the author's budget on the topic
	ReasonQuota            = "quota"              // over the author's storage quota on the topic
	ReasonStore            = "store-error"        // local storage failure: not the sender's fault
	ReasonInvalidEntry     = "invalid-entry"      // a log entry that fails the log's rules
	ReasonBusy             = "busy"               // a sync or join stream found no free slot
	ReasonHintLimited      = "hint-limited"       // a hint too soon after the last one from that peer
	ReasonUnwarrantedHint  = "unwarranted-hint"   // a hint our log still does not explain after a log sync
)

// LocalVerdict reports whether a rejection for reason depends on what the
// rejecting node holds or allows (its copy of the bulletin, the author's
// envelopes around this one, its budgets and quotas): a peer that
// forwarded the envelope without holding the same acted in good faith, so
// the envelope is ignored rather than penalised (docs/protocol.md §8.6).
func LocalVerdict(reason string) bool {
	switch reason {
	case ReasonNotOriginator, ReasonBadRevision, ReasonBrokenChain, ReasonFormerChain, ReasonBudget, ReasonQuota:
		return true
	}
	return false
}

// Rejection is why an envelope was refused. Reason is a stable label from
// the Reason constants, for counting; Err says precisely what was wrong.
type Rejection struct {
	Reason string
	Err    error
}

func (r *Rejection) Error() string { return fmt.Sprintf("envelope rejected (%s): %v", r.Reason, r.Err) }

// Unwrap returns the underlying error.
func (r *Rejection) Unwrap() error { return r.Err }

func reject(reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// RejectionReason returns the label of a *Rejection in err's chain, or ""
// when err is not a rejection.
func RejectionReason(err error) string {
	var r *Rejection
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}
