package node

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/localapi"
)

// apiHandler is the local API on this node, with its metrics and, for
// operators chasing memory or CPU, Go's profiles: the socket is the
// daemon user's alone, like every other route.
func (n *Node) apiHandler() http.Handler {
	return localapi.Handler(n.Service(),
		localapi.WithHandler(api.RouteMetrics, promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{})),
		localapi.WithHandler("GET /debug/pprof/", http.HandlerFunc(pprof.Index)),
		localapi.WithHandler("GET /debug/pprof/profile", http.HandlerFunc(pprof.Profile)),
	)
}
