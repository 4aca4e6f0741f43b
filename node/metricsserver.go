package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsListener is the optional plain-HTTP listener of [metrics] listen.
type metricsListener struct {
	mu     sync.Mutex
	server *http.Server
	addr   string
}

// serveMetrics registers the node's scrape-time gauges and, when
// [metrics] listen is set, serves /metrics on it. It runs once the host,
// the store and the topics are up, which the gauges read.
func (n *Node) serveMetrics() error {
	n.metrics.registry.MustRegister(nodeCollector{n})
	addr := n.cfg.Metrics.Listen
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener on %s: %w; free that port or change [metrics] listen in %s (\"\" turns the listener off)", addr, err, n.home.Config())
	}
	srv := &http.Server{
		Handler:           onlyMetrics(n.metrics.handler(n.log)),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    8 << 10,
	}
	l := &n.metrics.listener
	l.mu.Lock()
	l.server, l.addr = srv, ln.Addr().String()
	l.mu.Unlock()
	n.spawn(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	})
	n.log.Info("metrics listener started", "addr", ln.Addr().String())
	return nil
}

// stopMetrics closes the metrics listener, letting scrapes in flight end.
func (n *Node) stopMetrics() {
	l := &n.metrics.listener
	l.mu.Lock()
	srv := l.server
	l.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// MetricsAddr returns the address the metrics listener is bound to (its
// real port when [metrics] listen gives port 0), or "" when it is off.
func (n *Node) MetricsAddr() string {
	l := &n.metrics.listener
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// handler serves the registry. Scrapes are bounded because the listener
// may face a network: a few at a time, each cut off after 10 s.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// onlyMetrics answers /metrics and nothing else: the listener has no
// authentication, so it must expose no API route, profile or page.
func onlyMetrics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET /metrics is served here", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}
