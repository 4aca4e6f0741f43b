package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Reasons counted for revisions and revocations.
const (
	reasonNotOriginator = "not-originator"  // revision or revocation of another member's bulletin
	reasonBadRevision   = "bad-revision"    // a revision that changes topic, creation time or audience
	reasonBadRevocation = "bad-revocation"  // a revocation payload that does not decode
	reasonBadBulletinID = "bad-bulletin-id" // an ID not bound to the envelope's author and topic
	reasonBadTime       = "bad-time"        // created or modified far ahead of our clock
)

// Errors of Revise and Revoke that the API reports with their own status.
var (
	ErrNotOriginator = errors.New("only its originator may revise or revoke a bulletin")
	ErrTombstone     = errors.New("the bulletin's content is erased")
)

// openPayload completes rec, the sealed record of env, with its decrypted
// payload: the record the envelope makes alone, as sender and receivers
// all make it.
func openPayload(rec *store.BulletinRecord, payload []byte, env *protocol.Envelope, state *protocol.TopicState) (*store.BulletinRecord, string, error) {
	if env.Kind == protocol.KindRevocation {
		r, err := protocol.DecodeRevocation(payload)
		if err != nil {
			return nil, reasonBadRevocation, fmt.Errorf("envelope %s: %w", env.ID.Short(), err)
		}
		// Only its originator can make an ID that binds to it: a member
		// cannot revoke another's bulletin, whatever arrives first.
		if err := protocol.CheckBulletinID(r.Bulletin, state.ID, env.Author); err != nil {
			return nil, reasonBadBulletinID, fmt.Errorf("envelope %s: revocation: %w", env.ID.Short(), err)
		}
		rec.ID, rec.Sealed, rec.Reason, rec.RevokedAt = r.Bulletin, false, r.Reason, env.TS.UTC()
		return rec, "", nil
	}
	b, err := protocol.DecodeBulletin(payload)
	if err != nil {
		return nil, reasonBadBulletin, fmt.Errorf("envelope %s: %w", env.ID.Short(), err)
	}
	if err := protocol.CheckBulletinID(b.ID, state.ID, env.Author); err != nil {
		return nil, reasonBadBulletinID, fmt.Errorf("envelope %s: %w", env.ID.Short(), err)
	}
	if err := protocol.CheckBulletinTimes(b, time.Now()); err != nil {
		return nil, reasonBadTime, fmt.Errorf("envelope %s: %w", env.ID.Short(), err)
	}
	if err := checkBulletinMatches(b, env, state); err != nil {
		return nil, reasonBadBulletin, fmt.Errorf("envelope %s: %w", env.ID.Short(), err)
	}
	return bulletinRecord(rec, b)
}

// Revise publishes the next version of one of this member's bulletins:
// the content of draft, with the same ID, creation time and audience, on
// the bulletin's topic. bulletinID may be a unique prefix.
func (n *Node) Revise(ctx context.Context, bulletinID string, draft *protocol.BulletinDraft) (*store.BulletinRecord, error) {
	t, id, err := n.ownBulletin(bulletinID)
	if err != nil {
		return nil, err
	}
	return n.emit(ctx, t, func(state *protocol.TopicState, now time.Time) (*outgoing, error) {
		// Read under the topic's lock: two revisions at once get two versions.
		cur, err := n.currentVersion(id)
		if err != nil {
			return nil, err
		}
		b, err := cur.Revise(draft, now)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(b.Audience, cur.Audience) {
			return nil, fmt.Errorf("a revision keeps the audience of its bulletin (%s): publish a new bulletin for another audience", describeAudience(cur.Audience))
		}
		return bulletinOut(protocol.KindRevision, b)
	})
}

// Revoke publishes the tombstone of one of this member's bulletins: every
// member erases its content and keeps the reason. bulletinID may be a
// unique prefix.
func (n *Node) Revoke(ctx context.Context, bulletinID, reason string) (*store.BulletinRecord, error) {
	t, id, err := n.ownBulletin(bulletinID)
	if err != nil {
		return nil, err
	}
	payload, err := protocol.EncodeRevocation(protocol.Revocation{Bulletin: id, Reason: reason})
	if err != nil {
		return nil, err
	}
	return n.emit(ctx, t, func(state *protocol.TopicState, _ time.Time) (*outgoing, error) {
		rec, err := n.store.Bulletin(id)
		if err != nil {
			return nil, err
		}
		if rec.Revoked {
			return nil, fmt.Errorf("bulletin %s is already revoked (%s)", id, rec.Reason)
		}
		return &outgoing{kind: protocol.KindRevocation, payload: payload, audience: revocationAudience(state, rec.Audience, n.id.MemberID())}, nil
	})
}

// revocationAudience is who a revocation is encrypted to: the bulletin's
// audience, less those who have left the topic since (an envelope may
// name only members), and never widened: if nobody is left, only us.
func revocationAudience(state *protocol.TopicState, audience []string, me string) []string {
	if len(audience) == 0 {
		return nil
	}
	var out []string
	for _, id := range audience {
		if _, ok := state.Members[id]; ok {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		out = []string{me}
	}
	return out
}

// ownBulletin resolves a bulletin this member originated and may still
// publish on: its topic and full ID.
func (n *Node) ownBulletin(ref string) (*topic, string, error) {
	if len(ref) < 4 {
		return nil, "", fmt.Errorf("bulletin ID %q is too short: give the ID or a prefix of 4 characters or more", ref)
	}
	rec, err := n.store.Bulletin(ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "", fmt.Errorf("%w: no bulletin %q on this node (see `concord list`)", store.ErrNotFound, ref)
	case err != nil:
		return nil, "", err
	case rec.Sealed:
		return nil, "", fmt.Errorf("%w: this node cannot read bulletin %s", ErrNotOriginator, ref)
	case rec.Author != n.id.MemberID():
		return nil, "", fmt.Errorf("%w: bulletin %s was published by member %s, not by this member %s", ErrNotOriginator, rec.ID, rec.Author, n.id.MemberID())
	}
	t := n.topicByID(rec.Topic)
	if t == nil {
		return nil, "", fmt.Errorf("bulletin %s is on a topic this node no longer belongs to", rec.ID)
	}
	return t, rec.ID, nil
}

// currentVersion returns the latest version of bulletin id held here.
func (n *Node) currentVersion(id string) (*protocol.Bulletin, error) {
	rec, err := n.store.Bulletin(id)
	switch {
	case err != nil:
		return nil, err
	case rec.Revoked:
		return nil, fmt.Errorf("%w: bulletin %s was revoked (%s); publish a new bulletin instead", ErrTombstone, id, rec.Reason)
	case rec.Expired:
		return nil, fmt.Errorf("%w: bulletin %s expired and retention erased it on this node; publish a new bulletin instead", ErrTombstone, id)
	}
	// Whole, attachments included: the next version starts from it.
	return n.fullBulletin(rec)
}

func describeAudience(ids []string) string {
	if len(ids) == 0 {
		return "every member of the topic"
	}
	return "restricted to " + strings.Join(ids, ", ")
}
