package node

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// routes maps the local API. Every answer is JSON; errors are api.Error.
func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", n.handleStatus)
	mux.HandleFunc("GET /v1/id", n.handleID)
	mux.HandleFunc("GET /v1/peers", n.handlePeers)
	mux.HandleFunc("POST /v1/connect", n.handleConnect)
	mux.HandleFunc("GET /v1/backup", n.handleBackup)
	mux.HandleFunc("GET /v1/imports", n.handleImportLookup)
	mux.HandleFunc("POST /v1/imports", n.handleImportRecord)
	mux.HandleFunc("GET /v1/search", n.handleSearch)
	mux.HandleFunc("GET /v1/bulletins/{id}/related", n.handleRelated)
	mux.HandleFunc("POST /v1/reindex", n.handleReindex)
	mux.Handle("GET /metrics", promhttp.HandlerFor(n.metrics.registry, promhttp.HandlerOpts{}))
	// Go's profiles, for operators chasing memory or CPU: the socket is
	// the daemon user's alone, like every other route.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	n.topicRoutes(mux)
	n.alertRoutes(mux) // watchlist and alerts (server_alerts.go)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	if errors.Is(err, store.ErrDiskFull) {
		code = http.StatusServiceUnavailable // nobody's fault but the disk's, and it passes
	}
	writeJSON(w, code, api.Error{Class: api.ClassOfStatus(code), Message: err.Error()})
}

// readJSON decodes a bounded request body, refusing unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, errors.New("malformed request: "+err.Error()))
		return false
	}
	return true
}

func (n *Node) handleStatus(w http.ResponseWriter, r *http.Request) {
	count, err := n.store.CountBulletins()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	evidence, err := n.store.Equivocations()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	equivocations := []api.Equivocation{}
	for _, e := range evidence {
		equivocations = append(equivocations, api.Equivocation{Topic: protocol.TopicID(e.Topic).String(),
			Author: e.Author, Seq: e.Seq, Envelope: protocol.EnvelopeID(e.Envelope).String()})
	}
	writeJSON(w, http.StatusOK, api.Status{
		MemberID:      n.id.MemberID(),
		PeerID:        n.host.ID().String(),
		Name:          n.cfg.Member.Name,
		Country:       n.cfg.Member.Country,
		Addrs:         n.Addrs(),
		Version:       Version(),
		Started:       n.started.UTC(),
		Uptime:        time.Since(n.started).Round(time.Second).String(),
		Peers:         len(n.host.Network().Peers()),
		Topics:        len(n.allTopics()),
		Bulletins:     count,
		Equivocations: equivocations,
		Sync:          n.syncStatus(),
		Disk:          n.diskStatus(),
	})
}

func (n *Node) handleID(w http.ResponseWriter, r *http.Request) {
	card, err := n.Card()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, IdentityOf(card))
}

// IdentityOf renders a card as the API's identity object.
func IdentityOf(card *crypto.Card) api.Identity {
	var addrs []string
	for _, nd := range card.Nodes {
		addrs = append(addrs, nd.Addrs...)
	}
	return api.Identity{
		MemberID:  card.ID,
		PeerID:    card.Nodes[0].Peer,
		Recipient: card.Age,
		Name:      card.Name,
		Country:   card.Country,
		Addrs:     addrs,
		Card:      card.Armor(),
	}
}

func (n *Node) handlePeers(w http.ResponseWriter, r *http.Request) {
	peers := []api.Peer{}
	for _, id := range n.host.Network().Peers() {
		conns := n.host.Network().ConnsToPeer(id)
		if len(conns) == 0 {
			continue
		}
		p := api.Peer{PeerID: id.String(), Direction: strings.ToLower(conns[0].Stat().Direction.String()), Member: n.memberOfPeer(id)}
		for _, c := range conns {
			p.Addrs = append(p.Addrs, c.RemoteMultiaddr().String())
		}
		if l := n.host.Peerstore().LatencyEWMA(id); l > 0 {
			p.Latency = l.Round(time.Microsecond).String()
		}
		peers = append(peers, p)
	}
	slices.SortFunc(peers, func(a, b api.Peer) int { return strings.Compare(a.PeerID, b.PeerID) })
	writeJSON(w, http.StatusOK, peers)
}

func (n *Node) handleConnect(w http.ResponseWriter, r *http.Request) {
	var req api.ConnectRequest
	if !readJSON(w, r, &req) {
		return
	}
	id, err := n.Connect(r.Context(), req.Addr)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ConnectResponse{PeerID: id.String()})
}

// syncStatus reports each topic's version vector, gaps and last syncs.
func (n *Node) syncStatus() []api.TopicSync {
	out := []api.TopicSync{}
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		vv, highest, err := n.store.Heads(s.ID)
		if err != nil {
			continue
		}
		ts := api.TopicSync{Topic: s.ID.String(), Name: s.Name, VersionVector: vv}
		for author, h := range highest {
			if h > vv[author] {
				if ts.Gaps == nil {
					ts.Gaps = map[string]uint64{}
				}
				ts.Gaps[author] = h
			}
		}
		for p, r := range t.syncRecords() {
			member, _ := s.PeerMember(p)
			ts.LastSync = append(ts.LastSync, api.PeerSync{Peer: p.String(), Member: member, At: r.At, Fetched: r.Fetched, Error: r.Err})
		}
		slices.SortFunc(ts.LastSync, func(a, b api.PeerSync) int { return strings.Compare(a.Peer, b.Peer) })
		for _, r := range n.budgets.refusals(s.ID) {
			if ts.OverBudget == nil {
				ts.OverBudget = map[string]uint64{}
			}
			ts.OverBudget[r.Author] = r.Refused
		}
		out = append(out, ts)
	}
	return out
}
