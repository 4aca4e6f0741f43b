package localapi

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
)

func (h handlers) categories(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Categories(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) topics(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Topics(r.Context())
	answer(w, http.StatusOK, v, err)
}

func (h handlers) createTopic(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTopicRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.CreateTopic(r.Context(), req)
		answer(w, http.StatusCreated, v, err)
	}
}

func (h handlers) topic(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Topic(r.Context(), r.PathValue(api.PathTopic))
	answer(w, http.StatusOK, v, err)
}

func (h handlers) members(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Members(r.Context(), r.PathValue(api.PathTopic))
	answer(w, http.StatusOK, v, err)
}

func (h handlers) invite(w http.ResponseWriter, r *http.Request) {
	var req api.InviteRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Invite(r.Context(), r.PathValue(api.PathTopic), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) remove(w http.ResponseWriter, r *http.Request) {
	var req api.RemoveRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Remove(r.Context(), r.PathValue(api.PathTopic), req)
		answer(w, http.StatusOK, v, err)
	}
}

// rotate takes no body: the client's empty object is not read.
func (h handlers) rotate(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Rotate(r.Context(), r.PathValue(api.PathTopic))
	answer(w, http.StatusOK, v, err)
}

func (h handlers) setRole(w http.ResponseWriter, r *http.Request) {
	var req api.RoleRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.SetRole(r.Context(), r.PathValue(api.PathTopic), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) uninvite(w http.ResponseWriter, r *http.Request) {
	var req api.UninviteRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Uninvite(r.Context(), r.PathValue(api.PathTopic), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) leave(w http.ResponseWriter, r *http.Request) {
	var req api.LeaveRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Leave(r.Context(), r.PathValue(api.PathTopic), req)
		answer(w, http.StatusOK, v, err)
	}
}

func (h handlers) join(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if readJSON(w, r, &req) {
		v, err := h.svc.Join(r.Context(), req)
		answer(w, http.StatusOK, v, err)
	}
}
