package api

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/concordnet/concord/protocol"
)

// Requests for information: types and client methods (routes in routes.go).

// Request directions.
const (
	Outgoing = "outgoing" // this member asked
	Incoming = "incoming" // this member was asked
)

// Addressee states, from least to most settled; an addressee's State is
// the most settled it reported.
const (
	StatePending      = "pending" // nothing reported yet
	StateDelivered    = protocol.ReceiptDelivered
	StateAcknowledged = protocol.ReceiptAcknowledged
	StateDeclined     = protocol.ReceiptDeclined
	StateAnswered     = "answered"
)

// RequestQuery is GET /v1/requests. Neither direction set means both;
// Open keeps requests some addressee has neither answered nor declined,
// Overdue those of them past their due time.
type RequestQuery struct {
	Incoming, Outgoing bool
	Open, Overdue      bool
}

// Values encodes q as URL query parameters.
func (q RequestQuery) Values() url.Values {
	v := url.Values{}
	for name, set := range map[string]bool{"incoming": q.Incoming, "outgoing": q.Outgoing, "open": q.Open, "overdue": q.Overdue} {
		if set {
			v.Set(name, "true")
		}
	}
	return v
}

// ParseRequestQuery decodes a RequestQuery.
func ParseRequestQuery(v url.Values) (RequestQuery, error) {
	var q RequestQuery
	for name, dst := range map[string]*bool{"incoming": &q.Incoming, "outgoing": &q.Outgoing, "open": &q.Open, "overdue": &q.Overdue} {
		switch v.Get(name) {
		case "":
		case "true":
			*dst = true
		default:
			return q, Errorf(Invalid, "query parameter %q is %q: want true or nothing", name, v.Get(name))
		}
	}
	return q, nil
}

// Request is one request of GET /v1/requests: its due time and where it
// stands with each addressee. An incoming request lists this member
// alone: addressees do not learn each other's answers.
type Request struct {
	ID         string              `json:"id"`
	Direction  string              `json:"direction"` // outgoing or incoming
	Topic      string              `json:"topic"`
	TopicName  string              `json:"topic_name,omitempty"`
	Title      string              `json:"title"`
	Requester  protocol.Originator `json:"requester"`
	Priority   string              `json:"priority"`
	Created    time.Time           `json:"created"`
	Due        time.Time           `json:"due"`
	Open       bool                `json:"open"`    // some addressee has neither answered nor declined
	Overdue    bool                `json:"overdue"` // open, and past its due time
	Addressees []Addressee         `json:"addressees"`
}

// Addressee is where a request stands with one addressee: each state it
// reported, first report first.
type Addressee struct {
	Member       string     `json:"member"`
	Country      string     `json:"country,omitempty"`
	Name         string     `json:"name,omitempty"`
	State        string     `json:"state"` // pending, delivered, acknowledged, declined or answered
	At           *time.Time `json:"at,omitempty"`
	Delivered    *time.Time `json:"delivered,omitempty"`
	Acknowledged *time.Time `json:"acknowledged,omitempty"`
	Declined     *time.Time `json:"declined,omitempty"`
	Reason       string     `json:"reason,omitempty"` // why it declined
	Answered     *time.Time `json:"answered,omitempty"`
	Answer       string     `json:"answer,omitempty"` // the answer's bulletin ID
}

// DeclineRequest is POST /v1/requests/{id}/decline.
type DeclineRequest struct {
	Reason string `json:"reason"`
}

// ReplyRequest is POST /v1/requests/{id}/reply: the answer's content. Its
// audience is the requester and whoever Draft.Audience adds; in_reply_to
// gains the request.
type ReplyRequest struct {
	Draft protocol.BulletinDraft `json:"draft"`
}

// Receipt is what ack and decline published.
type Receipt struct {
	Request  string    `json:"request"`
	State    string    `json:"state"`
	At       time.Time `json:"at"`
	Envelope string    `json:"envelope"`
	Topic    string    `json:"topic"`
	Seq      uint64    `json:"seq"`
}

// Requests lists requests made and received.
func (c *Client) Requests(ctx context.Context, q RequestQuery) ([]Request, error) {
	return list[Request](ctx, c, RouteRequests, q.Values(), nil)
}

// CreateRequest publishes a request: req.Draft carries its request block.
func (c *Client) CreateRequest(ctx context.Context, req PublishRequest) (PublishResponse, error) {
	if req.Draft.Request == nil {
		return PublishResponse{}, fmt.Errorf("a request needs its request block: due time, priority and addressees")
	}
	return get[PublishResponse](ctx, c, RouteCreateRequest, nil, req)
}

// Ack acknowledges a request addressed to this member.
func (c *Client) Ack(ctx context.Context, ref string) (Receipt, error) {
	return get[Receipt](ctx, c, RouteAck, nil, struct{}{}, ref)
}

// Decline declines a request addressed to this member, saying why.
func (c *Client) Decline(ctx context.Context, ref string, req DeclineRequest) (Receipt, error) {
	return get[Receipt](ctx, c, RouteDecline, nil, req, ref)
}

// Reply publishes an answer to a request addressed to this member.
func (c *Client) Reply(ctx context.Context, ref string, req ReplyRequest) (PublishResponse, error) {
	return get[PublishResponse](ctx, c, RouteReply, nil, req, ref)
}
