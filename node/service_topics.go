package node

import (
	"context"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// Categories lists the crime categories.
func (s *Service) Categories(context.Context) ([]api.Category, error) {
	var out []api.Category
	for _, c := range protocol.Categories() {
		out = append(out, api.Category{Slug: c.Slug, Title: c.Title, Articles: c.Articles})
	}
	return out, nil
}

// Topics lists the topics this node holds.
func (s *Service) Topics(context.Context) ([]api.Topic, error) {
	out := []api.Topic{}
	for _, t := range s.n.allTopics() {
		out = append(out, s.n.topicInfo(t))
	}
	return out, nil
}

// CreateTopic creates a topic owned by this node's member.
func (s *Service) CreateTopic(ctx context.Context, req api.CreateTopicRequest) (api.Topic, error) {
	if err := checkHistory(req.History); err != nil {
		return api.Topic{}, err
	}
	st, err := s.n.CreateTopic(ctx, req.Category, req.Name, protocol.Policy{MaxAgeDays: req.MaxAgeDays, History: storedPolicyHistory(req.History)})
	if err != nil {
		return api.Topic{}, classify(api.Internal, err)
	}
	return s.n.topicInfo(s.n.topicByID(st.ID)), nil
}

// Topic resolves a topic reference as every command does, so that a
// client needing the topic itself (watch) uses the same resolver.
func (s *Service) Topic(_ context.Context, ref string) (api.Topic, error) {
	t, err := s.n.resolveTopic(ref)
	if err != nil {
		return api.Topic{}, err
	}
	return s.n.topicInfo(t), nil
}

// Members lists a topic's current members.
func (s *Service) Members(_ context.Context, ref string) ([]api.Member, error) {
	n := s.n
	t, err := n.resolveTopic(ref)
	if err != nil {
		return nil, err
	}
	st, _ := t.snapshot()
	out := []api.Member{}
	for _, id := range st.CurrentMembers() {
		m := st.Members[id]
		am := api.Member{ID: id, Name: m.Card.Name, Country: m.Card.Country, Role: m.Role, Since: m.Since, Self: id == n.id.MemberID()}
		for _, p := range m.Card.PeerIDs() {
			am.Peers = append(am.Peers, p.String())
			am.Connected = am.Connected || am.Self || len(n.host.Network().ConnsToPeer(p)) > 0
		}
		out = append(out, am)
	}
	return out, nil
}

// Invite invites the holder of a card to a topic.
func (s *Service) Invite(ctx context.Context, ref string, req api.InviteRequest) (api.InviteResponse, error) {
	t, err := s.n.resolveTopic(ref)
	if err != nil {
		return api.InviteResponse{}, err
	}
	card, err := crypto.ParseArmoredCard([]byte(req.Card))
	if err != nil {
		return api.InviteResponse{}, api.Classify(api.Invalid, err)
	}
	ttl := DefaultInvitationTTL
	if req.Expires != "" {
		if ttl, err = time.ParseDuration(req.Expires); err != nil || ttl <= 0 {
			return api.InviteResponse{}, api.Errorf(api.Invalid, "expires %q is not a positive duration such as 72h or 30m", req.Expires)
		}
	}
	role := req.Role
	if role == "" {
		role = protocol.RoleMember
	}
	inv, err := s.n.inviteWith(ctx, t, card, role, ttl, req.History)
	if err != nil {
		return api.InviteResponse{}, classify(api.Internal, err)
	}
	return api.InviteResponse{Token: inv.Token(), Nonce: inv.NonceHex(), Invitee: card.ID, Expires: inv.Expires, History: req.History}, nil
}

// Remove removes a member from a topic.
func (s *Service) Remove(ctx context.Context, ref string, req api.RemoveRequest) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, member, err := s.n.remove(ctx, t, req.Member, req.Reason)
		return member, err
	})
}

// Rotate starts a new epoch of a topic.
func (s *Service) Rotate(ctx context.Context, ref string) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, err := s.n.rotate(ctx, t)
		return "", err
	})
}

// SetRole changes a member's role in a topic.
func (s *Service) SetRole(ctx context.Context, ref string, req api.RoleRequest) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, member, err := s.n.setRole(ctx, t, req.Member, req.Role)
		return member, err
	})
}

// Uninvite withdraws a pending invitation.
func (s *Service) Uninvite(ctx context.Context, ref string, req api.UninviteRequest) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, err := s.n.uninvite(ctx, t, req.Nonce)
		return "", err
	})
}

// Leave leaves a topic.
func (s *Service) Leave(ctx context.Context, ref string, req api.LeaveRequest) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, err := s.n.leave(ctx, t, req.Reason)
		return s.n.id.MemberID(), err
	})
}

// logChange runs a membership command on topic ref and answers with the
// topic as it now is.
func (s *Service) logChange(ref string, change func(*topic) (string, error)) (api.LogChange, error) {
	t, err := s.n.resolveTopic(ref)
	if err != nil {
		return api.LogChange{}, err
	}
	member, err := change(t)
	if err != nil {
		return api.LogChange{}, classify(api.Internal, err)
	}
	return api.LogChange{Topic: s.n.topicInfo(t), Member: member}, nil
}

// Join joins a topic with an invitation token.
func (s *Service) Join(ctx context.Context, req api.JoinRequest) (api.Topic, error) {
	st, err := s.n.Join(ctx, req.Token)
	if err != nil {
		return api.Topic{}, classify(api.Internal, err)
	}
	return s.n.topicInfo(s.n.topicByID(st.ID)), nil
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
		LogLength: s.Len, MaxAgeDays: s.Policy.MaxAgeDays, Joined: t.joined.UTC(), History: s.HistoryOf(),
	}
}
