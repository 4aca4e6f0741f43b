package protocol

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/internal/canon"
)

// Request priorities.
const (
	PriorityRoutine   = "routine"
	PriorityUrgent    = "urgent"
	PriorityImmediate = "immediate"
)

var priorities = []string{PriorityRoutine, PriorityUrgent, PriorityImmediate}

// Priorities returns the priorities a request may carry, least urgent first.
func Priorities() []string { return slices.Clone(priorities) }

// MaxAddressees bounds a request's addressees: with the requester they
// make its audience, which MaxAudience bounds.
const MaxAddressees = MaxAudience - 1

// Request makes a bulletin a request for information: the addressees To
// are asked to answer by Due. Its audience is exactly To and the
// requester, so that addressees see the question but nothing else.
type Request struct {
	Due      time.Time `cbor:"due" json:"due"`
	Priority string    `cbor:"priority" json:"priority"`
	To       []string  `cbor:"to" json:"to"` // member IDs, sorted in a bulletin
}

func (r *Request) validate() error {
	if err := checkTime("request.due", r.Due); err != nil {
		return err
	}
	if err := checkOneOf("request.priority", r.Priority, priorities, "a request priority"); err != nil {
		return err
	}
	if len(r.To) == 0 {
		return bulletinErr("request.to", "names nobody: a request is addressed to at least one member")
	}
	if len(r.To) > MaxAddressees {
		return bulletinErr("request.to", "names %d members, at most %d allowed", len(r.To), MaxAddressees)
	}
	return checkMemberList("request.to", r.To)
}

// requestAudience is the audience a request must have: its addressees and
// the requester, sorted.
func requestAudience(r *Request, requester string) []string {
	aud := slices.Clone(r.To)
	if !slices.Contains(aud, requester) {
		aud = append(aud, requester)
	}
	slices.Sort(aud)
	return aud
}

// checkRequestLinks ties a bulletin's request to its header: due after
// created, addressees sorted and not the requester, audience exactly the
// addressees and the requester.
func (b *Bulletin) checkRequestLinks() error {
	r := b.Request
	if r == nil {
		return nil
	}
	if !r.Due.After(b.Created) {
		return bulletinErr("request.due", "%s is not after created (%s)", r.Due.Format(time.RFC3339Nano), b.Created.Format(time.RFC3339Nano))
	}
	if !slices.IsSorted(r.To) {
		return bulletinErr("request.to", "must be sorted")
	}
	if slices.Contains(r.To, b.Originator.Member) {
		return bulletinErr("request.to", "names the requester %s: a request asks other members", b.Originator.Member)
	}
	if want := requestAudience(r, b.Originator.Member); !slices.Equal(b.Audience, want) {
		return bulletinErr("audience", "a request's audience must be its addressees and the requester (%s)", strings.Join(want, ", "))
	}
	return nil
}

// Receipt states. An answer is a bulletin replying to the request, not a
// receipt.
const (
	ReceiptDelivered    = "delivered"    // the addressee's node stored the request
	ReceiptAcknowledged = "acknowledged" // an analyst of the addressee took it up
	ReceiptDeclined     = "declined"     // the addressee will not answer; Reason says why
)

var receiptStates = []string{ReceiptDelivered, ReceiptAcknowledged, ReceiptDeclined}

// MaxDeclineReasonLen bounds a declined receipt's reason, in bytes.
const MaxDeclineReasonLen = 1024

// Receipt is the payload of a KindReceipt envelope: an addressee tells
// the requester (the envelope's one audience member) where its request
// stands.
type Receipt struct {
	Request string    `cbor:"request" json:"request"` // the request's bulletin ID
	State   string    `cbor:"state" json:"state"`
	Reason  string    `cbor:"reason,omitempty" json:"reason,omitempty"` // declined only
	At      time.Time `cbor:"at" json:"at"`
}

// EncodeReceipt checks r and encodes it canonically.
func EncodeReceipt(r Receipt) ([]byte, error) {
	r.At = r.At.UTC()
	if err := r.check(); err != nil {
		return nil, err
	}
	return canon.Marshal(r)
}

// DecodeReceipt decodes and checks a receipt payload.
func DecodeReceipt(data []byte) (*Receipt, error) {
	if len(data) > maxReceiptBytes {
		return nil, fmt.Errorf("receipt is %d bytes, more than the %d allowed", len(data), maxReceiptBytes)
	}
	var r Receipt
	if err := canon.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("receipt is malformed: %w", err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// maxReceiptBytes bounds an encoded receipt: its reason and a few fields.
const maxReceiptBytes = MaxDeclineReasonLen + 256

func (r *Receipt) check() error {
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("receipt field %q: %s", field, fmt.Sprintf(format, args...))
	}
	if !ValidBulletinID(r.Request) {
		return fail("request", "%s is not a bulletin ID", quote(r.Request))
	}
	if !slices.Contains(receiptStates, r.State) {
		return fail("state", "%s is not a receipt state (%s)", quote(r.State), strings.Join(receiptStates, ", "))
	}
	if r.State == ReceiptDeclined {
		if err := checkRequired("reason", r.Reason, MaxDeclineReasonLen, true); err != nil {
			return fail("reason", "%s: a declined receipt says why", err.(*FieldError).Problem)
		}
	} else if r.Reason != "" {
		return fail("reason", "is only allowed in a declined receipt, not %s", r.State)
	}
	if err := checkTime("at", r.At); err != nil {
		return fail("at", "%s", err.(*FieldError).Problem)
	}
	return nil
}

// checkReceiptEnvelope is what a receipt envelope must be without being
// opened: addressed to one member, the requester, who is not its author.
func (e *EnvelopeBody) checkReceiptEnvelope() error {
	if e.Kind != KindReceipt {
		return nil
	}
	if len(e.Audience) != 1 {
		return fieldErr("audience", "a receipt is sealed to exactly one member, the requester, not %d", len(e.Audience))
	}
	if e.Audience[0] == e.Author {
		return fieldErr("audience", "a receipt is sealed to the requester, not to its own author")
	}
	return nil
}

// openReceipt decodes the payload of a receipt envelope and ties it to
// the envelope: the request it concerns is a bulletin the envelope's one
// audience member made on this topic, and its time is not ahead of now.
func openReceipt(state *TopicState, env *Envelope, payload []byte, now time.Time) (*Opened, error) {
	fail := func(reason string, err error) (*Opened, error) {
		return nil, &Rejection{Reason: reason, Err: fmt.Errorf("envelope %s: %w", env.ID.Short(), err)}
	}
	r, err := DecodeReceipt(payload)
	if err != nil {
		return fail(ReasonBadReceipt, err)
	}
	if err := CheckBulletinID(r.Request, state.ID, env.Audience[0]); err != nil {
		return fail(ReasonBadReceipt, fmt.Errorf("receipt: the request is not the recipient's: %w", err))
	}
	if r.At.After(now.Add(MaxFutureSkew)) {
		return fail(ReasonBadTime, fmt.Errorf("receipt field %q: %s is more than %s ahead of this node's clock", "at", r.At.Format(time.RFC3339), MaxFutureSkew))
	}
	return &Opened{Receipt: r}, nil
}
