package localapi

import (
	"net/http"
	"net/url"

	"github.com/concordnet/concord/node/api"
)

// Option adds to what Handler serves.
type Option func(*options)

// options are what the Options chose: extra routes, and access control.
type options struct {
	extra  []extraRoute
	access *Access
}

type extraRoute struct {
	pattern string
	h       http.Handler
}

// WithHandler serves h on pattern ("METHOD PATH", as http.ServeMux takes
// it): routes whose work is not the Service's, such as metrics or
// profiles.
func WithHandler(pattern string, h http.Handler) Option {
	return func(o *options) { o.extra = append(o.extra, extraRoute{pattern, h}) }
}

// Handler serves the local API on svc: every api.Route*, metrics aside
// (pass it with WithHandler).
func Handler(svc Service, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, o.access.guard(pattern, h)) }
	for route, h := range routes(svc) {
		handle(route, h)
	}
	for _, e := range o.extra {
		handle(e.pattern, e.h)
	}
	for route, h := range o.access.routes() {
		handle(route, h)
	}
	return mux
}

// routes is the table of the local API: for each route, how its request
// is decoded (adapt.go) and which Service method answers it.
func routes(svc Service) map[string]http.Handler {
	return map[string]http.Handler{
		api.RouteStatus:      get(svc.Status),
		api.RouteID:          get(svc.Identity),
		api.RoutePeers:       get(svc.Peers),
		api.RouteConnect:     post(http.StatusOK, svc.Connect),
		api.RouteBackup:      backup(svc),
		api.RouteCategories:  get(svc.Categories),
		api.RouteTopics:      get(svc.Topics),
		api.RouteCreateTopic: post(http.StatusCreated, svc.CreateTopic),
		api.RouteTopic:       on(api.PathTopic, svc.Topic),
		api.RouteMembers:     on(api.PathTopic, svc.Members),
		api.RouteInvite:      postOn(api.PathTopic, svc.Invite),
		api.RouteRemove:      postOn(api.PathTopic, svc.Remove),
		api.RouteRotate:      on(api.PathTopic, svc.Rotate), // no body to read
		api.RouteRole:        postOn(api.PathTopic, svc.SetRole),
		api.RouteUninvite:    postOn(api.PathTopic, svc.Uninvite),
		api.RouteLeave:       postOn(api.PathTopic, svc.Leave),
		api.RouteJoin:        post(http.StatusOK, svc.Join),
		api.RoutePublish:     post(http.StatusCreated, svc.Publish),
		api.RouteList:        query(api.ParseListQuery, svc.List),
		api.RouteBulletin:    on(api.PathID, svc.Bulletin),
		api.RouteRevise:      postOn(api.PathID, svc.Revise),
		api.RouteRevoke:      postOn(api.PathID, svc.Revoke),
		api.RouteRelated:     queryOn(api.PathID, api.ParseRelatedLimit, svc.Related),
		api.RouteWatch:       stream(api.ParseWatchQuery, svc.Watch),
		api.RouteSearch:      query(api.ParseSearchQuery, svc.Search),
		api.RouteReindex:     reindex(svc),
		api.RouteImport:      query(source, svc.Import),
		api.RouteAddImport:   post(http.StatusCreated, svc.AddImport),
		api.RouteWatchlist:   get(svc.Watchlist),
		api.RouteAddWatch:    post(http.StatusCreated, svc.AddWatch),
		api.RouteRemoveWatch: on(api.PathID, removeWatch(svc)),
		api.RouteAlerts:      query(api.ParseAlertQuery, svc.Alerts),
		api.RouteWatchAlerts: stream(api.ParseAlertQuery, svc.WatchAlerts),

		api.RouteTopicLog: exportOn(api.PathTopic, noQuery, ignoreQuery(svc.TopicLog),
			func(err error) api.LogEntry { return api.LogEntry{Error: err.Error()} }),
		api.RouteEnvelopes: exportOn(api.PathTopic, api.ParseEnvelopeQuery, svc.Envelopes,
			func(err error) api.RawEnvelope { return api.RawEnvelope{Error: err.Error()} }),
		api.RoutePolicy: postOn(api.PathTopic, svc.SetPolicy),
		// Requests for information.
		api.RouteRequests:      query(api.ParseRequestQuery, svc.Requests),
		api.RouteCreateRequest: post(http.StatusCreated, svc.CreateRequest),
		api.RouteAck:           on(api.PathID, svc.Ack), // no body to read
		api.RouteDecline:       postOn(api.PathID, svc.Decline),
		api.RouteReply:         postOn(api.PathID, svc.Reply),
	}
}

// source is GET /v1/imports?source=….
func source(v url.Values) (string, error) { return v.Get("source"), nil }
