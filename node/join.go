package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	cprotocol "github.com/concordnet/concord/protocol"
)

// Join protocol (/concord/join/1): the invitee opens a stream to the
// inviter's node, writes one JoinRequest and closes its side; the inviter
// answers with one JoinResponse and closes. Both are canonical CBOR.
const (
	maxJoinRequest  = 64 << 10
	maxJoinResponse = maxSyncResponse // the first page of the log, as sync answers it
	joinTimeout     = 30 * time.Second
	maxJoinLog      = 1 << 20 // entries a joining node accepts in a topic log
)

// JoinRequest is what the invitee sends.
type JoinRequest struct {
	Invitation []byte `cbor:"invitation"` // the invitation's signed bytes
	Card       []byte `cbor:"card"`       // the invitee's signed member card
	Proof      []byte `cbor:"proof"`      // crypto.SignJoin
}

// JoinResponse is what the inviter answers: the topic log including the
// new add entry, or an error that says why the join was refused. A long
// log comes in pages as over sync (logPage): More says the invitee, now a
// member, fetches the rest with /concord/sync/1 "log" requests.
type JoinResponse struct {
	Entries [][]byte `cbor:"entries,omitempty"`
	More    bool     `cbor:"more,omitempty"`
	Error   string   `cbor:"error,omitempty"`
}

func (n *Node) handleJoinStream(s network.Stream) {
	remote := s.Conn().RemotePeer().String()
	refuse := func(err error) JoinResponse {
		n.log.Info("join refused", "peer", remote, "err", err)
		return JoinResponse{Error: err.Error()}
	}
	done, err := n.guard.startServing(n.ctx, s.Conn().RemotePeer())
	if err != nil {
		serve(s, maxJoinRequest, joinTimeout, refuse, func(*JoinRequest) JoinResponse { return refuse(err) })
		return
	}
	defer done()
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
	var resp JoinResponse
	resp.Entries, resp.More = logPage(entries, 0)
	return resp
}

// Join uses an invitation token: it checks the token is for us, connects
// to the inviter, proves it holds the invited keys and installs the topic
// log the inviter returns.
func (n *Node) Join(ctx context.Context, token string) (*cprotocol.TopicState, error) {
	inv, err := crypto.ParseToken(token)
	if err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	if t := n.topicByID(inv.TopicID()); t != nil {
		if s, _ := t.snapshot(); s.Members[n.id.MemberID()] != nil {
			return nil, api.Errorf(api.Conflict, "this node is already a member of topic %q", inv.TopicName)
		}
	}
	card, err := n.Card()
	if err != nil {
		return nil, err
	}
	if err := inv.CheckFor(card, n.now()); err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	req := JoinRequest{Invitation: inv.Raw, Card: card.Raw, Proof: crypto.SignJoin(n.id, inv)}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	var errs []error
	for _, nd := range inv.Inviter.Nodes {
		resp, p, err := n.askToJoin(ctx, nd, req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resp.Error != "" {
			return nil, api.Errorf(api.Forbidden, "the inviter refused the join: %s", resp.Error)
		}
		entries := resp.Entries
		if resp.More {
			if entries, err = n.restOfLog(p, inv.TopicID(), entries); err != nil {
				return nil, api.Classify(api.Unavailable, err)
			}
		}
		state, err := n.completeJoin(ctx, inv, entries)
		if err == nil {
			// The connection to the inviter's node predates the topic, so
			// connecting started no sync: start it now, not at the next
			// periodic round, for the new member to read at once.
			n.spawn(func() { n.syncLogsWith(p) })
			if t := n.topicByID(state.ID); t != nil {
				n.spawn(func() { n.announceAdmission(t, state) })
			}
		}
		return state, err
	}
	// A node that no longer admits us (the invitation revoked or used
	// meanwhile) refuses the connection itself: we cannot tell that from
	// an unreachable one, so the message names both.
	return nil, api.Errorf(api.Unavailable, "could not reach the inviter (member %s), or its node refused this one, as it does once an invitation is revoked or used: %w; ask the inviter whether the invitation still stands", inv.Inviter.ID, errors.Join(errs...))
}

func (n *Node) askToJoin(ctx context.Context, nd crypto.CardNode, req JoinRequest) (*JoinResponse, peer.ID, error) {
	info, ok := addrInfo(nd)
	if !ok {
		return nil, "", fmt.Errorf("inviter node %q is not a peer ID", nd.Peer)
	}
	if err := n.host.Connect(ctx, info); err != nil {
		return nil, "", fmt.Errorf("connecting to %s: %w", info.ID, err)
	}
	var resp JoinResponse
	if err := n.request(ctx, info.ID, cprotocol.JoinProtocol, req, maxJoinResponse, &resp); err != nil {
		return nil, "", err
	}
	return &resp, info.ID, nil
}

// restOfLog fetches from p, page by page over sync, the log entries after
// those a join response carried. The log is verified whole afterwards
// (completeJoin); here each page must continue the previous one.
func (n *Node) restOfLog(p peer.ID, topic [32]byte, entries [][]byte) ([][]byte, error) {
	for len(entries) > 0 && len(entries) <= maxJoinLog {
		head := sha256.Sum256(entries[len(entries)-1])
		resp, err := n.askSync(p, SyncRequest{Kind: syncKindLog, Topic: topic[:], From: uint64(len(entries)), Head: head[:]})
		switch {
		case err != nil:
			return nil, fmt.Errorf("fetching the rest of the topic log from the inviter: %w", err)
		case resp.Error != "":
			return nil, fmt.Errorf("the inviter refused the rest of the topic log: %s", resp.Error)
		case resp.Diverged || len(resp.Entries) == 0 && resp.More:
			return nil, errors.New("the inviter sent a topic log that does not continue its first page")
		}
		entries = append(entries, resp.Entries...)
		if !resp.More {
			return entries, nil
		}
	}
	return nil, fmt.Errorf("the inviter sent an empty topic log, or one of more than %d entries", maxJoinLog)
}

// admissionWait bounds how long a new member waits for a peer on the
// topic's log channel to announce its admission to.
const admissionWait = time.Minute

// announceAdmission announces the entry that admitted this member, once
// the topic's log channel has a peer. The inviter announced it too, but
// an inviter stopped, or restored from an older backup, right after
// answering the join loses it; no other member would then know of this
// one and all would refuse its envelopes and syncs for good (chaos
// defect 4 in docs/reliability.md). Nodes that hold it ignore the copy.
func (n *Node) announceAdmission(t *topic, state *cprotocol.TopicState) {
	deadline := time.Now().Add(admissionWait)
	for len(t.log.ListPeers()) == 0 {
		if time.Now().After(deadline) {
			return // the inviter's announcement and log sync remain
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	n.announce(t, state.Entries[state.Len-1])
}
