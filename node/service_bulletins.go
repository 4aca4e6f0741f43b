package node

import (
	"context"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Publish publishes a bulletin on the topic req names; it returns once the
// bulletin is stored.
func (s *Service) Publish(ctx context.Context, req api.PublishRequest) (api.PublishResponse, error) {
	n := s.n
	t, err := n.resolveTopic(req.Topic)
	if err != nil {
		return api.PublishResponse{}, err
	}
	st, _ := t.snapshot()
	if _, ok := st.Members[n.id.MemberID()]; !ok {
		return api.PublishResponse{}, api.Errorf(api.Forbidden, "this member is no longer a member of topic %q", st.Name)
	}
	if req.Draft.Audience, err = resolveMembers(st, req.Draft.Audience); err != nil {
		return api.PublishResponse{}, err
	}
	if err := n.resolveRequest(st, &req.Draft); err != nil { // service_requests.go
		return api.PublishResponse{}, err
	}
	rec, err := n.publish(ctx, t, &req.Draft)
	if err != nil {
		return api.PublishResponse{}, classify(api.Internal, err)
	}
	return api.PublishResponse{ID: rec.ID, Envelope: protocol.EnvelopeID(rec.Envelope).String(), Topic: st.ID.String(), Seq: rec.Seq}, nil
}

// List lists bulletins, newest first.
func (s *Service) List(_ context.Context, q api.ListQuery) ([]api.Bulletin, error) {
	sq, err := s.n.storeQuery(q)
	if err != nil {
		return nil, err
	}
	recs, err := s.n.store.List(sq)
	if err != nil {
		return nil, classify(api.Internal, err)
	}
	out := make([]api.Bulletin, 0, len(recs))
	for _, rec := range recs {
		v, err := s.n.bulletinView(rec, false)
		if err != nil {
			return nil, classify(api.Internal, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// storeQuery resolves the references of q. A reference naming nothing is
// NotFound, as everywhere: an empty list would hide the mistake.
func (n *Node) storeQuery(q api.ListQuery) (store.Query, error) {
	sq := store.Query{Category: q.Category, Since: q.Since, Limit: q.Limit}
	var t *topic
	if q.Topic != "" {
		var err error
		if t, err = n.resolveTopic(q.Topic); err != nil {
			return sq, err
		}
		s, _ := t.snapshot()
		id := [32]byte(s.ID)
		sq.Topic = &id
	}
	// An originator that names no member is an error, not an empty list.
	if q.Originator != "" {
		id, err := n.resolveOriginator(q.Originator, t)
		if err != nil {
			return sq, err
		}
		sq.Originator = id
	}
	if q.Category != "" {
		if _, err := protocol.LookupCategory(q.Category); err != nil {
			return sq, api.Classify(api.Invalid, err)
		}
	}
	return sq, nil
}

// Bulletin returns one bulletin with its history, attachments included.
func (s *Service) Bulletin(_ context.Context, ref string) (api.Bulletin, error) {
	if err := bulletinRef(ref); err != nil {
		return api.Bulletin{}, err
	}
	rec, err := s.n.store.Bulletin(ref)
	if err != nil {
		return api.Bulletin{}, bulletinLookup(ref, err)
	}
	v, err := s.n.bulletinView(rec, true)
	return v, classify(api.Internal, err)
}

// Revise publishes a new version of one of this member's bulletins.
func (s *Service) Revise(ctx context.Context, ref string, req api.ReviseRequest) (api.PublishResponse, error) {
	n := s.n
	t, _, err := n.ownBulletin(ref)
	if err != nil {
		return api.PublishResponse{}, classify(api.Internal, err)
	}
	st, _ := t.snapshot()
	if req.Draft.Audience, err = resolveMembers(st, req.Draft.Audience); err != nil {
		return api.PublishResponse{}, err
	}
	rec, err := n.Revise(ctx, ref, &req.Draft)
	return lifecycleAnswer(rec, err)
}

// Revoke revokes one of this member's bulletins.
func (s *Service) Revoke(ctx context.Context, ref string, req api.RevokeRequest) (api.PublishResponse, error) {
	n := s.n
	_, id, err := n.ownBulletin(ref)
	if err != nil {
		return api.PublishResponse{}, classify(api.Internal, err)
	}
	if rec, err := n.store.Bulletin(id); err == nil && rec.Revoked {
		return api.PublishResponse{}, api.Errorf(api.Conflict, "bulletin %s is already revoked (%s)", id, rec.Reason)
	}
	rec, err := n.Revoke(ctx, id, req.Reason)
	return lifecycleAnswer(rec, err)
}

// lifecycleAnswer answers revise and revoke with the bulletin's new state.
func lifecycleAnswer(rec *store.BulletinRecord, err error) (api.PublishResponse, error) {
	if err != nil {
		return api.PublishResponse{}, classify(api.Internal, err)
	}
	// History is in seq order, and the envelope just published is the
	// author's latest.
	last := rec.History[len(rec.History)-1]
	return api.PublishResponse{ID: rec.ID, Envelope: protocol.EnvelopeID(last.Envelope).String(),
		Topic: protocol.TopicID(rec.Topic).String(), Seq: last.Seq, Version: rec.Version, Revoked: rec.Revoked}, nil
}

// Watch sends the bulletins received after q.After (nil: from now), then
// each new one, until ctx or the node ends or send fails.
func (s *Service) Watch(ctx context.Context, q api.WatchQuery, send func(api.Bulletin) error) error {
	n := s.n
	cursor, err := cursorOr(q.After, n.store.LastRecvSeq)
	if err != nil {
		return err
	}
	return follow(ctx, n, cursor, n.store.Since, func(rec store.BulletinRecord) (uint64, error) {
		v, err := n.bulletinView(rec, false)
		if err != nil {
			return rec.RecvSeq, classify(api.Internal, err)
		}
		return rec.RecvSeq, send(v)
	})
}

// bulletinView renders a record for the API; full adds the body and the
// attachment bytes, which only the envelope holds (see fullBulletin).
// Without them, Content.BodySize says how large the body left out is.
func (n *Node) bulletinView(rec store.BulletinRecord, full bool) (api.Bulletin, error) {
	v := api.Bulletin{
		ID: rec.ID, Topic: protocol.TopicID(rec.Topic).String(), Category: rec.Category, Author: rec.Author,
		Envelope: protocol.EnvelopeID(rec.Envelope).String(), Seq: rec.Seq, Version: rec.Version,
		Created: rec.Created, Received: rec.Received, Audience: rec.Audience, Sealed: rec.Sealed,
		Revoked: rec.Revoked, RevocationReason: rec.Reason, RevokedAt: timeOrNil(rec.RevokedAt),
		Expired: rec.Expired, ExpiredAt: timeOrNil(rec.ExpiredAt), History: historyView(rec.History),
	}
	if t := n.topicByID(rec.Topic); t != nil {
		s, _ := t.snapshot()
		v.TopicName = s.Name
	}
	if rec.Sealed || rec.Tombstone() {
		return v, nil
	}
	if full {
		b, err := n.fullBulletin(rec)
		if b != nil {
			v.Content = api.ContentOf(b)
		}
		return v, err
	}
	b, err := recordBulletin(rec)
	if err != nil {
		return v, err
	}
	v.Content = api.ContentOf(b)
	v.Content.BodySize = rec.BodySize
	return v, nil
}

func historyView(h []store.Revision) []api.Revision {
	var out []api.Revision
	for _, r := range h {
		out = append(out, api.Revision{Version: r.Version, Kind: r.Kind, Envelope: protocol.EnvelopeID(r.Envelope).String(),
			Seq: r.Seq, Modified: r.Modified, Reason: r.Reason})
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
