package protocol

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
)

// MaxPlaintext bounds a decrypted envelope: the bulletin plus the inner
// signature container.
const MaxPlaintext = MaxBulletinBytes + 4<<10

// Reader is who opens envelopes on a topic: a member's identity and the
// epoch keys it holds there.
type Reader struct {
	ID   *crypto.Identity
	Keys map[uint64]*crypto.EpochKey
}

// Key returns the key that opens env, or nil if r may not: with an
// audience, the member's own key if it is in the audience or is the
// author; without, the key of env's epoch, which opens both its epoch
// stanza and the hybrid stanza of envelopes sealed before it existed.
func (r Reader) Key(env *Envelope) age.Identity {
	if len(env.Audience) > 0 {
		if me := r.ID.MemberID(); slices.Contains(env.Audience, me) || env.Author == me {
			return r.ID.Age
		}
		return nil
	}
	if k := r.Keys[env.Epoch]; k != nil && len(env.Topic) == len(TopicID{}) {
		return k.EnvelopeIdentity(env.TopicID())
	}
	return nil
}

// Opened is the content of an envelope, as Open or OpenPayload found and
// checked it.
type Opened struct {
	// Sealed: the reader holds no key for the envelope (a restricted
	// audience it is not in, an epoch whose key it never held), so
	// nothing inside was read or checked.
	Sealed     bool
	Bulletin   *Bulletin   // of a bulletin or a revision
	Revocation *Revocation // of a revocation
	Receipt    *Receipt    // of a receipt
}

// Open decrypts env as r, verifies its inner signature with the author's
// card in state, and checks its payload against env and state (see
// OpenPayload); now is the reader's clock. The envelope itself must have
// passed state.CheckEnvelope. Errors are *Rejection.
func Open(state *TopicState, r Reader, env *Envelope, now time.Time) (*Opened, error) {
	key := r.Key(env)
	if key == nil {
		return &Opened{Sealed: true}, nil
	}
	card := state.Card(env.Author)
	if card == nil {
		return nil, reject(ReasonNotMember, "envelope %s: topic %s holds no card of author %s", env.ID.Short(), state.ID.Short(), env.Author)
	}
	plaintext, err := crypto.Decrypt(env.Ciphertext, MaxPlaintext, key)
	if err != nil {
		return nil, &Rejection{Reason: ReasonUndecryptable, Err: fmt.Errorf("envelope %s: %w", env.ID.Short(), err)}
	}
	inner, err := OpenInner(plaintext, env, card)
	if err != nil {
		return nil, err
	}
	return OpenPayload(state, env, inner.Payload, now)
}

// OpenPayload decodes the decrypted payload of env and ties it to env and
// state: a bulletin (or revision) whose ID is bound to the author and
// topic, whose times are not ahead of now and which matches its envelope;
// a revocation of a bulletin whose ID is bound to the author. Sender and
// receivers all judge a payload with it. Errors are *Rejection.
func OpenPayload(state *TopicState, env *Envelope, payload []byte, now time.Time) (*Opened, error) {
	fail := func(reason string, err error) (*Opened, error) {
		return nil, &Rejection{Reason: reason, Err: fmt.Errorf("envelope %s: %w", env.ID.Short(), err)}
	}
	if env.Kind == KindReceipt {
		return openReceipt(state, env, payload, now)
	}
	if env.Kind == KindRevocation {
		r, err := DecodeRevocation(payload)
		if err != nil {
			return fail(ReasonBadRevocation, err)
		}
		// Only its originator can make an ID that binds to it: a member
		// cannot revoke another's bulletin, whatever arrives first.
		if err := CheckBulletinID(r.Bulletin, state.ID, env.Author); err != nil {
			return fail(ReasonBadBulletinID, fmt.Errorf("revocation: %w", err))
		}
		return &Opened{Revocation: r}, nil
	}
	b, err := DecodeBulletin(payload)
	if err != nil {
		return fail(ReasonBadBulletin, err)
	}
	if err := CheckBulletinID(b.ID, state.ID, env.Author); err != nil {
		return fail(ReasonBadBulletinID, err)
	}
	if err := CheckBulletinTimes(b, now); err != nil {
		return fail(ReasonBadTime, err)
	}
	if err := checkBulletinMatches(b, env, state); err != nil {
		return fail(ReasonBadBulletin, err)
	}
	return &Opened{Bulletin: b}, nil
}

// checkBulletinMatches ties the decrypted bulletin to its envelope.
func checkBulletinMatches(b *Bulletin, env *Envelope, state *TopicState) error {
	switch {
	case b.Originator.Member != env.Author:
		return fmt.Errorf("bulletin originator %s is not the envelope's author %s", b.Originator.Member, env.Author)
	case b.Category != state.Category:
		return fmt.Errorf("bulletin category %q is not the topic's %q", b.Category, state.Category)
	case !slices.Equal(b.Audience, env.Audience):
		return errors.New("bulletin audience differs from the envelope's")
	case env.Kind == KindBulletin && b.Version != 1:
		return fmt.Errorf("a new bulletin has version 1, not %d; later versions travel as revisions", b.Version)
	case env.Kind == KindRevision && b.Version < 2:
		return fmt.Errorf("a revision has version 2 or more, not %d", b.Version)
	}
	return nil
}
