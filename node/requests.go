package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Requests for information. A request is a bulletin with a request block,
// sealed to its addressees and the requester. Each addressee's node sends
// a delivered receipt when it stores the request; its analysts acknowledge,
// decline or answer (an answer is a bulletin replying to the request).
// Receipts are envelopes sealed to the requester alone.
//
// Like alerts, requests follow the store's change feed (requestLoop): a
// request, or an answer to one, is noticed however it was stored (gossip,
// sync, our own publication), and following again after a crash repeats
// nothing. Receipts are noticed as they are stored (putReceipt).

const (
	requestTick = 30 * time.Second // pending receipts and overdue requests are checked this often
	// receiptEnvelopeBytes is what a receipt is charged against our own
	// budget: its envelope, with the requester's and our own
	// post-quantum stanzas, is about this size.
	receiptEnvelopeBytes = 4 << 10
)

// requestMetrics counts what requests do on this node.
type requestMetrics struct {
	overdue  prometheus.Counter
	receipts *prometheus.CounterVec
	budget   prometheus.Counter
}

func newRequestMetrics(reg *prometheus.Registry) *requestMetrics {
	m := &requestMetrics{
		overdue: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_requests_overdue_total",
			Help: "Requests of this member that passed their due time before every addressee answered or declined (one alert each).",
		}),
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_receipts_sent_total",
			Help: "Receipts this node sent for requests addressed to its member, by state.",
		}, []string{"state"}),
		budget: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_receipts_deferred_total",
			Help: "Automatic delivered receipts put off because they would exceed this node's own budget; they are sent once it refills.",
		}),
	}
	reg.MustRegister(m.overdue, m.receipts, m.budget)
	return m
}

// requestLoop follows the change feed for requests and answers, from
// where it stopped (from now on, the first time), and checks pending
// receipts and overdue requests at start and every requestTick.
func (n *Node) requestLoop() {
	cursor, ok, err := n.store.RequestCursor()
	if err == nil && !ok {
		// Stored at once: what arrives before the first pass, and a
		// restart meanwhile, must not be skipped.
		if cursor, err = n.store.LastRecvSeq(); err == nil {
			err = n.store.PutRequestFollow(n.ctx, cursor, store.RequestFollow{})
		}
	}
	if err != nil {
		n.log.Error("requests: reading where they stopped; requests are not followed until restart", "err", err)
		return
	}
	tick := time.NewTicker(requestTick)
	defer tick.Stop()
	n.requestChores()
	for {
		wake := n.changes()
		recs, err := n.store.Since(cursor, alertBatch)
		if err == nil && len(recs) > 0 {
			last := recs[len(recs)-1].RecvSeq
			f := n.followRequests(recs)
			if err = n.store.PutRequestFollow(n.ctx, last, f); err == nil {
				cursor = last
				if len(f.Incoming) > 0 {
					n.sendPendingReceipts()
				}
			}
		}
		if err == nil && len(recs) == alertBatch {
			continue
		}
		if err != nil && n.ctx.Err() == nil && !errors.Is(err, store.ErrDiskFull) {
			n.log.Error("requests: following the change feed; retrying", "err", err)
		}
		var retry <-chan time.Time
		if err != nil {
			wake, retry = nil, time.After(5*time.Second)
		}
		select {
		case <-wake:
		case <-retry:
		case <-tick.C:
			n.requestChores()
		case <-n.ctx.Done():
			return
		}
	}
}

// requestChores sends the delivered receipts still owed and raises the
// alerts of requests that became overdue.
func (n *Node) requestChores() {
	n.sendPendingReceipts()
	if err := n.raiseOverdue(n.ctx); err != nil && n.ctx.Err() == nil {
		n.log.Error("requests: checking overdue requests", "err", err)
	}
}

// followRequests reads what records of the change feed mean for
// requests: requests made or received, answers received or sent.
func (n *Node) followRequests(recs []store.BulletinRecord) store.RequestFollow {
	var f store.RequestFollow
	me := n.id.MemberID()
	for _, rec := range recs {
		b, ok := readableBulletin(rec)
		if !ok {
			continue
		}
		if r := b.Request; r != nil {
			switch {
			case rec.Author == me:
				f.Outgoing = append(f.Outgoing, rec.ID)
			case slices.Contains(r.To, me):
				f.Incoming = append(f.Incoming, rec.ID)
			}
		}
		for _, id := range b.References.InReplyTo {
			req, q, err := n.requestOf(id)
			if err != nil || req.Topic != rec.Topic || !slices.Contains(q.Request.To, rec.Author) {
				continue // not a request, or the answer is not its addressee's
			}
			e := store.ReceiptEvent{Request: id, Addressee: rec.Author, State: "answered", Answer: rec.ID, At: b.Created}
			switch {
			case req.Author == me:
				f.Answers = append(f.Answers, e)
			case rec.Author == me:
				f.Answered = append(f.Answered, e)
			}
		}
	}
	return f
}

// readableBulletin decodes a record's bulletin, if this node reads it.
func readableBulletin(rec store.BulletinRecord) (*protocol.Bulletin, bool) {
	if rec.Sealed || rec.Tombstone() || len(rec.Bulletin) == 0 {
		return nil, false
	}
	var b protocol.Bulletin
	if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
		return nil, false
	}
	return &b, true
}

// errNotRequest reports a bulletin that is not a request this node reads.
var errNotRequest = errors.New("not a request")

// requestOf returns the record and bulletin of request id (a full ID or
// unique prefix).
func (n *Node) requestOf(id string) (store.BulletinRecord, *protocol.Bulletin, error) {
	rec, err := n.store.Bulletin(id)
	if err != nil {
		return rec, nil, err
	}
	b, ok := readableBulletin(rec)
	if !ok || b.Request == nil {
		return rec, nil, fmt.Errorf("%w: bulletin %s", errNotRequest, rec.ID)
	}
	return rec, b, nil
}

// putReceipt stores a receipt we opened: sealed to us, so we are the
// requester. Its state counts only if it is about a request of ours held
// here and comes from one of its addressees; otherwise the envelope only
// enters its author's chain, as every envelope does.
func (n *Node) putReceipt(ctx context.Context, state *protocol.TopicState, env *protocol.Envelope, r *protocol.Receipt) (store.PutResult, error) {
	var e *store.ReceiptEvent
	req, q, err := n.requestOf(r.Request)
	switch {
	case err != nil:
		n.log.Debug("receipt for a request not held here", "request", r.Request, "author", env.Author, "err", err)
	case req.ID != r.Request || req.Author != n.id.MemberID() || req.Topic != state.ID:
		n.log.Debug("receipt for another request", "request", r.Request, "author", env.Author)
	case !slices.Contains(q.Request.To, env.Author):
		n.log.Debug("receipt from a member the request was not addressed to", "request", r.Request, "author", env.Author)
	default:
		e = &store.ReceiptEvent{Request: r.Request, Addressee: env.Author, State: r.State, Reason: r.Reason, At: r.At}
	}
	return n.putWith(state, env, func(ref store.EnvelopeRef) (store.PutResult, error) {
		return n.store.PutReceipt(ctx, ref, env.Raw, e)
	})
}

// sendPendingReceipts sends the delivered receipts owed for incoming
// requests: one per request, ever. Those our own budget refuses wait for
// the next pass.
func (n *Node) sendPendingReceipts() {
	ids, err := n.store.Requests(false)
	if err != nil {
		n.log.Error("requests: listing incoming requests", "err", err)
		return
	}
	for _, id := range ids {
		if n.ctx.Err() != nil {
			return
		}
		sent, err := n.store.SentReceipts(id)
		if err != nil || !sent[protocol.ReceiptDelivered].IsZero() {
			continue
		}
		_, err = n.sendReceipt(n.ctx, id, protocol.ReceiptDelivered, "", true)
		switch {
		case err == nil, errors.Is(err, store.ErrAlreadySent):
		case errors.Is(err, errBudget):
			n.requests.budget.Inc()
			n.log.Debug("requests: delivered receipt put off: over this node's own budget", "request", id)
			return // the bucket is empty: the rest waits too
		default:
			n.log.Debug("requests: delivered receipt not sent", "request", id, "err", err)
		}
	}
}

// sendReceipt publishes our receipt of state for request id, sealed to
// its requester, once: a second one is store.ErrAlreadySent. auto
// receipts (delivered) are charged against our own budget on the topic,
// as a partner's node charges ours: however many requests a requester
// sends, we publish no faster than a member may.
func (n *Node) sendReceipt(ctx context.Context, id, state, reason string, auto bool) (*store.BulletinRecord, error) {
	rec, q, err := n.requestOf(id)
	if err != nil {
		return nil, err
	}
	me := n.id.MemberID()
	if rec.Author == me {
		return nil, api.Errorf(api.Invalid, "request %s is this member's own: receipts come from its addressees (see `concord requests --outgoing`)", rec.ID)
	}
	if !slices.Contains(q.Request.To, me) {
		return nil, api.Errorf(api.Forbidden, "request %s is not addressed to this member", rec.ID)
	}
	if sent, err := n.store.SentReceipts(rec.ID); err != nil {
		return nil, err
	} else if at := sent[state]; !at.IsZero() {
		return nil, fmt.Errorf("%w: %s at %s", store.ErrAlreadySent, state, at.Format(time.RFC3339))
	}
	t := n.topicByID(rec.Topic)
	if t == nil {
		return nil, api.Errorf(api.Forbidden, "request %s is on a topic this node no longer belongs to", rec.ID)
	}
	if auto {
		if err := n.budgets.allow(rec.Topic, me, receiptEnvelopeBytes); err != nil {
			return nil, err
		}
	}
	out, err := n.emit(ctx, t, func(s *protocol.TopicState, now time.Time) (*outgoing, error) {
		if _, ok := s.Members[rec.Author]; !ok {
			return nil, api.Errorf(api.Forbidden, "the requester %s is no longer a member of topic %q: no receipt can reach it", rec.Author, s.Name)
		}
		payload, err := protocol.EncodeReceipt(protocol.Receipt{Request: rec.ID, State: state, Reason: reason, At: now})
		if err != nil {
			return nil, api.Classify(api.Invalid, err)
		}
		return &outgoing{kind: protocol.KindReceipt, payload: payload, audience: []string{rec.Author}}, nil
	})
	if err == nil {
		n.requests.receipts.WithLabelValues(state).Inc()
	}
	return out, err
}

// raiseOverdue raises one alert per request of ours past its due time
// that some addressee has neither answered nor declined.
func (n *Node) raiseOverdue(ctx context.Context) error {
	ids, err := n.store.Requests(true)
	if err != nil {
		return err
	}
	now := n.now().UTC()
	var alerts []store.Alert
	for _, id := range ids {
		rec, q, err := n.requestOf(id)
		if err != nil || !q.Request.Due.Before(now) {
			continue
		}
		states, err := n.store.RequestStates(id)
		if err != nil {
			return err
		}
		if !requestOpen(q.Request, states) {
			continue
		}
		alerts = append(alerts, store.Alert{Time: now, Kind: store.AlertOverdue, Bulletin: alertRef(rec, q),
			Term: q.Request.Due.Format(time.RFC3339)})
	}
	if len(alerts) == 0 {
		return nil
	}
	stored, err := n.store.RaiseAlerts(ctx, alerts)
	if err != nil || len(stored) == 0 {
		return err
	}
	n.requests.overdue.Add(float64(len(stored)))
	n.notify() // wakes alert streams (watch --alerts)
	newAlertSink(n).deliverStored(stored)
	return nil
}

// requestOpen says whether some addressee has neither answered nor
// declined.
func requestOpen(r *protocol.Request, states map[string]store.ReceiptState) bool {
	for _, m := range r.To {
		st := states[m]
		if st.Answered.IsZero() && st.Declined.IsZero() {
			return true
		}
	}
	return false
}
