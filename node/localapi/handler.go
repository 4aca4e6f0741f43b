package localapi

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
)

// Option adds to what Handler serves.
type Option func(*http.ServeMux)

// WithHandler serves h on pattern ("METHOD PATH", as http.ServeMux takes
// it): routes whose work is not the Service's, such as metrics or
// profiles.
func WithHandler(pattern string, h http.Handler) Option {
	return func(mux *http.ServeMux) { mux.Handle(pattern, h) }
}

// Handler serves the local API on svc: every api.Route*, metrics aside
// (pass it with WithHandler).
func Handler(svc Service, opts ...Option) http.Handler {
	mux := http.NewServeMux()
	h := handlers{svc}
	for route, fn := range map[string]http.HandlerFunc{
		api.RouteStatus:      h.status,
		api.RouteID:          h.identity,
		api.RoutePeers:       h.peers,
		api.RouteConnect:     h.connect,
		api.RouteBackup:      h.backup,
		api.RouteCategories:  h.categories,
		api.RouteTopics:      h.topics,
		api.RouteCreateTopic: h.createTopic,
		api.RouteTopic:       h.topic,
		api.RouteMembers:     h.members,
		api.RouteInvite:      h.invite,
		api.RouteRemove:      h.remove,
		api.RouteRotate:      h.rotate,
		api.RouteRole:        h.setRole,
		api.RouteUninvite:    h.uninvite,
		api.RouteLeave:       h.leave,
		api.RouteJoin:        h.join,
		api.RoutePublish:     h.publish,
		api.RouteList:        h.list,
		api.RouteBulletin:    h.bulletin,
		api.RouteRevise:      h.revise,
		api.RouteRevoke:      h.revoke,
		api.RouteRelated:     h.related,
		api.RouteWatch:       h.watch,
		api.RouteSearch:      h.search,
		api.RouteReindex:     h.reindex,
		api.RouteImport:      h.importLookup,
		api.RouteAddImport:   h.addImport,
		api.RouteWatchlist:   h.watchlist,
		api.RouteAddWatch:    h.addWatch,
		api.RouteRemoveWatch: h.removeWatch,
		api.RouteAlerts:      h.alerts,
		api.RouteWatchAlerts: h.watchAlerts,
	} {
		mux.HandleFunc(route, fn)
	}
	for _, o := range opts {
		o(mux)
	}
	return mux
}

// handlers decode a request, call the Service and encode its answer.
type handlers struct {
	svc Service
}
