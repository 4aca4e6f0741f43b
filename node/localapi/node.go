package localapi

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
)

func (h handlers) status(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Status(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) identity(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Identity(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) peers(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Peers(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) connect(w http.ResponseWriter, r *http.Request) {
	var req api.ConnectRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Connect(r.Context(), req)
		answer(w, http.StatusOK, v, err)
	}
}
