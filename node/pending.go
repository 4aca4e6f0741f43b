package node

import (
	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/store"
)

func storePending(topic [32]byte, inv *crypto.Invitation) store.PendingInvitation {
	return store.PendingInvitation{
		Topic:   topic,
		Invitee: inv.Invitee.ID,
		Peer:    inv.Invitee.Peer,
		Role:    inv.Role,
		Expires: inv.Expires,
	}
}
