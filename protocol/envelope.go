package protocol

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

// Envelope kinds.
const (
	KindBulletin   = "bulletin"   // a new bulletin
	KindRevision   = "revision"   // a new version of the author's bulletin
	KindRevocation = "revocation" // a tombstone for the author's bulletin
	KindReceipt    = "receipt"    // where a request stands, sealed to its requester (request.go)
)

var envelopeKinds = []string{KindBulletin, KindRevision, KindRevocation, KindReceipt}

// MaxAudience bounds a restricted audience: past that, a bulletin is
// better sent to the epoch key, as each audience member costs a
// post-quantum stanza of about 1.5 KB.
const MaxAudience = 32

// EnvelopeBody is the signed content of an envelope.
type EnvelopeBody struct {
	V          int       `cbor:"v"`
	Kind       string    `cbor:"kind"`
	Topic      []byte    `cbor:"topic"`
	Epoch      uint64    `cbor:"epoch"`
	Author     string    `cbor:"author"`
	Node       string    `cbor:"node"` // peer ID of the publishing node
	Seq        uint64    `cbor:"seq"`
	Prev       []byte    `cbor:"prev,omitempty"` // ID of the author's previous envelope; absent when seq = 1
	TS         time.Time `cbor:"ts"`
	Audience   []string  `cbor:"audience,omitempty"` // restricted audience, sorted
	Ciphertext []byte    `cbor:"ciphertext"`
}

// Envelope is a decoded envelope with its exact wire bytes and ID.
type Envelope struct {
	EnvelopeBody
	Raw    []byte
	ID     EnvelopeID
	signed crypto.Signed
}

// TopicID returns the envelope's topic.
func (e *Envelope) TopicID() TopicID { return TopicID(e.Topic) }

// SealEnvelope signs body as identity id and returns the envelope (its
// wire bytes in Raw). V is set to the protocol version and TS stored in
// UTC. The result is decoded as a receiver decodes it, so an envelope no
// node would accept is refused here.
func SealEnvelope(id *crypto.Identity, body EnvelopeBody) (*Envelope, error) {
	if body.Author != id.MemberID() {
		return nil, fmt.Errorf("envelope author %s is not the signing member %s", body.Author, id.MemberID())
	}
	body.V = ProtocolVersion
	body.TS = body.TS.UTC()
	raw, _, err := crypto.Seal(id.Signing, crypto.DomainEnvelope, body)
	if err != nil {
		return nil, err
	}
	return DecodeEnvelope(raw)
}

// DecodeEnvelope decodes an envelope and checks what does not depend on
// the topic log: size, canonical form and field validity. It does not
// verify the signature. Errors are *Rejection.
func DecodeEnvelope(raw []byte) (*Envelope, error) {
	if len(raw) > MaxEnvelopeBytes {
		return nil, reject(ReasonTooLarge, "envelope is %d bytes, more than the %d allowed", len(raw), MaxEnvelopeBytes)
	}
	s, err := crypto.Open(raw)
	if err != nil {
		return nil, reject(ReasonMalformed, "envelope is malformed: %w", err)
	}
	e := &Envelope{Raw: append([]byte(nil), raw...), ID: sha256.Sum256(raw), signed: s}
	if err := canon.Unmarshal(s.Body, &e.EnvelopeBody); err != nil {
		return nil, reject(ReasonMalformed, "envelope is malformed: %w", err)
	}
	if err := e.check(); err != nil {
		return nil, &Rejection{Reason: ReasonMalformed, Err: fmt.Errorf("envelope %s: %w", e.ID.Short(), err)}
	}
	return e, nil
}

func (e *EnvelopeBody) check() error {
	if e.V != ProtocolVersion {
		return fieldErr("v", "version %d is not supported (want %d)", e.V, ProtocolVersion)
	}
	if !slices.Contains(envelopeKinds, e.Kind) {
		return fieldErr("kind", "%q is not an envelope kind (want one of %s)", clip(e.Kind), strings.Join(envelopeKinds, ", "))
	}
	if len(e.Topic) != hashLen {
		return fieldErr("topic", "is %d bytes, want %d", len(e.Topic), hashLen)
	}
	if e.Epoch == 0 {
		return fieldErr("epoch", "epoch 0 has no key; epochs start at 1")
	}
	if err := checkMemberField("author", e.Author); err != nil {
		return err
	}
	if err := checkNode(e.Node); err != nil {
		return err
	}
	if err := checkSeq(e.Seq, e.Prev); err != nil {
		return err
	}
	if err := checkTS("ts", e.TS); err != nil {
		return err
	}
	if err := checkAudience(e.Audience); err != nil {
		return err
	}
	if err := e.checkReceiptEnvelope(); err != nil {
		return err
	}
	if len(e.Ciphertext) == 0 {
		return fieldErr("ciphertext", "is empty")
	}
	return nil
}

func checkNode(node string) error {
	p, err := peer.Decode(node)
	if err != nil {
		return fieldErr("node", "not a libp2p peer ID: %v", err)
	}
	// A peer ID has several text forms; one envelope must have one encoding.
	if p.String() != node {
		return fieldErr("node", "peer ID is not in its canonical form %s", p)
	}
	return nil
}

func checkSeq(seq uint64, prev []byte) error {
	switch {
	case seq == 0:
		return fieldErr("seq", "sequence numbers start at 1")
	case seq == 1 && prev != nil:
		return fieldErr("prev", "must be absent in an author's first envelope (seq 1)")
	case seq > 1 && len(prev) != hashLen:
		return fieldErr("prev", "is %d bytes, want the %d-byte ID of envelope seq %d", len(prev), hashLen, seq-1)
	}
	return nil
}

func checkAudience(aud []string) error {
	if len(aud) > MaxAudience {
		return fieldErr("audience", "names %d members, at most %d allowed", len(aud), MaxAudience)
	}
	for i, id := range aud {
		if err := checkMemberField(fmt.Sprintf("audience[%d]", i), id); err != nil {
			return err
		}
		if i > 0 && id <= aud[i-1] {
			return fieldErr("audience", "must be sorted without duplicates (%s after %s)", id, aud[i-1])
		}
	}
	return nil
}

// VerifySignature checks the outer signature with the author's card.
func (e *Envelope) VerifySignature(card *crypto.Card) error {
	if card.ID != e.Author {
		return reject(ReasonBadSignature, "envelope %s is by %s, not by the card's member %s", e.ID.Short(), e.Author, card.ID)
	}
	if err := crypto.Verify(card.SignKey, crypto.DomainEnvelope, e.signed.Body, e.signed.Sig); err != nil {
		return reject(ReasonBadSignature, "envelope %s: signature does not verify with the signing key of author %s", e.ID.Short(), e.Author)
	}
	return nil
}

// CheckEnvelope applies the topic log's rules to a decoded envelope, in
// the order of the design: topic, epoch known, membership at the
// envelope's epoch, node, signature, grace window, audience. An epoch
// newer than the log's is "unknown-epoch" rather than "not-member": the
// node is behind on the log and should sync it. Sequence continuity is the
// node's to check against its stored heads. Errors are *Rejection.
func (s *TopicState) CheckEnvelope(e *Envelope, graceEpochs uint64) error {
	if !bytes.Equal(e.Topic, s.ID[:]) {
		return reject(ReasonUnknownTopic, "envelope %s is for topic %x…, not %s", e.ID.Short(), e.Topic[:6], s.ID.Short())
	}
	if e.Epoch > s.Epoch {
		return reject(ReasonUnknownEpoch, "envelope %s is for epoch %d, but the log of topic %s is at epoch %d", e.ID.Short(), e.Epoch, s.ID.Short(), s.Epoch)
	}
	if !s.MemberAt(e.Author, e.Epoch) {
		return reject(ReasonNotMember, "envelope %s: author %s was not a member of topic %s at epoch %d", e.ID.Short(), e.Author, s.ID.Short(), e.Epoch)
	}
	card := s.Card(e.Author)
	node, _ := peer.Decode(e.Node) // checked by DecodeEnvelope
	if !card.HasPeer(node) {
		return reject(ReasonWrongNode, "envelope %s: node %s is not certified by the card of author %s", e.ID.Short(), e.Node, e.Author)
	}
	if err := e.VerifySignature(card); err != nil {
		return err
	}
	if s.Epoch-e.Epoch > graceEpochs {
		return reject(ReasonStaleEpoch, "envelope %s is for epoch %d, more than %d behind the current epoch %d of topic %s",
			e.ID.Short(), e.Epoch, graceEpochs, s.Epoch, s.ID.Short())
	}
	for _, id := range e.Audience {
		if !s.MemberAt(id, e.Epoch) {
			return reject(ReasonBadAudience, "envelope %s: audience member %s was not a member of topic %s at epoch %d", e.ID.Short(), id, s.ID.Short(), e.Epoch)
		}
	}
	return nil
}

// CheckEnvelopeTime refuses an envelope whose ts is more than
// MaxFutureSkew ahead of now, the receiver's clock, or before 1970: a
// publisher must not date its envelopes into the future. Errors are
// *Rejection with ReasonBadTime.
func CheckEnvelopeTime(env *Envelope, now time.Time) error {
	if env.TS.Before(time.Unix(0, 0)) {
		return reject(ReasonBadTime, "envelope %s: field %q: %s is before 1970: check the publisher's clock",
			env.ID.Short(), "ts", env.TS.Format(time.RFC3339Nano))
	}
	if env.TS.After(now.Add(MaxFutureSkew)) {
		return reject(ReasonBadTime, "envelope %s: field %q: %s is more than %s ahead of this node's clock (%s): check the publisher's clock",
			env.ID.Short(), "ts", env.TS.Format(time.RFC3339Nano), MaxFutureSkew, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// InnerBody is the signed plaintext inside an envelope's ciphertext. It
// repeats the envelope's topic, epoch, author, sequence number and kind so
// that the author's signature binds the payload to them: a member who
// decrypts it cannot re-encrypt it into another topic, or under its own
// name, without OpenInner noticing.
type InnerBody struct {
	Topic   []byte `cbor:"topic"`
	Epoch   uint64 `cbor:"epoch"`
	Author  string `cbor:"author"`
	Seq     uint64 `cbor:"seq"`
	Kind    string `cbor:"kind"`
	Payload []byte `cbor:"payload"` // bulletin bytes, a Revocation for KindRevocation, a Receipt for KindReceipt
}

// SealInner signs in as identity id and returns the container bytes that
// are encrypted into an envelope's ciphertext.
func SealInner(id *crypto.Identity, in InnerBody) ([]byte, error) {
	if in.Author != id.MemberID() {
		return nil, fmt.Errorf("inner body author %s is not the signing member %s", in.Author, id.MemberID())
	}
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("inner body: %w", err)
	}
	raw, _, err := crypto.Seal(id.Signing, crypto.DomainBulletin, in)
	return raw, err
}

func (in *InnerBody) check() error {
	switch {
	case len(in.Topic) != hashLen:
		return fieldErr("topic", "is %d bytes, want %d", len(in.Topic), hashLen)
	case in.Epoch == 0:
		return fieldErr("epoch", "epoch 0 has no key; epochs start at 1")
	case in.Seq == 0:
		return fieldErr("seq", "sequence numbers start at 1")
	case !slices.Contains(envelopeKinds, in.Kind):
		return fieldErr("kind", "%q is not an envelope kind (want one of %s)", clip(in.Kind), strings.Join(envelopeKinds, ", "))
	case len(in.Payload) == 0:
		return fieldErr("payload", "is empty")
	}
	return checkMemberField("author", in.Author)
}

// OpenInner decodes the decrypted plaintext of env, verifies its signature
// with card (the author's) and checks that it names the same topic, epoch,
// author, sequence number and kind as env. Errors are *Rejection.
func OpenInner(plaintext []byte, env *Envelope, card *crypto.Card) (*InnerBody, error) {
	if card.ID != env.Author {
		return nil, reject(ReasonBadInnerSignature, "envelope %s is by %s, not by the card's member %s", env.ID.Short(), env.Author, card.ID)
	}
	s, err := crypto.Open(plaintext)
	if err != nil {
		return nil, reject(ReasonBadInner, "envelope %s: plaintext is malformed: %w", env.ID.Short(), err)
	}
	var in InnerBody
	if err := canon.Unmarshal(s.Body, &in); err != nil {
		return nil, reject(ReasonBadInner, "envelope %s: plaintext is malformed: %w", env.ID.Short(), err)
	}
	if err := in.check(); err != nil {
		return nil, reject(ReasonBadInner, "envelope %s: plaintext %w", env.ID.Short(), err)
	}
	if err := crypto.Verify(card.SignKey, crypto.DomainBulletin, s.Body, s.Sig); err != nil {
		return nil, reject(ReasonBadInnerSignature, "envelope %s: inner signature does not verify with the signing key of author %s", env.ID.Short(), env.Author)
	}
	if err := in.matches(env); err != nil {
		return nil, reject(ReasonBadInner, "envelope %s: %w", env.ID.Short(), err)
	}
	return &in, nil
}

func (in *InnerBody) matches(env *Envelope) error {
	mismatch := func(field string, inner, outer any) error {
		return fmt.Errorf("signed plaintext names %s %v but the envelope %v: it was re-encrypted from elsewhere", field, inner, outer)
	}
	switch {
	case !bytes.Equal(in.Topic, env.Topic):
		return mismatch("topic", TopicID(in.Topic).Short(), TopicID(env.Topic).Short())
	case in.Epoch != env.Epoch:
		return mismatch("epoch", in.Epoch, env.Epoch)
	case in.Author != env.Author:
		return mismatch("author", in.Author, env.Author)
	case in.Seq != env.Seq:
		return mismatch("seq", in.Seq, env.Seq)
	case in.Kind != env.Kind:
		return mismatch("kind", in.Kind, env.Kind)
	}
	return nil
}

// Revocation is the payload of a KindRevocation envelope: the tombstone of
// one of the author's bulletins.
type Revocation struct {
	Bulletin string `cbor:"bulletin"` // bulletin ID
	Reason   string `cbor:"reason"`
}

// EncodeRevocation checks r and encodes it canonically.
func EncodeRevocation(r Revocation) ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return canon.Marshal(r)
}

// DecodeRevocation decodes and checks a revocation payload.
func DecodeRevocation(data []byte) (*Revocation, error) {
	var r Revocation
	if err := canon.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("revocation is malformed: %w", err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Revocation) check() error {
	if !ValidBulletinID(r.Bulletin) {
		return fmt.Errorf("revocation field %q: %q is not a bulletin ID", "bulletin", clip(r.Bulletin))
	}
	// Readers see only the tombstone and its reason, so a reason is required.
	if strings.TrimSpace(r.Reason) == "" {
		return fmt.Errorf("revocation field %q: is empty; say why the bulletin is revoked", "reason")
	}
	if len(r.Reason) > MaxReasonLen || !utf8.ValidString(r.Reason) {
		return fmt.Errorf("revocation field %q: must be valid UTF-8 of at most %d bytes", "reason", MaxReasonLen)
	}
	return nil
}
