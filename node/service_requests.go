package node

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// CreateRequest publishes a request for information: a bulletin whose
// request block names its addressees (member IDs or country codes of
// current members), sealed to them and to us.
func (s *Service) CreateRequest(ctx context.Context, req api.PublishRequest) (api.PublishResponse, error) {
	if req.Draft.Request == nil {
		return api.PublishResponse{}, api.Errorf(api.Invalid, "the draft has no request block: give its due time, priority and addressees (--due, --priority, --to)")
	}
	resp, err := s.Publish(ctx, req)
	if err == nil {
		// Listed at once; the change feed would record it a moment later.
		if err := s.n.store.AddOutgoing(ctx, resp.ID); err != nil {
			s.n.log.Warn("requests: recording a new request; it lists once the change feed is followed", "request", resp.ID, "err", err)
		}
	}
	return resp, err
}

// resolveRequest resolves the addressees of a draft's request among the
// topic's current members. The audience follows from them (Build): one
// given besides is refused rather than silently replaced.
func (n *Node) resolveRequest(st *protocol.TopicState, d *protocol.BulletinDraft) error {
	r := d.Request
	if r == nil {
		return nil
	}
	if len(d.Audience) > 0 {
		return api.Errorf(api.Invalid, "a request's audience is its addressees and the requester: give --to, not an audience")
	}
	if len(r.To) == 0 {
		return api.Errorf(api.Invalid, "a request needs addressees: give --to MEMBER (a member ID or country code)")
	}
	to, err := resolveMembersAs(st, r.To, "addressee")
	if err != nil {
		return err
	}
	if slices.Contains(to, n.id.MemberID()) {
		return api.Errorf(api.Invalid, "a request is addressed to other members, not to this member itself")
	}
	if r.Priority == "" {
		r.Priority = protocol.PriorityRoutine
	}
	r.To = to
	return nil
}

// Requests lists the requests this member made and received, with where
// each stands.
func (s *Service) Requests(_ context.Context, q api.RequestQuery) ([]api.Request, error) {
	n := s.n
	out := []api.Request{}
	for _, outgoing := range []bool{true, false} {
		if (q.Incoming || q.Outgoing) && q.Outgoing != outgoing {
			continue
		}
		ids, err := n.store.Requests(outgoing)
		if err != nil {
			return nil, classify(api.Internal, err)
		}
		for _, id := range ids {
			v, ok, err := n.requestView(id, outgoing)
			if err != nil {
				return nil, classify(api.Internal, err)
			}
			if ok && (!q.Open || v.Open) && (!q.Overdue || v.Overdue) {
				out = append(out, v)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b api.Request) int { return a.Due.Compare(b.Due) })
	return out, nil
}

// requestView renders request id; false if it is no longer readable here
// (revoked or expired).
func (n *Node) requestView(id string, outgoing bool) (api.Request, bool, error) {
	rec, b, err := n.requestOf(id)
	if errors.Is(err, errNotRequest) || errors.Is(err, store.ErrNotFound) {
		return api.Request{}, false, nil
	} else if err != nil {
		return api.Request{}, false, err
	}
	r := b.Request
	v := api.Request{ID: rec.ID, Direction: api.Incoming, Topic: protocol.TopicID(rec.Topic).String(), Title: b.Title,
		Requester: b.Originator, Priority: r.Priority, Created: b.Created, Due: r.Due}
	var st *protocol.TopicState
	if t := n.topicByID(rec.Topic); t != nil {
		st, _ = t.snapshot()
		v.TopicName = st.Name
	}
	states := map[string]store.ReceiptState{}
	to := r.To
	if outgoing {
		v.Direction = api.Outgoing
		if states, err = n.store.RequestStates(id); err != nil {
			return v, false, err
		}
	} else {
		me := n.id.MemberID()
		to = []string{me}
		sent, err := n.store.SentReceipts(id)
		if err != nil {
			return v, false, err
		}
		states[me] = store.ReceiptState{Delivered: sent[protocol.ReceiptDelivered], Acknowledged: sent[protocol.ReceiptAcknowledged],
			Declined: sent[protocol.ReceiptDeclined], Answered: sent[api.StateAnswered]}
	}
	for _, m := range to {
		v.Addressees = append(v.Addressees, addresseeView(st, m, states[m]))
	}
	v.Open = requestOpen(&protocol.Request{To: to}, states)
	v.Overdue = v.Open && r.Due.Before(n.now())
	return v, true, nil
}

func addresseeView(st *protocol.TopicState, member string, rs store.ReceiptState) api.Addressee {
	a := api.Addressee{Member: member, State: api.StatePending, Reason: rs.Reason, Answer: rs.Answer,
		Delivered: timeOrNil(rs.Delivered), Acknowledged: timeOrNil(rs.Acknowledged),
		Declined: timeOrNil(rs.Declined), Answered: timeOrNil(rs.Answered)}
	if st != nil {
		if c := st.Card(member); c != nil {
			a.Country, a.Name = c.Country, c.Name
		}
	}
	// The most settled state wins, whatever order they were reported in.
	for _, s := range []struct {
		name string
		at   *time.Time
	}{{api.StateAnswered, a.Answered}, {api.StateDeclined, a.Declined}, {api.StateAcknowledged, a.Acknowledged}, {api.StateDelivered, a.Delivered}} {
		if s.at != nil {
			a.State, a.At = s.name, s.at
			break
		}
	}
	return a
}

// Ack acknowledges a request addressed to this member.
func (s *Service) Ack(ctx context.Context, ref string) (api.Receipt, error) {
	return s.receipt(ctx, ref, protocol.ReceiptAcknowledged, "")
}

// Decline declines a request addressed to this member.
func (s *Service) Decline(ctx context.Context, ref string, req api.DeclineRequest) (api.Receipt, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return api.Receipt{}, api.Errorf(api.Invalid, "declining needs a reason: give --reason, which only the requester reads")
	}
	return s.receipt(ctx, ref, protocol.ReceiptDeclined, req.Reason)
}

func (s *Service) receipt(ctx context.Context, ref, state, reason string) (api.Receipt, error) {
	id, err := s.n.requestRef(ref)
	if err != nil {
		return api.Receipt{}, err
	}
	rec, err := s.n.sendReceipt(ctx, id, state, reason, false)
	if err != nil {
		return api.Receipt{}, requestError(id, err)
	}
	return api.Receipt{Request: id, State: state, At: rec.Created, Envelope: protocol.EnvelopeID(rec.Envelope).String(),
		Topic: protocol.TopicID(rec.Topic).String(), Seq: rec.Seq}, nil
}

// Reply publishes an answer to a request addressed to this member: a
// bulletin on the request's topic replying to it, sealed to the
// requester and whoever the draft's audience adds.
func (s *Service) Reply(ctx context.Context, ref string, req api.ReplyRequest) (api.PublishResponse, error) {
	n := s.n
	id, err := n.requestRef(ref)
	if err != nil {
		return api.PublishResponse{}, err
	}
	rec, b, err := n.requestOf(id)
	if err != nil {
		return api.PublishResponse{}, requestError(id, err)
	}
	me := n.id.MemberID()
	switch {
	case rec.Author == me:
		return api.PublishResponse{}, api.Errorf(api.Invalid, "request %s is this member's own: its addressees answer it", id)
	case !slices.Contains(b.Request.To, me):
		return api.PublishResponse{}, api.Errorf(api.Forbidden, "request %s is not addressed to this member", id)
	case req.Draft.Request != nil:
		return api.PublishResponse{}, api.Errorf(api.Invalid, "an answer cannot itself be a request: publish a new request with `concord request`")
	}
	t := n.topicByID(rec.Topic)
	if t == nil {
		return api.PublishResponse{}, api.Errorf(api.Forbidden, "request %s is on a topic this node no longer belongs to", id)
	}
	st, _ := t.snapshot()
	aud, err := resolveMembers(st, req.Draft.Audience)
	if err != nil {
		return api.PublishResponse{}, err
	}
	if !slices.Contains(aud, rec.Author) {
		aud = append(aud, rec.Author)
	}
	d := req.Draft
	d.Audience = slices.DeleteFunc(aud, func(m string) bool { return m == me })
	if !slices.Contains(d.References.InReplyTo, id) {
		d.References.InReplyTo = append(slices.Clone(d.References.InReplyTo), id)
	}
	out, err := n.publish(ctx, t, &d)
	if err != nil {
		return api.PublishResponse{}, classify(api.Internal, err)
	}
	return api.PublishResponse{ID: out.ID, Envelope: protocol.EnvelopeID(out.Envelope).String(), Topic: st.ID.String(), Seq: out.Seq}, nil
}

// requestRef resolves a request ID or unique prefix.
func (n *Node) requestRef(ref string) (string, error) {
	if err := bulletinRef(ref); err != nil {
		return "", err
	}
	rec, err := n.store.Bulletin(ref)
	if err != nil {
		return "", bulletinLookup(ref, err)
	}
	return rec.ID, nil
}

// requestError classifies the errors of receipts and replies.
func requestError(id string, err error) error {
	switch {
	case errors.Is(err, errNotRequest):
		return api.Errorf(api.Invalid, "bulletin %s is not a request this node can read (see `concord requests --incoming`)", id)
	case errors.Is(err, store.ErrAlreadySent):
		return api.Errorf(api.Conflict, "request %s: %v", id, err)
	}
	return classify(api.Internal, err)
}
