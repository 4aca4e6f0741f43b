package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
	cprotocol "github.com/concordnet/concord/protocol"
)

// Join protocol (/concord/join/1): the invitee opens a stream to the
// inviter's node, writes one JoinRequest and closes its side; the inviter
// answers with one JoinResponse and closes. Both are canonical CBOR.
const (
	maxJoinRequest  = 64 << 10
	maxJoinResponse = 64 << 20
	joinTimeout     = 30 * time.Second
)

// JoinRequest is what the invitee sends.
type JoinRequest struct {
	Invitation []byte `cbor:"invitation"` // the invitation's signed bytes
	Card       []byte `cbor:"card"`       // the invitee's signed member card
	Proof      []byte `cbor:"proof"`      // crypto.SignJoin
}

// JoinResponse is what the inviter answers: the whole topic log including
// the new add entry, or an error that says why the join was refused.
type JoinResponse struct {
	Entries [][]byte `cbor:"entries,omitempty"`
	Error   string   `cbor:"error,omitempty"`
}

func (n *Node) handleJoinStream(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(joinTimeout))
	resp := n.serveJoin(s)
	data, err := canon.Marshal(resp)
	if err == nil {
		_, err = s.Write(data)
	}
	if err != nil {
		n.log.Debug("join: answering", "peer", s.Conn().RemotePeer(), "err", err)
	}
}

func (n *Node) serveJoin(s network.Stream) JoinResponse {
	remote := s.Conn().RemotePeer().String()
	refuse := func(err error) JoinResponse {
		n.log.Info("join refused", "peer", remote, "err", err)
		return JoinResponse{Error: err.Error()}
	}
	data, err := io.ReadAll(io.LimitReader(s, maxJoinRequest+1))
	if err != nil {
		return refuse(fmt.Errorf("reading the join request: %w", err))
	}
	if len(data) > maxJoinRequest {
		return refuse(fmt.Errorf("join request is larger than %d bytes", maxJoinRequest))
	}
	var req JoinRequest
	if err := canon.Unmarshal(data, &req); err != nil {
		return refuse(fmt.Errorf("join request is malformed: %w", err))
	}
	inv, err := crypto.ParseInvitation(req.Invitation)
	if err != nil {
		return refuse(err)
	}
	card, err := crypto.ParseCard(req.Card)
	if err != nil {
		return refuse(err)
	}
	ctx, cancel := context.WithTimeout(n.ctx, joinTimeout)
	defer cancel()
	entries, err := n.acceptJoin(ctx, inv, card, req.Proof, remote)
	if err != nil {
		return refuse(err)
	}
	return JoinResponse{Entries: entries}
}

// Join uses an invitation token: it checks the token is for us, connects
// to the inviter, proves it holds the invited keys and installs the topic
// log the inviter returns.
func (n *Node) Join(ctx context.Context, token string) (*cprotocol.TopicState, error) {
	inv, err := crypto.ParseToken(token)
	if err != nil {
		return nil, err
	}
	if t := n.topicByID(inv.TopicID()); t != nil {
		if s, _ := t.snapshot(); s.Members[n.id.MemberID()] != nil {
			return nil, fmt.Errorf("this node is already a member of topic %q", inv.TopicName)
		}
	}
	card, err := n.Card()
	if err != nil {
		return nil, err
	}
	if err := inv.CheckFor(card, time.Now()); err != nil {
		return nil, err
	}
	req, err := canon.Marshal(JoinRequest{Invitation: inv.Raw, Card: card.Raw, Proof: crypto.SignJoin(n.id, inv)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	var errs []error
	for _, nd := range inv.Inviter.Nodes {
		resp, err := n.askToJoin(ctx, nd, req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resp.Error != "" {
			return nil, fmt.Errorf("the inviter refused the join: %s", resp.Error)
		}
		return n.completeJoin(ctx, inv, resp.Entries)
	}
	return nil, fmt.Errorf("could not reach the inviter (member %s): %w", inv.Inviter.ID, errors.Join(errs...))
}

func (n *Node) askToJoin(ctx context.Context, nd crypto.CardNode, req []byte) (*JoinResponse, error) {
	info, ok := addrInfo(nd)
	if !ok {
		return nil, fmt.Errorf("inviter node %q is not a peer ID", nd.Peer)
	}
	if err := n.host.Connect(ctx, info); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", info.ID, err)
	}
	s, err := n.host.NewStream(ctx, info.ID, protocol.ID(cprotocol.JoinProtocol))
	if err != nil {
		return nil, fmt.Errorf("opening the join protocol with %s: %w", info.ID, err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if _, err := s.Write(req); err != nil {
		return nil, err
	}
	if err := s.CloseWrite(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(s, maxJoinResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading the inviter's answer: %w", err)
	}
	if len(data) > maxJoinResponse {
		return nil, fmt.Errorf("the inviter's answer is larger than %d bytes", maxJoinResponse)
	}
	var resp JoinResponse
	if err := canon.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("the inviter's answer is malformed: %w", err)
	}
	return &resp, nil
}
