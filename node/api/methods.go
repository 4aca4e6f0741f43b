package api

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"
)

// Status reports the node's state (GET /v1/status).
func (c *Client) Status(ctx context.Context) (Status, error) {
	return get[Status](ctx, c, RouteStatus, nil, nil)
}

// Identity returns who the node is, with its card (GET /v1/id).
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	return get[Identity](ctx, c, RouteID, nil, nil)
}

// Peers lists the connected peers.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	return list[Peer](ctx, c, RoutePeers, nil, nil)
}

// Connect dials a peer at a multiaddr.
func (c *Client) Connect(ctx context.Context, addr string) (ConnectResponse, error) {
	return get[ConnectResponse](ctx, c, RouteConnect, nil, ConnectRequest{Addr: addr})
}

// Backup streams a backup archive (see docs/operations.md); the caller
// closes it.
func (c *Client) Backup(ctx context.Context) (io.ReadCloser, error) {
	body, err := c.stream(ctx, RouteBackup, nil)
	if ClassOf(err) == NotFound {
		return nil, errors.New("the daemon serves no backups: it runs an older concord; restart it with this version, then back up")
	}
	return body, err
}

// Categories lists the crime categories.
func (c *Client) Categories(ctx context.Context) ([]Category, error) {
	return list[Category](ctx, c, RouteCategories, nil, nil)
}

// Topics lists the topics this node holds.
func (c *Client) Topics(ctx context.Context) ([]Topic, error) {
	return list[Topic](ctx, c, RouteTopics, nil, nil)
}

// CreateTopic creates a topic owned by this node's member.
func (c *Client) CreateTopic(ctx context.Context, req CreateTopicRequest) (Topic, error) {
	return get[Topic](ctx, c, RouteCreateTopic, nil, req)
}

// Topic resolves a topic reference (ID, unique prefix or name).
func (c *Client) Topic(ctx context.Context, ref string) (Topic, error) {
	return get[Topic](ctx, c, RouteTopic, nil, nil, ref)
}

// Members lists a topic's current members.
func (c *Client) Members(ctx context.Context, topic string) ([]Member, error) {
	return list[Member](ctx, c, RouteMembers, nil, nil, topic)
}

// Invite invites the holder of a card to a topic.
func (c *Client) Invite(ctx context.Context, topic string, req InviteRequest) (InviteResponse, error) {
	return get[InviteResponse](ctx, c, RouteInvite, nil, req, topic)
}

// Remove removes a member from a topic.
func (c *Client) Remove(ctx context.Context, topic string, req RemoveRequest) (LogChange, error) {
	return get[LogChange](ctx, c, RouteRemove, nil, req, topic)
}

// Rotate starts a new epoch of a topic.
func (c *Client) Rotate(ctx context.Context, topic string) (LogChange, error) {
	return get[LogChange](ctx, c, RouteRotate, nil, struct{}{}, topic)
}

// SetRole changes a member's role in a topic.
func (c *Client) SetRole(ctx context.Context, topic string, req RoleRequest) (LogChange, error) {
	return get[LogChange](ctx, c, RouteRole, nil, req, topic)
}

// Uninvite withdraws a pending invitation.
func (c *Client) Uninvite(ctx context.Context, topic string, req UninviteRequest) (LogChange, error) {
	return get[LogChange](ctx, c, RouteUninvite, nil, req, topic)
}

// Leave leaves a topic.
func (c *Client) Leave(ctx context.Context, topic string, req LeaveRequest) (LogChange, error) {
	return get[LogChange](ctx, c, RouteLeave, nil, req, topic)
}

// Join joins a topic with an invitation token.
func (c *Client) Join(ctx context.Context, token string) (Topic, error) {
	return get[Topic](ctx, c, RouteJoin, nil, JoinRequest{Token: token})
}

// Publish publishes a bulletin; it returns once the bulletin is stored.
func (c *Client) Publish(ctx context.Context, req PublishRequest) (PublishResponse, error) {
	return get[PublishResponse](ctx, c, RoutePublish, nil, req)
}

// List lists bulletins, newest first.
func (c *Client) List(ctx context.Context, q ListQuery) ([]Bulletin, error) {
	return list[Bulletin](ctx, c, RouteList, q.Values(), nil)
}

// Bulletin returns one bulletin with its history, by ID or unique prefix.
func (c *Client) Bulletin(ctx context.Context, ref string) (Bulletin, error) {
	return get[Bulletin](ctx, c, RouteBulletin, nil, nil, ref)
}

// Revise publishes a new version of one of this agency's bulletins.
func (c *Client) Revise(ctx context.Context, ref string, req ReviseRequest) (PublishResponse, error) {
	return get[PublishResponse](ctx, c, RouteRevise, nil, req, ref)
}

// Revoke revokes one of this agency's bulletins.
func (c *Client) Revoke(ctx context.Context, ref string, req RevokeRequest) (PublishResponse, error) {
	return get[PublishResponse](ctx, c, RouteRevoke, nil, req, ref)
}

// Related returns the bulletins sharing an entity with one, at most limit
// per entity (0: up to the common threshold).
func (c *Client) Related(ctx context.Context, ref string, limit int) (Related, error) {
	return get[Related](ctx, c, RouteRelated, url.Values{"limit": {strconv.Itoa(limit)}}, nil, ref)
}

// Watch streams bulletins as they are stored.
func (c *Client) Watch(ctx context.Context, q WatchQuery) (*Stream[Bulletin], error) {
	return newStream[Bulletin](c.stream(ctx, RouteWatch, q.Values()))
}

// Search searches the bulletins this node can read.
func (c *Client) Search(ctx context.Context, q SearchQuery) ([]SearchHit, error) {
	return list[SearchHit](ctx, c, RouteSearch, q.Values(), nil)
}

// Reindex rebuilds the search indexes, streaming progress; the last value
// has Finished or Error set.
func (c *Client) Reindex(ctx context.Context) (*Stream[ReindexProgress], error) {
	return newStream[ReindexProgress](c.stream(ctx, RouteReindex, nil))
}

// Import looks up which bulletin an imported source became; NotFound when
// it was never imported.
func (c *Client) Import(ctx context.Context, source string) (ImportRecord, error) {
	return get[ImportRecord](ctx, c, RouteImport, url.Values{"source": {source}}, nil)
}

// AddImport records that source was imported as a bulletin.
func (c *Client) AddImport(ctx context.Context, rec ImportRecord) error {
	return c.call(ctx, RouteAddImport, nil, rec, nil)
}

// Watchlist lists the watched terms.
func (c *Client) Watchlist(ctx context.Context) ([]WatchEntry, error) {
	return list[WatchEntry](ctx, c, RouteWatchlist, nil, nil)
}

// AddWatch watches a term.
func (c *Client) AddWatch(ctx context.Context, req WatchRequest) (WatchEntry, error) {
	return get[WatchEntry](ctx, c, RouteAddWatch, nil, req)
}

// RemoveWatch stops watching a term, by watch ID or term.
func (c *Client) RemoveWatch(ctx context.Context, ref string) error {
	return c.call(ctx, RouteRemoveWatch, nil, nil, nil, ref)
}

// Alerts lists alerts, oldest first.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	return list[Alert](ctx, c, RouteAlerts, q.Values(), nil)
}

// WatchAlerts streams alerts as they are raised.
func (c *Client) WatchAlerts(ctx context.Context, q AlertQuery) (*Stream[Alert], error) {
	return newStream[Alert](c.stream(ctx, RouteWatchAlerts, q.Values()))
}

// TopicLog streams every entry of a topic's log, in order, with its exact
// bytes.
func (c *Client) TopicLog(ctx context.Context, topic string) (*Stream[LogEntry], error) {
	return newStream[LogEntry](c.stream(ctx, RouteTopicLog, nil, topic))
}

// Envelopes streams the envelopes this node holds on a topic, by author
// and seq, with their exact bytes.
func (c *Client) Envelopes(ctx context.Context, topic string, q EnvelopeQuery) (*Stream[RawEnvelope], error) {
	return newStream[RawEnvelope](c.stream(ctx, RouteEnvelopes, q.Values(), topic))
}

// SetPolicy changes a topic's history policy.
func (c *Client) SetPolicy(ctx context.Context, topic string, req PolicyRequest) (LogChange, error) {
	return get[LogChange](ctx, c, RoutePolicy, nil, req, topic)
}
