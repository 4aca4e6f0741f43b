package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func (n *Node) topicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/categories", n.handleCategories)
	mux.HandleFunc("GET /v1/topics", n.handleTopics)
	mux.HandleFunc("POST /v1/topics", n.handleCreateTopic)
	mux.HandleFunc("GET /v1/topics/{topic}", n.handleTopic)
	mux.HandleFunc("GET /v1/topics/{topic}/members", n.handleMembers)
	mux.HandleFunc("POST /v1/topics/{topic}/invite", n.handleInvite)
	mux.HandleFunc("POST /v1/topics/{topic}/remove", n.handleRemove)
	mux.HandleFunc("POST /v1/topics/{topic}/rotate", n.handleRotate)
	mux.HandleFunc("POST /v1/topics/{topic}/role", n.handleRole)
	mux.HandleFunc("POST /v1/topics/{topic}/uninvite", n.handleUninvite)
	mux.HandleFunc("POST /v1/topics/{topic}/leave", n.handleLeave)
	mux.HandleFunc("POST /v1/join", n.handleJoin)
	mux.HandleFunc("POST /v1/publish", n.handlePublish)
	mux.HandleFunc("GET /v1/bulletins", n.handleList)
	mux.HandleFunc("GET /v1/bulletins/{id}", n.handleShow)
	mux.HandleFunc("POST /v1/bulletins/{id}/revise", n.handleRevise)
	mux.HandleFunc("POST /v1/bulletins/{id}/revoke", n.handleRevoke)
	mux.HandleFunc("GET /v1/watch", n.handleWatch)
}

func (n *Node) handleCategories(w http.ResponseWriter, r *http.Request) {
	var out []api.Category
	for _, c := range protocol.Categories() {
		out = append(out, api.Category{Slug: c.Slug, Title: c.Title, Articles: c.Articles})
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) topicInfo(t *topic) api.Topic {
	s, _ := t.snapshot()
	me := n.id.MemberID()
	role := "former" // removed, or left: the node keeps what it could read
	if m := s.Members[me]; m != nil {
		role = m.Role
	}
	name := protocol.TopicString(s.Category, s.ID)
	return api.Topic{
		ID: s.ID.String(), Category: s.Category, Name: s.Name, PubSub: name, Owner: s.Owner,
		Role: role, Epoch: s.Epoch, Members: len(s.Members), Peers: len(n.ps.ListPeers(name)),
		LogLength: s.Len, MaxAgeDays: s.Policy.MaxAgeDays, Joined: t.joined.UTC(),
	}
}

func (n *Node) handleTopics(w http.ResponseWriter, r *http.Request) {
	out := []api.Topic{}
	for _, t := range n.allTopics() {
		out = append(out, n.topicInfo(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleCreateTopic(w http.ResponseWriter, r *http.Request) {
	var req api.CreateTopicRequest
	if !readJSON(w, r, &req) {
		return
	}
	s, err := n.CreateTopic(r.Context(), req.Category, req.Name, protocol.Policy{MaxAgeDays: req.MaxAgeDays})
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, n.topicInfo(n.topicByID(s.ID)))
}

// topicFromPath resolves the {topic} path value, answering 404 if unknown.
func (n *Node) topicFromPath(w http.ResponseWriter, r *http.Request) *topic {
	t, err := n.resolveTopic(r.PathValue("topic"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return nil
	}
	return t
}

// handleTopic resolves a topic reference as every command does, so that a
// client needing the topic itself (watch) uses the same resolver.
func (n *Node) handleTopic(w http.ResponseWriter, r *http.Request) {
	if t := n.topicFromPath(w, r); t != nil {
		writeJSON(w, http.StatusOK, n.topicInfo(t))
	}
}

func (n *Node) handleMembers(w http.ResponseWriter, r *http.Request) {
	t := n.topicFromPath(w, r)
	if t == nil {
		return
	}
	s, _ := t.snapshot()
	out := []api.Member{}
	for _, id := range s.CurrentMembers() {
		m := s.Members[id]
		am := api.Member{ID: id, Name: m.Card.Name, Country: m.Card.Country, Role: m.Role, Since: m.Since, Self: id == n.id.MemberID()}
		for _, p := range m.Card.PeerIDs() {
			am.Peers = append(am.Peers, p.String())
			am.Connected = am.Connected || am.Self || len(n.host.Network().ConnsToPeer(p)) > 0
		}
		out = append(out, am)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleInvite(w http.ResponseWriter, r *http.Request) {
	t := n.topicFromPath(w, r)
	if t == nil {
		return
	}
	var req api.InviteRequest
	if !readJSON(w, r, &req) {
		return
	}
	card, err := crypto.ParseArmoredCard([]byte(req.Card))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ttl := DefaultInvitationTTL
	if req.Expires != "" {
		if ttl, err = time.ParseDuration(req.Expires); err != nil || ttl <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("expires %q is not a positive duration such as 72h or 30m", req.Expires))
			return
		}
	}
	role := req.Role
	if role == "" {
		role = protocol.RoleMember
	}
	inv, err := n.Invite(r.Context(), t, card, role, ttl)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, api.InviteResponse{Token: inv.Token(), Nonce: inv.NonceHex(), Invitee: card.ID, Expires: inv.Expires})
}

func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if !readJSON(w, r, &req) {
		return
	}
	s, err := n.Join(r.Context(), req.Token)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, n.topicInfo(n.topicByID(s.ID)))
}

func (n *Node) handlePublish(w http.ResponseWriter, r *http.Request) {
	var req api.PublishRequest
	if !readJSON(w, r, &req) {
		return
	}
	t, err := n.resolveTopic(req.Topic)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	s, _ := t.snapshot()
	if req.Draft.Audience, err = resolveMembers(s, req.Draft.Audience); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	rec, err := n.Publish(r.Context(), t, &req.Draft)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.PublishResponse{ID: rec.ID, Envelope: protocol.EnvelopeID(rec.Envelope).String(), Topic: s.ID.String(), Seq: rec.Seq})
}

// bulletinView renders a record for the API; full adds attachment bytes,
// which only the envelope holds (see fullBulletin).
func (n *Node) bulletinView(rec store.BulletinRecord, full bool) (api.Bulletin, error) {
	v := api.Bulletin{
		ID: rec.ID, Topic: protocol.TopicID(rec.Topic).String(), Category: rec.Category, Author: rec.Author,
		Envelope: protocol.EnvelopeID(rec.Envelope).String(), Seq: rec.Seq, Version: rec.Version,
		Created: rec.Created, Received: rec.Received, Audience: rec.Audience, Sealed: rec.Sealed,
		Revoked: rec.Revoked, RevocationReason: rec.Reason, RevokedAt: timeOrNil(rec.RevokedAt),
		Expired: rec.Expired, ExpiredAt: timeOrNil(rec.ExpiredAt), History: historyView(rec.History),
	}
	if t := n.topicByID(rec.Topic); t != nil {
		s, _ := t.snapshot()
		v.TopicName = s.Name
	}
	if rec.Sealed || rec.Tombstone() {
		return v, nil
	}
	if full {
		b, err := n.fullBulletin(rec)
		v.Content = b
		return v, err
	}
	var b protocol.Bulletin
	if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
		return v, err
	}
	for i := range b.Attachments {
		b.Attachments[i].Data = nil // records written before bulletinRecord dropped them
	}
	v.Content = &b
	return v, nil
}

func (n *Node) handleList(w http.ResponseWriter, r *http.Request) {
	q, err := n.parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	recs, err := n.store.List(q)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := make([]api.Bulletin, 0, len(recs))
	for _, rec := range recs {
		v, err := n.bulletinView(rec, false)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) parseQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	q := store.Query{Category: v.Get("category"), Limit: 50}
	var t *topic
	if ref := v.Get("topic"); ref != "" {
		var err error
		if t, err = n.resolveTopic(ref); err != nil {
			return q, err
		}
		s, _ := t.snapshot()
		id := [32]byte(s.ID)
		q.Topic = &id
	}
	// An originator that names no member is an error, not an empty list.
	if ref := v.Get("originator"); ref != "" {
		id, err := n.resolveOriginator(ref, t)
		if err != nil {
			return q, err
		}
		q.Originator = id
	}
	if q.Category != "" {
		if _, err := protocol.LookupCategory(q.Category); err != nil {
			return q, err
		}
	}
	if since := v.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return q, fmt.Errorf("since %q is not an RFC 3339 time", since)
		}
		q.Since = t
	}
	if limit := v.Get("limit"); limit != "" {
		l, err := strconv.Atoi(limit)
		if err != nil || l < 0 {
			return q, fmt.Errorf("limit %q is not a count (0 means all)", limit)
		}
		q.Limit = l
	}
	return q, nil
}

func (n *Node) handleShow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if len(id) < 4 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bulletin ID %q is too short: give the ID or a prefix of 4 characters or more", id))
		return
	}
	rec, err := n.store.Bulletin(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("no bulletin %q on this node (see `concord list`)", id))
		return
	case errors.Is(err, store.ErrAmbiguous):
		writeError(w, http.StatusBadRequest, fmt.Errorf("%v; give more of the ID", err))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	v, err := n.bulletinView(rec, true)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleWatch streams bulletins as newline-delimited JSON: those received
// after the cursor ?after=RECV_SEQ (default: now), then each new one.
func (n *Node) handleWatch(w http.ResponseWriter, r *http.Request) {
	var cursor uint64
	if after := r.URL.Query().Get("after"); after != "" {
		c, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("after %q is not a receive sequence number", after))
			return
		}
		cursor = c
	} else {
		last, err := n.store.LastRecvSeq()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		cursor = last
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for {
		wake := n.changes()
		recs, err := n.store.Since(cursor, 100)
		if err != nil {
			return
		}
		for _, rec := range recs {
			cursor = rec.RecvSeq
			v, err := n.bulletinView(rec, false)
			if err != nil || enc.Encode(v) != nil {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if len(recs) == 100 {
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

// memberOfPeer names the member that certifies peer p in any topic.
func (n *Node) memberOfPeer(p peer.ID) string {
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		if id, ok := s.PeerMember(p); ok {
			return id
		}
	}
	return ""
}
