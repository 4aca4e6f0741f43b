package localapi

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
)

func (h handlers) publish(w http.ResponseWriter, r *http.Request) {
	var req api.PublishRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Publish(r.Context(), req)
		answer(w, http.StatusCreated, v, err)
	}
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	q, err := api.ParseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := h.svc.List(r.Context(), q)
	answer(w, http.StatusOK, v, err)
}

func (h handlers) bulletin(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Bulletin(r.Context(), r.PathValue(api.PathID))
	answer(w, http.StatusOK, v, err)
}

func (h handlers) revise(w http.ResponseWriter, r *http.Request) {
	var req api.ReviseRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Revise(r.Context(), r.PathValue(api.PathID), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) revoke(w http.ResponseWriter, r *http.Request) {
	var req api.RevokeRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Revoke(r.Context(), r.PathValue(api.PathID), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) watch(w http.ResponseWriter, r *http.Request) {
	q, err := api.ParseWatchQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	s := startStream(w)
	h.svc.Watch(r.Context(), q, func(b api.Bulletin) error { return s.send(b) })
}
