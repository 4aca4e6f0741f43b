package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// alertRoutes maps the watchlist and alerts: local to this node, served on
// its socket only.
func (n *Node) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/watchlist", n.handleWatchlist)
	mux.HandleFunc("POST /v1/watchlist", n.handleWatchAdd)
	mux.HandleFunc("DELETE /v1/watchlist/{id}", n.handleWatchRemove)
	mux.HandleFunc("GET /v1/alerts", n.handleAlerts)
	mux.HandleFunc("GET /v1/alerts/watch", n.handleAlertWatch)
}

func watchView(e store.WatchEntry) api.WatchEntry {
	v := api.WatchEntry{ID: e.ID, Term: e.Term, Note: e.Note, Created: e.Created, Kind: "words", Match: strings.Join(e.Words, " ")}
	if e.Key != nil {
		v.Kind, v.Match, v.Flagged = "entity", e.Key.String(), e.Key.Flagged
	}
	return v
}

func (n *Node) handleWatchlist(w http.ResponseWriter, r *http.Request) {
	es, err := n.store.Watchlist()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := make([]api.WatchEntry, len(es))
	for i, e := range es {
		out[i] = watchView(e)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleWatchAdd(w http.ResponseWriter, r *http.Request) {
	var req api.WatchRequest
	if !readJSON(w, r, &req) {
		return
	}
	e, err := n.AddWatch(r.Context(), req.Term, req.Note)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, watchView(e))
}

func (n *Node) handleWatchRemove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := n.store.DeleteWatch(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no watchlist entry %q (see concord watchlist list)", id))
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"removed": id})
	}
}

// handleAlerts lists alerts, oldest first: ?since=RFC3339 (raised at or
// after), ?after=SEQ, ?limit=N.
func (n *Node) handleAlerts(w http.ResponseWriter, r *http.Request) {
	q, err := alertQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	as, err := n.store.Alerts(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, n.alertViews(as))
}

func alertQuery(r *http.Request) (store.AlertQuery, error) {
	var q store.AlertQuery
	p := r.URL.Query()
	if s := p.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fmt.Errorf("since %q is not an RFC 3339 time", s)
		}
		q.Since = t
	}
	for name, dst := range map[string]any{"after": &q.After, "limit": &q.Limit} {
		s := p.Get(name)
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return q, fmt.Errorf("%s %q is not a non-negative number", name, s)
		}
		switch d := dst.(type) {
		case *uint64:
			*d = v
		case *int:
			*d = int(v)
		}
	}
	return q, nil
}

// handleAlertWatch streams alerts as newline-delimited JSON: those after
// ?after=SEQ (default: none so far), then each new one.
func (n *Node) handleAlertWatch(w http.ResponseWriter, r *http.Request) {
	q, err := alertQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if r.URL.Query().Get("after") == "" {
		if q.After, err = n.store.LastAlertSeq(); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for {
		wake := n.changes() // the alert loop notifies once it recorded alerts
		as, err := n.store.Alerts(store.AlertQuery{After: q.After, Limit: 100})
		if err != nil {
			return
		}
		for _, v := range n.alertViews(as) {
			q.After = v.Seq
			if enc.Encode(v) != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if len(as) == 100 {
			continue
		}
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		case <-n.ctx.Done():
			return
		}
	}
}
