package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// ErrTombstone is Revise's error for a bulletin whose content is erased.
// (One of another member's bulletins is store.ErrNotOriginator.)
var ErrTombstone = errors.New("the bulletin's content is erased")

// openedRecord completes rec, the sealed record of env, with what
// protocol.Open or protocol.OpenPayload found in it: the record the
// envelope makes alone, as sender and receivers all make it. A sealed
// revision or revocation makes none: the ID of the bulletin it concerns
// is inside, so it cannot be tied to one.
func openedRecord(rec *store.BulletinRecord, env *protocol.Envelope, o *protocol.Opened) (*store.BulletinRecord, error) {
	switch {
	case o.Sealed && env.Kind != protocol.KindBulletin:
		return nil, nil
	case o.Sealed:
		return rec, nil
	case o.Receipt != nil: // no bulletin of its own: its request's state (requests.go)
		return nil, nil
	case o.Revocation != nil:
		rec.ID, rec.Sealed, rec.Reason, rec.RevokedAt = o.Revocation.Bulletin, false, o.Revocation.Reason, env.TS.UTC()
		return rec, nil
	}
	return bulletinRecord(rec, o.Bulletin)
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
			return nil, api.Errorf(api.Invalid, "a revision keeps the audience of its bulletin (%s): publish a new bulletin for another audience", describeAudience(cur.Audience))
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
			return nil, api.Errorf(api.Conflict, "bulletin %s is already revoked (%s)", id, rec.Reason)
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
	if err := bulletinRef(ref); err != nil {
		return nil, "", err
	}
	rec, err := n.store.Bulletin(ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, "", fmt.Errorf("%w: no bulletin %q on this node (see `concord list`)", store.ErrNotFound, ref)
	case err != nil:
		return nil, "", err
	case rec.Sealed:
		return nil, "", api.Errorf(api.Forbidden, "%w: this node cannot read bulletin %s", store.ErrNotOriginator, ref)
	case rec.Author != n.id.MemberID():
		return nil, "", api.Errorf(api.Forbidden, "%w: bulletin %s was published by member %s, not by this member %s", store.ErrNotOriginator, rec.ID, rec.Author, n.id.MemberID())
	}
	t := n.topicByID(rec.Topic)
	if t == nil {
		return nil, "", api.Errorf(api.Forbidden, "bulletin %s is on a topic this node no longer belongs to", rec.ID)
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
		return nil, api.Errorf(api.Conflict, "%w: bulletin %s was revoked (%s); publish a new bulletin instead", ErrTombstone, id, rec.Reason)
	case rec.Expired:
		return nil, api.Errorf(api.Conflict, "%w: bulletin %s expired and retention erased it on this node; publish a new bulletin instead", ErrTombstone, id)
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
