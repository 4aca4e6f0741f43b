package protocol

import (
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
)

// SealParams is one envelope to seal: what its author publishes, where it
// sits in the author's chain on the topic, and who may read it.
type SealParams struct {
	Kind     string          // KindBulletin, KindRevision, KindRevocation or KindReceipt
	Payload  []byte          // an encoded bulletin, Revocation or Receipt
	Audience []string        // restricted audience; empty: the epoch key
	To       []age.Recipient // the epoch's EnvelopeRecipient, or each audience member and the author
	Seq      uint64          // the author's next sequence number on the topic
	Prev     []byte          // ID of the author's envelope at Seq-1; nil at Seq 1
	TS       time.Time
}

// Seal signs the inner body as id, encrypts it to p.To and signs the
// envelope for the topic's current epoch, from id's node. It reads
// nothing but its arguments: the caller finds the author's chain head and
// the recipients.
func Seal(state *TopicState, id *crypto.Identity, p SealParams) (*Envelope, error) {
	me := id.MemberID()
	inner, err := SealInner(id, InnerBody{Topic: state.ID[:], Epoch: state.Epoch, Author: me, Seq: p.Seq, Kind: p.Kind, Payload: p.Payload})
	if err != nil {
		return nil, err
	}
	ct, err := crypto.Encrypt(inner, p.To...)
	if err != nil {
		return nil, err
	}
	return SealEnvelope(id, EnvelopeBody{
		Kind: p.Kind, Topic: state.ID[:], Epoch: state.Epoch, Author: me, Node: id.PeerID().String(),
		Seq: p.Seq, Prev: p.Prev, TS: p.TS, Audience: p.Audience, Ciphertext: ct,
	})
}
