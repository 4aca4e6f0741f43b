package crypto

import (
	"errors"
	"testing"
	"time"
)

func TestJoinProof(t *testing.T) {
	f := newInvitationFixture(t)
	sig := SignJoin(f.invitee, f.inv)
	if err := VerifyJoin(f.inviteeCard, f.inv, sig); err != nil {
		t.Fatal(err)
	}

	otherNode := *f.invitee
	otherNode.Peer = newIdentity(t).Peer
	otherInv := f.invite(t, f.inviteeCard, RoleMember, time.Hour)
	altered := append([]byte(nil), sig...)
	altered[10] ^= 0x40
	cases := map[string][]byte{
		"signed by another member":  SignJoin(newIdentity(t), f.inv),
		"signed from another node":  SignJoin(&otherNode, f.inv),
		"for another invitation":    SignJoin(f.invitee, otherInv),
		"altered":                   altered,
		"truncated":                 sig[:63],
		"a signature of the domain": Sign(f.invitee.Signing, DomainCard, joinMessage(f.inv, f.invitee.PeerID())),
	}
	for name, bad := range cases {
		if err := VerifyJoin(f.inviteeCard, f.inv, bad); err == nil {
			t.Errorf("join proof %s was accepted", name)
		}
	}
}

func TestJoinProofFromAnotherCard(t *testing.T) {
	f := newInvitationFixture(t)
	intruder := newIdentity(t)
	err := VerifyJoin(newCard(t, intruder, "BRA"), f.inv, SignJoin(intruder, f.inv))
	if !errors.Is(err, ErrNotInvitee) {
		t.Fatalf("got %v, want ErrNotInvitee", err)
	}
}
