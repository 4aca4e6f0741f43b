package node

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/localapi"
)

// apiHandler is the local API on this node, with its metrics and, for
// operators chasing memory or CPU, Go's profiles, every route behind the
// roles of [api.roles] and recorded in the audit log (access.go).
func (n *Node) apiHandler() http.Handler {
	opts := []localapi.Option{localapi.WithAccess(n.access)}
	for pattern, h := range n.apiExtras() {
		opts = append(opts, localapi.WithHandler(pattern, h))
	}
	return localapi.Handler(n.Service(), opts...)
}

// trackedHTTP makes Close wait for API requests in flight before it
// closes the store, and refuses those that arrive after it began.
func (n *Node) trackedHTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !n.enter() {
			http.Error(w, "the daemon is stopping", http.StatusServiceUnavailable)
			return
		}
		defer n.exit()
		h.ServeHTTP(w, r)
	})
}

// apiExtras are the routes served beside the Service's.
func (n *Node) apiExtras() map[string]http.Handler {
	return map[string]http.Handler{
		api.RouteMetrics:           promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{}),
		"GET /debug/pprof/":        http.HandlerFunc(pprof.Index),
		"GET /debug/pprof/profile": http.HandlerFunc(pprof.Profile),
	}
}
