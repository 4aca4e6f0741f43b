package crypto

import (
	"crypto/sha256"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// joinMessage is what a join proof signs: SHA-256 of the invitation's exact
// bytes, then the binary peer ID of the joining node. Binding the node
// stops a proof from being replayed by another node of the network.
func joinMessage(inv *Invitation, p peer.ID) []byte {
	sum := sha256.Sum256(inv.Raw)
	return append(sum[:], p...)
}

// SignJoin makes the invitee's join proof: its signing key, under
// DomainJoin, over the invitation and the peer ID of its own node.
func SignJoin(id *Identity, inv *Invitation) []byte {
	return Sign(id.Signing, DomainJoin, joinMessage(inv, id.PeerID()))
}

// VerifyJoin checks a join proof presented with card: the card is the
// invitee's, and sig was made by its signing key for this invitation from
// the node the invitation names. The caller checks separately that the
// connection comes from that node (inv.Invitee.Peer), that the invitation
// has not expired (CheckFor) and that its nonce is unused.
func VerifyJoin(card *Card, inv *Invitation, sig []byte) error {
	if err := inv.checkInvitee(card); err != nil {
		return err
	}
	p, err := peer.Decode(inv.Invitee.Peer)
	if err != nil {
		return fmt.Errorf("invitation field %q: %v", "invitee.peer", err)
	}
	if err := Verify(card.SignKey, DomainJoin, joinMessage(inv, p), sig); err != nil {
		return fmt.Errorf("join proof of member %s does not verify: it was not made by this member's node %s for this invitation (%v)", card.ID, inv.Invitee.Peer, err)
	}
	return nil
}
