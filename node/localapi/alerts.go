package localapi

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
)

func (h handlers) watchlist(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Watchlist(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) addWatch(w http.ResponseWriter, r *http.Request) {
	var req api.WatchRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.AddWatch(r.Context(), req)
		answer(w, http.StatusCreated, v, err)
	}
}

func (h handlers) removeWatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue(api.PathID)
	err := h.svc.RemoveWatch(r.Context(), id)
	answer(w, http.StatusOK, map[string]string{"removed": id}, err)
}

func (h handlers) alerts(w http.ResponseWriter, r *http.Request) {
	q, err := api.ParseAlertQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.Alerts(r.Context(), q)
	answer(w, http.StatusOK, v, err)
}

func (h handlers) watchAlerts(w http.ResponseWriter, r *http.Request) {
	q, err := api.ParseAlertQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	s := startStream(w)
	h.svc.WatchAlerts(r.Context(), q, func(a api.Alert) error { return s.send(a) })
}
