package localapi

import (
	"context"
	"io"

	"github.com/concordnet/concord/node/api"
)

// Service is what the handlers call: the node's operations, taking
// references as the user gives them (topic names or prefixes, bulletin
// ID prefixes, member IDs or country codes) and returning api views.
// Errors carry an api.Class (api.Errorf, api.Classify); an error without
// one is internal.
type Service interface {
	Status(ctx context.Context) (api.Status, error)
	Identity(ctx context.Context) (api.Identity, error)
	Peers(ctx context.Context) ([]api.Peer, error)
	Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error)
	// Backup writes a backup archive to w; an error after the first
	// byte can only be reported by cutting the stream short.
	Backup(ctx context.Context, w io.Writer) error

	Categories(ctx context.Context) ([]api.Category, error)
	Topics(ctx context.Context) ([]api.Topic, error)
	CreateTopic(ctx context.Context, req api.CreateTopicRequest) (api.Topic, error)
	Topic(ctx context.Context, ref string) (api.Topic, error)
	Members(ctx context.Context, topic string) ([]api.Member, error)
	Invite(ctx context.Context, topic string, req api.InviteRequest) (api.InviteResponse, error)
	Remove(ctx context.Context, topic string, req api.RemoveRequest) (api.LogChange, error)
	Rotate(ctx context.Context, topic string) (api.LogChange, error)
	SetRole(ctx context.Context, topic string, req api.RoleRequest) (api.LogChange, error)
	Uninvite(ctx context.Context, topic string, req api.UninviteRequest) (api.LogChange, error)
	Leave(ctx context.Context, topic string, req api.LeaveRequest) (api.LogChange, error)
	Join(ctx context.Context, req api.JoinRequest) (api.Topic, error)

	Publish(ctx context.Context, req api.PublishRequest) (api.PublishResponse, error)
	List(ctx context.Context, q api.ListQuery) ([]api.Bulletin, error)
	Bulletin(ctx context.Context, ref string) (api.Bulletin, error)
	Revise(ctx context.Context, ref string, req api.ReviseRequest) (api.PublishResponse, error)
	Revoke(ctx context.Context, ref string, req api.RevokeRequest) (api.PublishResponse, error)
	// Watch sends each bulletin stored after q.After (nil: from now) until
	// ctx ends or send fails.
	Watch(ctx context.Context, q api.WatchQuery, send func(api.Bulletin) error) error

	Search(ctx context.Context, q api.SearchQuery) ([]api.SearchHit, error)
	Related(ctx context.Context, ref string, limit int) (api.Related, error)
	// Reindex rebuilds the search indexes, reporting progress; the last
	// report has Finished or Error set.
	Reindex(ctx context.Context, progress func(api.ReindexProgress)) error
	Import(ctx context.Context, source string) (api.ImportRecord, error)
	AddImport(ctx context.Context, rec api.ImportRecord) (api.ImportRecord, error)

	Watchlist(ctx context.Context) ([]api.WatchEntry, error)
	AddWatch(ctx context.Context, req api.WatchRequest) (api.WatchEntry, error)
	RemoveWatch(ctx context.Context, ref string) error
	Alerts(ctx context.Context, q api.AlertQuery) ([]api.Alert, error)
	// WatchAlerts sends each alert raised after q.After (nil: from now)
	// until ctx ends or send fails.
	WatchAlerts(ctx context.Context, q api.AlertQuery, send func(api.Alert) error) error

	// TopicLog sends every entry of a topic's log, in order; Envelopes
	// sends the envelopes the node holds on a topic, by author and seq.
	// Both fail before the first send when the request is wrong (unknown
	// topic or author), and keep memory bounded however large the topic.
	TopicLog(ctx context.Context, topic string, send func(api.LogEntry) error) error
	Envelopes(ctx context.Context, topic string, q api.EnvelopeQuery, send func(api.RawEnvelope) error) error

	// SetPolicy changes a topic's history policy (admins).
	SetPolicy(ctx context.Context, topic string, req api.PolicyRequest) (api.LogChange, error)
	// Requests for information.
	Requests(ctx context.Context, q api.RequestQuery) ([]api.Request, error)
	CreateRequest(ctx context.Context, req api.PublishRequest) (api.PublishResponse, error)
	Ack(ctx context.Context, ref string) (api.Receipt, error)
	Decline(ctx context.Context, ref string, req api.DeclineRequest) (api.Receipt, error)
	Reply(ctx context.Context, ref string, req api.ReplyRequest) (api.PublishResponse, error)
}
