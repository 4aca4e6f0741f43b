package node

import (
	"errors"
	"net/http"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func (n *Node) handleRevise(w http.ResponseWriter, r *http.Request) {
	var req api.ReviseRequest
	if !readJSON(w, r, &req) {
		return
	}
	t, _, err := n.ownBulletin(r.PathValue("id"))
	if err != nil {
		n.answerLifecycle(w, nil, err)
		return
	}
	s, _ := t.snapshot()
	if req.Draft.Audience, err = resolveMembers(s, req.Draft.Audience); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	rec, err := n.Revise(r.Context(), r.PathValue("id"), &req.Draft)
	n.answerLifecycle(w, rec, err)
}

func (n *Node) handleRevoke(w http.ResponseWriter, r *http.Request) {
	var req api.RevokeRequest
	if !readJSON(w, r, &req) {
		return
	}
	rec, err := n.Revoke(r.Context(), r.PathValue("id"), req.Reason)
	n.answerLifecycle(w, rec, err)
}

// answerLifecycle answers revise and revoke with the bulletin's new state,
// or with the status that says whose fault an error is.
func (n *Node) answerLifecycle(w http.ResponseWriter, rec *store.BulletinRecord, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, ErrNotOriginator):
		writeError(w, http.StatusForbidden, err)
	case errors.Is(err, ErrTombstone):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
	default:
		// History is in seq order, and the envelope just published is
		// the author's latest.
		last := rec.History[len(rec.History)-1]
		writeJSON(w, http.StatusOK, api.PublishResponse{ID: rec.ID, Envelope: protocol.EnvelopeID(last.Envelope).String(),
			Topic: protocol.TopicID(rec.Topic).String(), Seq: last.Seq, Version: rec.Version, Revoked: rec.Revoked})
	}
}

func historyView(h []store.Revision) []api.Revision {
	var out []api.Revision
	for _, r := range h {
		out = append(out, api.Revision{Version: r.Version, Kind: r.Kind, Envelope: protocol.EnvelopeID(r.Envelope).String(),
			Seq: r.Seq, Modified: r.Modified, Reason: r.Reason})
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
