package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/concordnet/concord/crypto"
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
	remote := s.Conn().RemotePeer().String()
	refuse := func(err error) JoinResponse {
		n.log.Info("join refused", "peer", remote, "err", err)
		return JoinResponse{Error: err.Error()}
	}
	serve(s, maxJoinRequest, joinTimeout, refuse, func(req *JoinRequest) JoinResponse {
		return n.serveJoin(req, remote, refuse)
	})
}

func (n *Node) serveJoin(req *JoinRequest, remote string, refuse func(error) JoinResponse) JoinResponse {
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
	req := JoinRequest{Invitation: inv.Raw, Card: card.Raw, Proof: crypto.SignJoin(n.id, inv)}
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

func (n *Node) askToJoin(ctx context.Context, nd crypto.CardNode, req JoinRequest) (*JoinResponse, error) {
	info, ok := addrInfo(nd)
	if !ok {
		return nil, fmt.Errorf("inviter node %q is not a peer ID", nd.Peer)
	}
	if err := n.host.Connect(ctx, info); err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", info.ID, err)
	}
	var resp JoinResponse
	if err := n.request(ctx, info.ID, cprotocol.JoinProtocol, req, maxJoinResponse, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
