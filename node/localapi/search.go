package localapi

import (
	"net/http"
	"sync"

	"github.com/concordnet/concord/node/api"
)

func (h handlers) search(w http.ResponseWriter, r *http.Request) {
	q, err := api.ParseSearchQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.Search(r.Context(), q)
	answer(w, http.StatusOK, v, err)
}

func (h handlers) related(w http.ResponseWriter, r *http.Request) {
	limit, err := api.ParseRelatedLimit(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.Related(r.Context(), r.PathValue(api.PathID), limit)
	answer(w, http.StatusOK, v, err)
}

// reindex streams progress; an error the Service returned without
// reporting it ends the stream as its last line.
func (h handlers) reindex(w http.ResponseWriter, r *http.Request) {
	s := startStream(w)
	var (
		mu   sync.Mutex // progress may come from several goroutines
		last api.ReindexProgress
	)
	err := h.svc.Reindex(r.Context(), func(p api.ReindexProgress) {
		mu.Lock()
		defer mu.Unlock()
		last = p
		s.send(p)
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil && !last.Finished && last.Error == "" {
		s.send(api.ReindexProgress{Done: last.Done, Total: last.Total, Error: "reindex: " + err.Error()})
	}
}

func (h handlers) importLookup(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Import(r.Context(), r.URL.Query().Get("source"))
	answer(w, http.StatusOK, v, err)
}

func (h handlers) addImport(w http.ResponseWriter, r *http.Request) {
	var req api.ImportRecord
	if readJSON(w, r, &req) {
		v, err := h.svc.AddImport(r.Context(), req)
		answer(w, http.StatusCreated, v, err)
	}
}
