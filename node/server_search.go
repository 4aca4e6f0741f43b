package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// handleSearch answers GET /v1/search?q=… with list's filters (topic,
// category, originator, since, limit).
func (n *Node) handleSearch(w http.ResponseWriter, r *http.Request) {
	filter, err := n.parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q, err := ParseSearch(r.URL.Query().Get("q"), n.cfg.Member.Country)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q.Limit, filter.Limit = filter.Limit, 0
	q.Filter = filter
	hits, err := n.Search(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, hits)
}

// handleRelated answers GET /v1/bulletins/{id}/related?limit=N: N other
// bulletins at most per entity (default 50, 0: up to the common threshold).
func (n *Node) handleRelated(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) < 4 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bulletin ID %q is too short: give the ID or a prefix of 4 characters or more", id))
		return
	}
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		l, err := strconv.Atoi(s)
		if err != nil || l < 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("limit %q is not a count (0 means all)", s))
			return
		}
		limit = l
	}
	rel, err := n.Related(id, limit)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no bulletin %q on this node (see `concord list`)", id))
	case errors.Is(err, store.ErrAmbiguous):
		writeError(w, http.StatusBadRequest, fmt.Errorf("%v; give more of the ID", err))
	case errors.Is(err, ErrSealed):
		writeError(w, http.StatusForbidden, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, rel)
	}
}

// reindexProgressEvery spaces progress lines: often enough to see the
// rebuild move, rarely enough not to slow it.
const reindexProgressEvery = 500 * time.Millisecond

// handleReindex answers POST /v1/reindex: it rebuilds the search indexes
// from the stored bulletins, streaming progress as newline-delimited
// api.ReindexProgress, the last line with finished (or error) set.
func (n *Node) handleReindex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	var (
		mu          sync.Mutex // progress may be reported from the store's goroutines
		done, total int
		last        time.Time
	)
	started := time.Now()
	send := func(p api.ReindexProgress) {
		if enc.Encode(p) == nil && flusher != nil {
			flusher.Flush()
		}
	}
	err := n.store.Reindex(r.Context(), func(d, t int) {
		mu.Lock()
		defer mu.Unlock()
		done, total = d, t
		if time.Since(last) >= reindexProgressEvery {
			last = time.Now()
			send(api.ReindexProgress{Done: d, Total: t})
		}
	})
	mu.Lock()
	defer mu.Unlock()
	final := api.ReindexProgress{Done: done, Total: total, Finished: err == nil, Elapsed: time.Since(started).Round(time.Millisecond).String()}
	if err != nil {
		final.Error = "reindex: " + err.Error()
	}
	send(final)
}
