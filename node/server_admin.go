package node

import (
	"net/http"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// logChange answers a membership command with the topic as it now is.
func (n *Node) logChange(w http.ResponseWriter, t *topic, s *protocol.TopicState, member string, err error) {
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, api.LogChange{Topic: n.topicInfo(t), Member: member})
}

func (n *Node) handleRemove(w http.ResponseWriter, r *http.Request) {
	var req api.RemoveRequest
	if t := n.topicFromPath(w, r); t != nil && readJSON(w, r, &req) {
		s, member, err := n.Remove(r.Context(), t, req.Member, req.Reason)
		n.logChange(w, t, s, member, err)
	}
}

func (n *Node) handleRotate(w http.ResponseWriter, r *http.Request) {
	if t := n.topicFromPath(w, r); t != nil {
		s, err := n.Rotate(r.Context(), t)
		n.logChange(w, t, s, "", err)
	}
}

func (n *Node) handleRole(w http.ResponseWriter, r *http.Request) {
	var req api.RoleRequest
	if t := n.topicFromPath(w, r); t != nil && readJSON(w, r, &req) {
		s, member, err := n.SetRole(r.Context(), t, req.Member, req.Role)
		n.logChange(w, t, s, member, err)
	}
}

func (n *Node) handleUninvite(w http.ResponseWriter, r *http.Request) {
	var req api.UninviteRequest
	if t := n.topicFromPath(w, r); t != nil && readJSON(w, r, &req) {
		s, err := n.Uninvite(r.Context(), t, req.Nonce)
		n.logChange(w, t, s, "", err)
	}
}

func (n *Node) handleLeave(w http.ResponseWriter, r *http.Request) {
	var req api.LeaveRequest
	if t := n.topicFromPath(w, r); t != nil && readJSON(w, r, &req) {
		s, err := n.Leave(r.Context(), t, req.Reason)
		n.logChange(w, t, s, n.id.MemberID(), err)
	}
}
