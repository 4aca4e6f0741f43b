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
	var out Status
	return out, c.call(ctx, RouteStatus, nil, nil, &out)
}

// Identity returns who the node is, with its card (GET /v1/id).
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	var out Identity
	return out, c.call(ctx, RouteID, nil, nil, &out)
}

// Peers lists the connected peers.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	var out []Peer
	return out, c.call(ctx, RoutePeers, nil, nil, &out)
}

// Connect dials a peer at a multiaddr.
func (c *Client) Connect(ctx context.Context, addr string) (ConnectResponse, error) {
	var out ConnectResponse
	return out, c.call(ctx, RouteConnect, nil, ConnectRequest{Addr: addr}, &out)
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
	var out []Category
	return out, c.call(ctx, RouteCategories, nil, nil, &out)
}

// Topics lists the topics this node holds.
func (c *Client) Topics(ctx context.Context) ([]Topic, error) {
	out := []Topic{}
	return out, c.call(ctx, RouteTopics, nil, nil, &out)
}

// CreateTopic creates a topic owned by this node's member.
func (c *Client) CreateTopic(ctx context.Context, req CreateTopicRequest) (Topic, error) {
	var out Topic
	return out, c.call(ctx, RouteCreateTopic, nil, req, &out)
}

// Topic resolves a topic reference (ID, unique prefix or name).
func (c *Client) Topic(ctx context.Context, ref string) (Topic, error) {
	var out Topic
	return out, c.call(ctx, RouteTopic, nil, nil, &out, ref)
}

// Members lists a topic's current members.
func (c *Client) Members(ctx context.Context, topic string) ([]Member, error) {
	var out []Member
	return out, c.call(ctx, RouteMembers, nil, nil, &out, topic)
}

// Invite invites the holder of a card to a topic.
func (c *Client) Invite(ctx context.Context, topic string, req InviteRequest) (InviteResponse, error) {
	var out InviteResponse
	return out, c.call(ctx, RouteInvite, nil, req, &out, topic)
}

// Remove removes a member from a topic.
func (c *Client) Remove(ctx context.Context, topic string, req RemoveRequest) (LogChange, error) {
	var out LogChange
	return out, c.call(ctx, RouteRemove, nil, req, &out, topic)
}

// Rotate starts a new epoch of a topic.
func (c *Client) Rotate(ctx context.Context, topic string) (LogChange, error) {
	var out LogChange
	return out, c.call(ctx, RouteRotate, nil, struct{}{}, &out, topic)
}

// SetRole changes a member's role in a topic.
func (c *Client) SetRole(ctx context.Context, topic string, req RoleRequest) (LogChange, error) {
	var out LogChange
	return out, c.call(ctx, RouteRole, nil, req, &out, topic)
}

// Uninvite withdraws a pending invitation.
func (c *Client) Uninvite(ctx context.Context, topic string, req UninviteRequest) (LogChange, error) {
	var out LogChange
	return out, c.call(ctx, RouteUninvite, nil, req, &out, topic)
}

// Leave leaves a topic.
func (c *Client) Leave(ctx context.Context, topic string, req LeaveRequest) (LogChange, error) {
	var out LogChange
	return out, c.call(ctx, RouteLeave, nil, req, &out, topic)
}

// Join joins a topic with an invitation token.
func (c *Client) Join(ctx context.Context, token string) (Topic, error) {
	var out Topic
	return out, c.call(ctx, RouteJoin, nil, JoinRequest{Token: token}, &out)
}

// Publish publishes a bulletin; it returns once the bulletin is stored.
func (c *Client) Publish(ctx context.Context, req PublishRequest) (PublishResponse, error) {
	var out PublishResponse
	return out, c.call(ctx, RoutePublish, nil, req, &out)
}

// List lists bulletins, newest first.
func (c *Client) List(ctx context.Context, q ListQuery) ([]Bulletin, error) {
	out := []Bulletin{}
	return out, c.call(ctx, RouteList, q.Values(), nil, &out)
}

// Bulletin returns one bulletin with its history, by ID or unique prefix.
func (c *Client) Bulletin(ctx context.Context, ref string) (Bulletin, error) {
	var out Bulletin
	return out, c.call(ctx, RouteBulletin, nil, nil, &out, ref)
}

// Revise publishes a new version of one of this agency's bulletins.
func (c *Client) Revise(ctx context.Context, ref string, req ReviseRequest) (PublishResponse, error) {
	var out PublishResponse
	return out, c.call(ctx, RouteRevise, nil, req, &out, ref)
}

// Revoke revokes one of this agency's bulletins.
func (c *Client) Revoke(ctx context.Context, ref string, req RevokeRequest) (PublishResponse, error) {
	var out PublishResponse
	return out, c.call(ctx, RouteRevoke, nil, req, &out, ref)
}

// Related returns the bulletins sharing an entity with one, at most limit
// per entity (0: up to the common threshold).
func (c *Client) Related(ctx context.Context, ref string, limit int) (Related, error) {
	var out Related
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	return out, c.call(ctx, RouteRelated, q, nil, &out, ref)
}

// Watch streams bulletins as they are stored.
func (c *Client) Watch(ctx context.Context, q WatchQuery) (*Stream[Bulletin], error) {
	return newStream[Bulletin](c.stream(ctx, RouteWatch, q.Values()))
}

// Search searches the bulletins this node can read.
func (c *Client) Search(ctx context.Context, q SearchQuery) ([]SearchHit, error) {
	out := []SearchHit{}
	return out, c.call(ctx, RouteSearch, q.Values(), nil, &out)
}

// Reindex rebuilds the search indexes, streaming progress; the last value
// has Finished or Error set.
func (c *Client) Reindex(ctx context.Context) (*Stream[ReindexProgress], error) {
	return newStream[ReindexProgress](c.stream(ctx, RouteReindex, nil))
}

// Import looks up which bulletin an imported source became; NotFound when
// it was never imported.
func (c *Client) Import(ctx context.Context, source string) (ImportRecord, error) {
	var out ImportRecord
	return out, c.call(ctx, RouteImport, url.Values{"source": {source}}, nil, &out)
}

// AddImport records that source was imported as a bulletin.
func (c *Client) AddImport(ctx context.Context, rec ImportRecord) error {
	return c.call(ctx, RouteAddImport, nil, rec, nil)
}

// Watchlist lists the watched terms.
func (c *Client) Watchlist(ctx context.Context) ([]WatchEntry, error) {
	out := []WatchEntry{}
	return out, c.call(ctx, RouteWatchlist, nil, nil, &out)
}

// AddWatch watches a term.
func (c *Client) AddWatch(ctx context.Context, req WatchRequest) (WatchEntry, error) {
	var out WatchEntry
	return out, c.call(ctx, RouteAddWatch, nil, req, &out)
}

// RemoveWatch stops watching a term, by watch ID or term.
func (c *Client) RemoveWatch(ctx context.Context, ref string) error {
	return c.call(ctx, RouteRemoveWatch, nil, nil, nil, ref)
}

// Alerts lists alerts, oldest first.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	out := []Alert{}
	return out, c.call(ctx, RouteAlerts, q.Values(), nil, &out)
}

// WatchAlerts streams alerts as they are raised.
func (c *Client) WatchAlerts(ctx context.Context, q AlertQuery) (*Stream[Alert], error) {
	return newStream[Alert](c.stream(ctx, RouteWatchAlerts, q.Values()))
}
