package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func requestDraft(title string, due time.Time, to ...string) protocol.BulletinDraft {
	d := draft(title)
	d.Request = &protocol.Request{Due: due, Priority: protocol.PriorityUrgent, To: to}
	return *d
}

func askRequest(t *testing.T, n *Node, id protocol.TopicID, d protocol.BulletinDraft) string {
	t.Helper()
	res, err := n.Service().CreateRequest(context.Background(), api.PublishRequest{Topic: id.String(), Draft: d})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// outgoingView returns n's view of its request id.
func outgoingView(t *testing.T, n *Node, id string) api.Request {
	t.Helper()
	rs, err := n.Service().Requests(context.Background(), api.RequestQuery{Outgoing: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("request %s not among the outgoing requests %+v", id, rs)
	return api.Request{}
}

func stateOf(r api.Request, member string) api.Addressee {
	for _, a := range r.Addressees {
		if a.Member == member {
			return a
		}
	}
	return api.Addressee{}
}

// receiptsBy returns the receipt envelopes by author that n holds on topic.
func receiptsBy(t *testing.T, n *Node, topic protocol.TopicID, author string) []*protocol.Envelope {
	t.Helper()
	raws, err := n.store.TopicEnvelopes(topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []*protocol.Envelope
	for _, raw := range raws {
		env, err := protocol.DecodeEnvelope(raw)
		if err != nil {
			t.Fatal(err)
		}
		if env.Kind == protocol.KindReceipt && env.Author == author {
			out = append(out, env)
		}
	}
	return out
}

// TestRequestReceipts follows the issue: FRA asks NGA and BRA; both nodes
// send delivered receipts, once each; NGA acknowledges and answers, BRA
// declines; FRA sees each state with its time; the receipts are sealed to
// FRA alone, so NGA cannot read BRA's; DEU, not addressed, reads nothing.
func TestRequestReceipts(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 4, "drug-trafficking")
	fra, nga, bra, deu := nodes[0], nodes[1], nodes[2], nodes[3]
	due := time.Now().Add(time.Hour).UTC()
	req := askRequest(t, fra, id, requestDraft("Who owns MV Example?", due, "NGA", bra.MemberID()))

	waitFor(t, 30*time.Second, func() (bool, string) {
		r := outgoingView(t, fra, req)
		return stateOf(r, nga.MemberID()).State == api.StateDelivered && stateOf(r, bra.MemberID()).State == api.StateDelivered,
			fmt.Sprintf("addressees %+v", r.Addressees)
	})
	eventually(t, 20*time.Second, "DEU holds the request's envelope", func() bool {
		held, err := deu.store.HasSeq(id, fra.MemberID(), 1)
		return err == nil && held
	})
	if readable(deu, req) {
		t.Fatal("DEU, not addressed, reads the request")
	}

	if _, err := nga.Service().Ack(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := nga.Service().Ack(ctx, req); api.ClassOf(err) != api.Conflict {
		t.Fatalf("a second ack = %v, want a conflict", err)
	}
	if _, err := bra.Service().Decline(ctx, req, api.DeclineRequest{}); api.ClassOf(err) != api.Invalid {
		t.Fatalf("a decline without a reason = %v, want invalid", err)
	}
	if _, err := bra.Service().Decline(ctx, req, api.DeclineRequest{Reason: "not our jurisdiction"}); err != nil {
		t.Fatal(err)
	}
	if _, err := deu.Service().Ack(ctx, req); api.ClassOf(err) != api.NotFound {
		t.Fatalf("DEU, which cannot read the request, acks: %v", err)
	}
	if _, err := fra.Service().Ack(ctx, req); api.ClassOf(err) != api.Invalid {
		t.Fatalf("the requester acks its own request: %v", err)
	}
	answer, err := nga.Service().Reply(ctx, req[:8], api.ReplyRequest{Draft: *draft("MV Example belongs to Example Shipping Ltd")})
	if err != nil {
		t.Fatal(err)
	}

	waitFor(t, 30*time.Second, func() (bool, string) {
		r := outgoingView(t, fra, req)
		n, b := stateOf(r, nga.MemberID()), stateOf(r, bra.MemberID())
		return n.State == api.StateAnswered && n.Answer == answer.ID && n.Acknowledged != nil && n.Delivered != nil &&
				b.State == api.StateDeclined && b.Reason == "not our jurisdiction" && !r.Open,
			fmt.Sprintf("addressees %+v", r.Addressees)
	})
	rec, err := fra.store.Bulletin(answer.ID)
	if err != nil || rec.Sealed || !slices.Equal(rec.Audience, []string{fra.MemberID()}) {
		t.Fatalf("FRA holds the answer as %+v, %v; want it readable, sealed to FRA", rec, err)
	}

	// BRA's receipts reach NGA (every member stores every envelope) but
	// stay sealed to it.
	var braReceipts []*protocol.Envelope
	eventually(t, 30*time.Second, "NGA holds BRA's two receipts", func() bool {
		braReceipts = receiptsBy(t, nga, id, bra.MemberID())
		return len(braReceipts) == 2
	})
	state, keys := nga.topicByID(id).snapshot()
	for _, env := range braReceipts {
		o, err := protocol.Open(state, protocol.Reader{ID: nga.id, Keys: keys}, env, time.Now())
		if err != nil || !o.Sealed {
			t.Fatalf("NGA opens BRA's receipt: %+v, %v; want it sealed", o, err)
		}
	}
	in, err := nga.Service().Requests(ctx, api.RequestQuery{Incoming: true})
	if err != nil || len(in) != 1 || len(in[0].Addressees) != 1 || in[0].Addressees[0].State != api.StateAnswered {
		t.Fatalf("NGA's incoming requests: %+v, %v; want its own answered state alone", in, err)
	}

	// A receipt from a member the request was not addressed to enters its
	// author's chain at FRA and nothing else.
	forged, err := protocol.EncodeReceipt(protocol.Receipt{Request: req, State: protocol.ReceiptDeclined, Reason: "forged", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := deu.emit(ctx, deu.topicByID(id), func(*protocol.TopicState, time.Time) (*outgoing, error) {
		return &outgoing{kind: protocol.KindReceipt, payload: forged, audience: []string{fra.MemberID()}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "FRA holds DEU's receipt", func() bool {
		held, err := fra.store.HasSeq(id, deu.MemberID(), sent.Seq)
		return err == nil && held
	})
	if states, err := fra.store.RequestStates(req); err != nil || len(states) != 2 {
		t.Fatalf("FRA's states of its request: %+v, %v; want NGA's and BRA's alone", states, err)
	}

	// One delivered receipt per request per node, whatever happens next.
	if _, err := fra.Revise(ctx, req, ptr(requestDraft("Who owns MV Example? (revised)", due, nga.MemberID(), bra.MemberID()))); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "NGA holds the revision", func() bool {
		rec, err := nga.store.Bulletin(req)
		return err == nil && rec.Version == 2
	})
	nga.sendPendingReceipts()
	if got := len(receiptsBy(t, nga, id, nga.MemberID())); got != 2 {
		t.Fatalf("NGA published %d receipts, want 2 (delivered, acknowledged)", got)
	}
	if got := testutil.ToFloat64(nga.requests.receipts.WithLabelValues(protocol.ReceiptDelivered)); got != 1 {
		t.Fatalf("NGA counts %v delivered receipts, want 1", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestOverdueRequestAlertsOnce: a request past its due time that an
// addressee has not answered raises one overdue alert, counted in the
// metrics, and lists as overdue.
func TestOverdueRequestAlertsOnce(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "drug-trafficking")
	fra, nga := nodes[0], nodes[1]
	req := askRequest(t, fra, id, requestDraft("Quick question", time.Now().Add(2*time.Second), nga.MemberID()))
	eventually(t, 30*time.Second, "the overdue alert", func() bool {
		if err := fra.raiseOverdue(ctx); err != nil {
			t.Fatal(err)
		}
		return find(alertsOf(t, fra), store.AlertOverdue, req) != nil
	})
	if err := fra.raiseOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, a := range alertsOf(t, fra) {
		if a.Kind == store.AlertOverdue {
			count++
		}
	}
	if count != 1 || testutil.ToFloat64(fra.requests.overdue) != 1 {
		t.Fatalf("%d overdue alerts, %v counted; want 1", count, testutil.ToFloat64(fra.requests.overdue))
	}
	rs, err := fra.Service().Requests(ctx, api.RequestQuery{Overdue: true})
	if err != nil || len(rs) != 1 || rs[0].ID != req || !rs[0].Overdue {
		t.Fatalf("overdue requests: %+v, %v", rs, err)
	}
}

// TestReceiptsAreBounded: a hostile requester cannot make a node publish
// more than one delivered receipt per request, and the receipts it makes
// the node publish count against the node's own budget: with it spent,
// none goes out until it refills.
func TestReceiptsAreBounded(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "drug-trafficking")
	fra, nga := nodes[0], nodes[1]
	spent := LimitsConfig{AuthorRate: 0.0001, AuthorBurst: 3, AuthorKiBPerSecond: 32, AuthorBurstMiB: 256, AuthorQuotaMiB: 4096}
	nga.budgets.reset(spent)
	for range spent.AuthorBurst {
		if err := nga.budgets.allow(id, nga.MemberID(), 1); err != nil {
			t.Fatal(err)
		}
	}
	var reqs []string
	for i := range 2 {
		reqs = append(reqs, askRequest(t, fra, id, requestDraft(fmt.Sprintf("Request %d", i), time.Now().Add(time.Hour), nga.MemberID())))
	}
	eventually(t, 30*time.Second, "NGA follows both requests", func() bool {
		in, err := nga.store.Requests(false)
		return err == nil && len(in) == 2
	})
	nga.sendPendingReceipts()
	if got := len(receiptsBy(t, nga, id, nga.MemberID())); got != 0 {
		t.Fatalf("NGA published %d receipts with its own budget spent", got)
	}
	if testutil.ToFloat64(nga.requests.budget) == 0 {
		t.Fatal("the receipts put off are not counted")
	}

	nga.budgets.reset(DefaultLimits())
	nga.sendPendingReceipts()
	nga.sendPendingReceipts()
	if _, err := nga.sendReceipt(ctx, reqs[0], protocol.ReceiptDelivered, "", true); err == nil {
		t.Fatal("a second delivered receipt was sent")
	}
	if got := len(receiptsBy(t, nga, id, nga.MemberID())); got != 2 {
		t.Fatalf("NGA published %d receipts for 2 requests", got)
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		r := outgoingView(t, fra, reqs[1])
		return stateOf(r, nga.MemberID()).State == api.StateDelivered, fmt.Sprintf("%+v", r.Addressees)
	})
}
