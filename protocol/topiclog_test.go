package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// testMember is a member's secret identity and public card.
type testMember struct {
	id   *crypto.Identity
	card *crypto.Card
}

func (m testMember) ID() string { return m.card.ID }

func newTestMember(t testing.TB, name, country string) testMember {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	card, err := crypto.NewCard(id, name, country, []string{"/ip4/127.0.0.1/tcp/4001"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return testMember{id: id, card: card}
}

// testTopic drives a topic log the way an admin's node would.
type testTopic struct {
	t     testing.TB
	s     *TopicState
	owner testMember
	keys  map[uint64]*crypto.EpochKey
	now   time.Time
}

// newTestTopic creates a topic owned by owner: genesis, then rotate to 1.
func newTestTopic(t testing.TB, owner testMember) *testTopic {
	t.Helper()
	raw, err := NewGenesis(owner.id, owner.card, "drug-trafficking", "West Africa cocaine route", Policy{MaxAgeDays: 365}, t0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewTopicState(raw)
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTopic{t: t, s: s, owner: owner, keys: map[uint64]*crypto.EpochKey{}, now: t0}
	tt.mustApply(tt.rotate(owner, ""))
	return tt
}

// entry builds and signs the next entry; fill sets the payload.
func (tt *testTopic) entry(author testMember, typ string, fill func(*LogEntry)) []byte {
	tt.t.Helper()
	tt.now = tt.now.Add(time.Minute)
	e := tt.s.NextEntry(author.ID(), typ, tt.now)
	fill(e)
	raw, err := SignEntry(author.id, e)
	if err != nil {
		tt.t.Fatal(err)
	}
	return raw
}

func (tt *testTopic) mustApply(raw []byte) {
	tt.t.Helper()
	if err := tt.s.Apply(raw); err != nil {
		tt.t.Fatal(err)
	}
}

// nextRotate makes the key of the next epoch and wraps it.
func (tt *testTopic) nextRotate(without string) Rotate {
	tt.t.Helper()
	k, err := crypto.GenerateEpochKey(tt.s.Epoch + 1)
	if err != nil {
		tt.t.Fatal(err)
	}
	r, err := tt.s.NewRotate(k, without)
	if err != nil {
		tt.t.Fatal(err)
	}
	tt.keys[k.Epoch] = k
	return r
}

func (tt *testTopic) rotate(by testMember, without string) []byte {
	r := tt.nextRotate(without)
	return tt.entry(by, EntryRotate, func(e *LogEntry) { e.Rotate = &r })
}

func newNonce(t testing.TB) []byte {
	n := make([]byte, NonceLen)
	if _, err := rand.Read(n); err != nil {
		t.Fatal(err)
	}
	return n
}

// admit has by add each of ms in role, each with a fresh nonce.
func (tt *testTopic) admit(by testMember, role string, ms ...testMember) {
	tt.t.Helper()
	for _, m := range ms {
		tt.mustApply(tt.add(by, m, role, newNonce(tt.t)))
	}
}

func (tt *testTopic) add(by, m testMember, role string, nonce []byte) []byte {
	tt.t.Helper()
	key, err := crypto.WrapEpochKey(tt.keys[tt.s.Epoch], m.card.Recipient())
	if err != nil {
		tt.t.Fatal(err)
	}
	return tt.entry(by, EntryAdd, func(e *LogEntry) {
		e.Add = &Add{Card: m.card.Raw, Role: role, Nonce: nonce, Key: key}
	})
}

func (tt *testTopic) remove(by testMember, member string) []byte {
	return tt.removeUpTo(by, member, 0)
}

// lastEnvelopeID stands for the ID of a member's envelope at seq: what a
// remove or leave entry pins as last_id (nil when seq is 0).
func lastEnvelopeID(member string, seq uint64) []byte {
	if seq == 0 {
		return nil
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", member, seq))
	return h[:]
}

// removeUpTo removes member, recording lastSeq as its last envelope.
func (tt *testTopic) removeUpTo(by testMember, member string, lastSeq uint64) []byte {
	r := tt.nextRotate(member)
	return tt.entry(by, EntryRemove, func(e *LogEntry) {
		e.Remove = &Remove{Member: member, Reason: "left the operation", Rotate: r, LastSeq: lastSeq, LastID: lastEnvelopeID(member, lastSeq)}
	})
}

// leave makes m leave the topic, rotating to the remaining members.
func (tt *testTopic) leave(m testMember, reason string) []byte {
	return tt.leaveAfter(m, reason, 0)
}

// leaveAfter makes m leave, recording lastSeq as its last envelope.
func (tt *testTopic) leaveAfter(m testMember, reason string, lastSeq uint64) []byte {
	r := tt.nextRotate(m.ID())
	return tt.entry(m, EntryLeave, func(e *LogEntry) {
		e.Leave = &Leave{Reason: reason, Rotate: r, LastSeq: lastSeq, LastID: lastEnvelopeID(m.ID(), lastSeq)}
	})
}

func (tt *testTopic) setRole(by testMember, member, role string) []byte {
	return tt.entry(by, EntryRole, func(e *LogEntry) { e.Role = &RoleChange{Member: member, Role: role} })
}

func (tt *testTopic) revoke(by testMember, nonce []byte) []byte {
	return tt.entry(by, EntryRevokeInvitation, func(e *LogEntry) { e.RevokeInvitation = &RevokeInvitation{Nonce: nonce} })
}

// unwrapFor checks that m can open its key of epoch and that the key is
// the epoch's.
func (tt *testTopic) unwrapFor(m testMember, epoch uint64) {
	tt.t.Helper()
	wrapped := tt.s.WrappedKeyFor(m.ID(), epoch)
	if wrapped == nil {
		tt.t.Fatalf("no key of epoch %d wrapped to %s", epoch, m.card.Name)
	}
	k, err := crypto.UnwrapEpochKey(epoch, wrapped, m.id.Age)
	if err != nil {
		tt.t.Fatal(err)
	}
	info, _ := tt.s.EpochInfoFor(epoch)
	if k.Recipient().String() != info.Recipient {
		tt.t.Fatalf("%s's key of epoch %d is not the epoch's key", m.card.Name, epoch)
	}
}

func TestTopicLogLifecycle(t *testing.T) {
	fra, nga, bra := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA"), newTestMember(t, "Policia Federal", "BRA")
	tt := newTestTopic(t, fra)
	s := tt.s
	if s.Owner != fra.ID() || s.Category != "drug-trafficking" || s.Policy.MaxAgeDays != 365 || s.Epoch != 1 || s.Len != 2 {
		t.Fatalf("new topic state is wrong: owner %s category %s policy %+v epoch %d len %d", s.Owner, s.Category, s.Policy, s.Epoch, s.Len)
	}
	tt.unwrapFor(fra, 1)

	tt.mustApply(tt.add(fra, nga, RoleMember, newNonce(t)))
	tt.mustApply(tt.add(fra, bra, RoleMember, newNonce(t)))
	if got := s.CurrentMembers(); !slices.Equal(got, sorted(fra.ID(), nga.ID(), bra.ID())) {
		t.Fatalf("members = %v", got)
	}
	tt.unwrapFor(nga, 1)
	tt.unwrapFor(bra, 1)
	if m, ok := s.PeerMember(nga.id.PeerID()); !ok || m != nga.ID() {
		t.Fatalf("PeerMember(nga's node) = %q, %v", m, ok)
	}

	tt.mustApply(tt.setRole(fra, nga.ID(), RoleAdmin))
	if !s.IsAdmin(nga.ID()) || s.IsAdmin(bra.ID()) || !s.IsAdmin(fra.ID()) {
		t.Fatal("roles are wrong after the role change")
	}

	// An admin other than the owner removes a member; the removal rotates.
	tt.mustApply(tt.removeUpTo(nga, bra.ID(), 7))
	if s.Epoch != 2 || s.Removed[bra.ID()] != s.Len-1 || s.Members[bra.ID()] != nil {
		t.Fatalf("after removal: epoch %d removed %v", s.Epoch, s.Removed)
	}
	// What it published before (up to the recorded seq) is still accepted.
	if !s.MayPublish(bra.ID(), 7) || s.MayPublish(bra.ID(), 8) || !s.MayPublish(nga.ID(), 1000) || s.MayPublish(fra.ID()+"x", 1) {
		t.Fatalf("MayPublish after removal up to seq 7 is wrong (last seqs %v)", s.LastSeqs)
	}
	// Its chain is pinned at seq 7; members and strangers are not former.
	if seq, id, former := s.FormerChain(bra.ID()); !former || seq != 7 || !bytes.Equal(id[:], lastEnvelopeID(bra.ID(), 7)) {
		t.Fatalf("FormerChain(bra) = %d, %x, %v", seq, id, former)
	}
	for _, m := range []string{nga.ID(), fra.ID() + "x"} {
		if seq, id, former := s.FormerChain(m); former || seq != 0 || id != [32]byte{} {
			t.Fatalf("FormerChain(%s) = %d, %x, %v", m, seq, id, former)
		}
	}
	if !s.MemberAt(bra.ID(), 1) || s.MemberAt(bra.ID(), 2) || s.WrappedKeyFor(bra.ID(), 2) != nil {
		t.Fatal("removed member's epochs are wrong")
	}
	if _, ok := s.PeerMember(bra.id.PeerID()); ok {
		t.Fatal("removed member's node is still a member's node")
	}
	if s.Card(bra.ID()) == nil {
		t.Fatal("removed member's card is forgotten; its old envelopes cannot be verified")
	}
	tt.unwrapFor(fra, 2)
	tt.unwrapFor(nga, 2)

	// A removed member may be invited again.
	tt.mustApply(tt.add(fra, bra, RoleMember, newNonce(t)))
	if _, removed := s.Removed[bra.ID()]; removed || !s.MemberAt(bra.ID(), 2) || !s.MayPublish(bra.ID(), 8) {
		t.Fatal("re-added member is not a member of the current epoch")
	}
	if _, _, former := s.FormerChain(bra.ID()); former || len(s.LastIDs) != 0 || len(s.LastSeqs) != 0 {
		t.Fatalf("re-added member keeps its pinned chain: last seqs %v, last IDs %v", s.LastSeqs, s.LastIDs)
	}
	tt.unwrapFor(bra, 2)

	again, err := Replay(s.Entries)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, s) {
		t.Fatal("replaying the log does not give the same state")
	}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

// rejectFixture is a topic with an owner (FRA), an admin (NGA), a member
// (BRA), a removed member (COL), a used and a revoked nonce, at epoch 2.
type rejectFixture struct {
	tt                   *testTopic
	fra, nga, bra, col   testMember
	usedNonce, revNonce  []byte
	outsider             testMember
	otherTopicFirstEntry []byte
}

func newRejectFixture(t *testing.T) *rejectFixture {
	f := &rejectFixture{
		fra: newTestMember(t, "DCPJ", "FRA"), nga: newTestMember(t, "NDLEA", "NGA"),
		bra: newTestMember(t, "Policia Federal", "BRA"), col: newTestMember(t, "DIJIN", "COL"),
		outsider:  newTestMember(t, "Outsider", "CAN"),
		usedNonce: newNonce(t), revNonce: newNonce(t),
	}
	f.tt = newTestTopic(t, f.fra)
	tt := f.tt
	tt.mustApply(tt.add(f.fra, f.nga, RoleAdmin, f.usedNonce))
	tt.mustApply(tt.add(f.nga, f.bra, RoleMember, newNonce(t)))
	tt.mustApply(tt.add(f.nga, f.col, RoleMember, newNonce(t)))
	tt.mustApply(tt.revoke(f.fra, f.revNonce))
	tt.mustApply(tt.remove(f.fra, f.col.ID()))
	other := newTestTopic(t, f.outsider)
	f.otherTopicFirstEntry = other.s.Entries[1]
	return f
}

func TestTopicLogRejects(t *testing.T) {
	f := newRejectFixture(t)
	tt := f.tt
	resign := func(by testMember, raw []byte, edit func(*LogEntry)) []byte {
		e, err := DecodeEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		edit(&e.LogEntry)
		out, err := SignEntry(by.id, &e.LogEntry)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name  string
		entry func() []byte
		want  string
	}{
		{"wrong prev", func() []byte {
			return resign(f.fra, tt.revoke(f.fra, newNonce(t)), func(e *LogEntry) { e.Prev = bytes.Repeat([]byte{7}, 32) })
		}, "is not the hash of entry"},
		{"wrong index", func() []byte {
			return resign(f.fra, tt.revoke(f.fra, newNonce(t)), func(e *LogEntry) { e.Index++ })
		}, "beyond the end of the log"},
		{"fork at an existing index", func() []byte {
			return resign(f.fra, tt.revoke(f.fra, newNonce(t)), func(e *LogEntry) {
				e.Index--
				e.Prev = bytes.Repeat([]byte{1}, 32)
			})
		}, "already has a different entry at index"},
		{"duplicate", func() []byte { return tt.s.Entries[3] }, "already in the log"},
		{"non-admin author", func() []byte { return tt.revoke(f.bra, newNonce(t)) }, "author " + f.bra.ID() + " is not an admin of topic " + tt.s.ID.Short()},
		{"outsider author", func() []byte { return tt.revoke(f.outsider, newNonce(t)) }, "is not a member of topic"},
		{"removed member author", func() []byte { return tt.revoke(f.col, newNonce(t)) }, "is not a member of topic"},
		{"bad signature", func() []byte {
			raw := tt.revoke(f.fra, newNonce(t))
			raw[len(raw)-1] ^= 1 // the signature is the container's last field
			return raw
		}, "signature does not verify with the signing key of author " + f.fra.ID()},
		{"reused nonce", func() []byte { return tt.add(f.fra, f.outsider, RoleMember, f.usedNonce) }, "was already used by entry 2"},
		{"revoked nonce", func() []byte { return tt.add(f.fra, f.outsider, RoleMember, f.revNonce) }, "was revoked by entry 5"},
		{"revoke a used nonce", func() []byte { return tt.revoke(f.fra, f.usedNonce) }, "was already used"},
		{"add a current member", func() []byte { return tt.add(f.fra, f.bra, RoleMember, newNonce(t)) }, "is already a member"},
		{"admin adds an admin", func() []byte { return tt.add(f.nga, f.outsider, RoleAdmin, newNonce(t)) }, "only the owner"},
		{"rotate missing a member", func() []byte {
			r := tt.nextRotate(f.bra.ID())
			return tt.entry(f.fra, EntryRotate, func(e *LogEntry) { e.Rotate = &r })
		}, "does not wrap the key to member " + f.bra.ID()},
		{"rotate wrapping to a removed member", func() []byte {
			r := tt.nextRotate("")
			key, _ := crypto.WrapEpochKey(tt.keys[r.Epoch], f.col.card.Recipient())
			r.Keys = append(r.Keys, WrappedKey{Member: f.col.ID(), Key: key})
			slices.SortFunc(r.Keys, func(a, b WrappedKey) int { return strings.Compare(a.Member, b.Member) })
			return tt.entry(f.fra, EntryRotate, func(e *LogEntry) { e.Rotate = &r })
		}, "wraps the key to " + f.col.ID() + ", who was removed"},
		{"rotate skipping an epoch", func() []byte {
			r := tt.nextRotate("")
			r.Epoch++
			return tt.entry(f.fra, EntryRotate, func(e *LogEntry) { e.Rotate = &r })
		}, "want epoch 3"},
		{"rotate reusing a recipient", func() []byte {
			r := tt.nextRotate("")
			r.Recipient = tt.s.Epochs[0].Recipient
			return tt.entry(f.fra, EntryRotate, func(e *LogEntry) { e.Rotate = &r })
		}, "reuses the recipient of epoch 1"},
		{"remove the owner", func() []byte { return tt.remove(f.nga, f.fra.ID()) }, "the owner " + f.fra.ID() + " cannot be removed"},
		{"remove keeps the removed member's key", func() []byte {
			r := tt.nextRotate("")
			return tt.entry(f.fra, EntryRemove, func(e *LogEntry) { e.Remove = &Remove{Member: f.bra.ID(), Rotate: r} })
		}, "who is being removed"},
		{"remove a removed member", func() []byte { return tt.remove(f.fra, f.col.ID()) }, "was removed from topic"},
		{"admin removes an admin", func() []byte { return tt.remove(f.nga, f.nga.ID()) }, "only the owner " + f.fra.ID() + " can remove admin"},
		{"outsider leaves", func() []byte { return tt.leave(f.outsider, "") }, "author " + f.outsider.ID() + " is not a member of topic"},
		{"removed member leaves", func() []byte { return tt.leave(f.col, "") }, "author " + f.col.ID() + " is not a member of topic"},
		{"owner leaves", func() []byte { return tt.leave(f.fra, "") }, "the owner " + f.fra.ID() + " cannot leave topic"},
		{"leave keeps the leaver's key", func() []byte {
			r := tt.nextRotate("")
			e := tt.s.NextEntry(f.bra.ID(), EntryLeave, tt.now.Add(time.Minute))
			e.Leave = &Leave{Rotate: r}
			return sealRaw(t, f.bra, e) // SignEntry refuses it
		}, `field "leave.rotate.keys": wraps the new epoch's key to ` + f.bra.ID() + ", the member that leaves"},
		{"leave missing a remaining member", func() []byte {
			r := tt.nextRotate(f.bra.ID())
			r.Keys = slices.DeleteFunc(r.Keys, func(k WrappedKey) bool { return k.Member == f.nga.ID() })
			return tt.entry(f.bra, EntryLeave, func(e *LogEntry) { e.Leave = &Leave{Rotate: r} })
		}, "does not wrap the key to member " + f.nga.ID()},
		{"leave wrapping to a removed member", func() []byte {
			r := tt.nextRotate(f.bra.ID())
			key, _ := crypto.WrapEpochKey(tt.keys[r.Epoch], f.col.card.Recipient())
			r.Keys = append(r.Keys, WrappedKey{Member: f.col.ID(), Key: key})
			slices.SortFunc(r.Keys, func(a, b WrappedKey) int { return strings.Compare(a.Member, b.Member) })
			return tt.entry(f.bra, EntryLeave, func(e *LogEntry) { e.Leave = &Leave{Rotate: r} })
		}, "wraps the key to " + f.col.ID() + ", who was removed"},
		{"leave skipping an epoch", func() []byte {
			r := tt.nextRotate(f.bra.ID())
			r.Epoch++
			return tt.entry(f.bra, EntryLeave, func(e *LogEntry) { e.Leave = &Leave{Rotate: r} })
		}, "want epoch 3"},
		{"role change by a non-owner admin", func() []byte { return tt.setRole(f.nga, f.bra.ID(), RoleAdmin) }, "only the owner"},
		{"owner role change", func() []byte { return tt.setRole(f.fra, f.fra.ID(), RoleMember) }, "role of the owner"},
		{"role unchanged", func() []byte { return tt.setRole(f.fra, f.bra.ID(), RoleMember) }, "already has role"},
		{"timestamp too far back", func() []byte {
			return resign(f.fra, tt.revoke(f.fra, newNonce(t)), func(e *LogEntry) { e.TS = tt.now.Add(-time.Hour) })
		}, "before the previous entry's"},
		{"entry of another topic", func() []byte { return f.otherTopicFirstEntry }, "belongs to topic"},
		{"second genesis", func() []byte { return tt.s.Entries[0] }, "cannot be appended"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := tt.s.Clone()
			raw := c.entry()
			err := tt.s.Apply(raw)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Apply = %v, want an error containing %q", err, c.want)
			}
			if !reflect.DeepEqual(before, tt.s) {
				t.Fatal("a rejected entry changed the state")
			}
		})
	}
}

func sealRaw(t *testing.T, m testMember, e *LogEntry) []byte {
	raw, _, err := crypto.Seal(m.id.Signing, crypto.DomainLogEntry, e)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeEntryRejects(t *testing.T) {
	fra := newTestMember(t, "DCPJ", "FRA")
	tt := newTestTopic(t, fra)
	base := func(typ string) *LogEntry { return tt.s.NextEntry(fra.ID(), typ, t0.Add(time.Hour)) }
	rot, _ := DecodeEntry(tt.s.Entries[1])
	cases := []struct {
		name string
		e    func() *LogEntry
		want string
	}{
		{"unknown type", func() *LogEntry { return base("merge") }, `"merge" is not a log entry type`},
		{"no payload", func() *LogEntry { return base(EntryRevokeInvitation) }, "exactly one payload"},
		{"payload of another type", func() *LogEntry {
			e := base(EntryRevokeInvitation)
			e.Role = &RoleChange{Member: fra.ID(), Role: RoleAdmin}
			return e
		}, "exactly one payload"},
		{"two payloads", func() *LogEntry {
			e := base(EntryRole)
			e.Role = &RoleChange{Member: fra.ID(), Role: RoleAdmin}
			e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
			return e
		}, "exactly one payload"},
		{"short nonce", func() *LogEntry {
			e := base(EntryRevokeInvitation)
			e.RevokeInvitation = &RevokeInvitation{Nonce: []byte{1, 2}}
			return e
		}, `"revoke-invitation.nonce": is 2 bytes, want 16`},
		{"bad version", func() *LogEntry {
			e := base(EntryRevokeInvitation)
			e.V = 2
			e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
			return e
		}, "version 2 is not supported"},
		{"non-UTC time", func() *LogEntry {
			e := base(EntryRevokeInvitation)
			e.TS = e.TS.In(time.FixedZone("CET", 3600))
			e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
			return e
		}, "must be in UTC"},
		{"leave reason too long", func() *LogEntry {
			e := base(EntryLeave)
			e.Leave = &Leave{Reason: strings.Repeat("x", MaxReasonLen+1), Rotate: *rot.Rotate}
			return e
		}, `"leave.reason": is 1025 bytes, at most 1024 allowed`},
		{"leave reason not UTF-8", func() *LogEntry {
			e := base(EntryLeave)
			e.Leave = &Leave{Reason: "\xff", Rotate: *rot.Rotate}
			return e
		}, "invalid UTF-8"},
		{"leave without payload", func() *LogEntry { return base(EntryLeave) }, "exactly one payload"},
		{"remove with last_id but no last_seq", func() *LogEntry {
			e := base(EntryRemove)
			e.Remove = &Remove{Member: fra.ID(), Rotate: *rot.Rotate, LastID: lastEnvelopeID(fra.ID(), 1)}
			return e
		}, `"remove.last_id": must be absent when last_seq is absent`},
		{"remove with last_seq but no last_id", func() *LogEntry {
			e := base(EntryRemove)
			e.Remove = &Remove{Member: fra.ID(), Rotate: *rot.Rotate, LastSeq: 4}
			return e
		}, `"remove.last_id": is 0 bytes, want the 32-byte ID of the member's envelope at last_seq 4`},
		{"leave with a short last_id", func() *LogEntry {
			e := base(EntryLeave)
			e.Leave = &Leave{Rotate: *rot.Rotate, LastSeq: 2, LastID: make([]byte, 31)}
			return e
		}, `"leave.last_id": is 31 bytes, want the 32-byte ID`},
		{"leave with last_id but no last_seq", func() *LogEntry {
			e := base(EntryLeave)
			e.Leave = &Leave{Rotate: *rot.Rotate, LastID: lastEnvelopeID(fra.ID(), 1)}
			return e
		}, `"leave.last_id": must be absent`},
		{"bad role", func() *LogEntry {
			e := base(EntryRole)
			e.Role = &RoleChange{Member: fra.ID(), Role: "root"}
			return e
		}, `"root" is not a role`},
		{"unsorted keys", func() *LogEntry {
			e := base(EntryRotate)
			r := *rot.Rotate
			r.Epoch = 2
			r.Keys = []WrappedKey{r.Keys[0], r.Keys[0]}
			e.Rotate = &r
			return e
		}, "sorted by member ID without duplicates"},
		{"bad recipient", func() *LogEntry {
			e := base(EntryRotate)
			r := *rot.Rotate
			r.Recipient = fra.id.Age.Recipient().String()[:40]
			e.Rotate = &r
			return e
		}, "not an age post-quantum recipient"},
		{"chained entry without topic", func() *LogEntry {
			e := base(EntryRevokeInvitation)
			e.Topic = nil
			e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
			return e
		}, `"topic": is 0 bytes`},
		{"genesis with a prev", func() *LogEntry {
			g, _ := DecodeEntry(tt.s.Entries[0])
			e := g.LogEntry
			e.Prev = bytes.Repeat([]byte{1}, 32)
			return &e
		}, "must be absent in a genesis entry"},
		{"genesis with an unknown category", func() *LogEntry {
			g, _ := DecodeEntry(tt.s.Entries[0])
			e := g.LogEntry
			gen := *e.Genesis
			gen.Category = "jaywalking"
			e.Genesis = &gen
			return &e
		}, `"genesis.category"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeEntry(sealRaw(t, fra, c.e()))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("DecodeEntry = %v, want an error containing %q", err, c.want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		if _, err := DecodeEntry(make([]byte, MaxLogEntryBytes+1)); err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("DecodeEntry = %v", err)
		}
	})
	t.Run("non-canonical container", func(t *testing.T) {
		raw := append([]byte(nil), tt.s.Entries[1]...)
		if _, err := DecodeEntry(append(raw, 0)); err == nil {
			t.Fatal("trailing byte accepted")
		}
	})
}

// TestLastIDEncoding checks that last_id leaves the encoding of entries
// without it unchanged, and sorts before last_seq (shorter key first).
func TestLastIDEncoding(t *testing.T) {
	type removeBefore struct { // Remove as it was before last_id
		Member  string `cbor:"member"`
		Reason  string `cbor:"reason"`
		Rotate  Rotate `cbor:"rotate"`
		LastSeq uint64 `cbor:"last_seq,omitempty"`
	}
	r := Rotate{Epoch: 2, Recipient: "age1pq1x", Keys: []WrappedKey{{Member: "m", Key: []byte{1}}}}
	now, err := canon.Marshal(Remove{Member: "m", Reason: "r", Rotate: r})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := canon.Marshal(removeBefore{Member: "m", Reason: "r", Rotate: r})
	if !bytes.Equal(now, before) {
		t.Fatalf("a remove without last_id encodes differently:\n%x\n%x", now, before)
	}
	withID, _ := canon.Marshal(Leave{Rotate: r, LastSeq: 3, LastID: lastEnvelopeID("m", 3)})
	if i, j := bytes.Index(withID, []byte("last_id")), bytes.Index(withID, []byte("last_seq")); i < 0 || j < i {
		t.Fatalf("last_id is not encoded before last_seq: %x", withID)
	}
	var back Leave
	if err := canon.Unmarshal(withID, &back); err != nil || !bytes.Equal(back.LastID, lastEnvelopeID("m", 3)) {
		t.Fatalf("leave with last_id does not decode back: %+v, %v", back, err)
	}
}

func TestNewTopicStateRejects(t *testing.T) {
	fra, nga := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA")
	tt := newTestTopic(t, fra)
	if _, err := NewTopicState(tt.s.Entries[1]); err == nil || !strings.Contains(err.Error(), "starts with a genesis") {
		t.Fatalf("NewTopicState(rotate) = %v", err)
	}
	// A genesis signed by someone other than the owner it names.
	g, _ := DecodeEntry(tt.s.Entries[0])
	forged := sealRaw(t, nga, &g.LogEntry)
	if _, err := NewTopicState(forged); err == nil || !strings.Contains(err.Error(), "signature does not verify") {
		t.Fatalf("NewTopicState(forged) = %v", err)
	}
	if _, err := NewGenesis(nga.id, fra.card, "terrorism", "x", Policy{}, t0); err == nil {
		t.Fatal("genesis with another member's card accepted")
	}
	// After genesis, only a rotate may come.
	s, _ := NewTopicState(tt.s.Entries[0])
	e := s.NextEntry(fra.ID(), EntryRevokeInvitation, t0)
	e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
	raw, err := SignEntry(fra.id, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(raw); err == nil || !strings.Contains(err.Error(), "must be a rotate to epoch 1") {
		t.Fatalf("Apply(revoke before rotate) = %v", err)
	}
}

func TestTopicIDText(t *testing.T) {
	fra := newTestMember(t, "DCPJ", "FRA")
	s := newTestTopic(t, fra).s
	id, err := ParseTopicID(s.ID.String())
	if err != nil || id != s.ID {
		t.Fatalf("ParseTopicID(String()) = %v, %v", id, err)
	}
	if _, err := ParseTopicID("abc"); err == nil {
		t.Fatal("short topic ID accepted")
	}
	want := "/concord/1/drug-trafficking/" + s.ID.String()
	if got := TopicString(s.Category, s.ID); got != want {
		t.Fatalf("TopicString = %q, want %q", got, want)
	}
	if got := LogTopicString(s.Category, s.ID); got != want+"/log" {
		t.Fatalf("LogTopicString = %q", got)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	fra, nga := newTestMember(f, "DCPJ", "FRA"), newTestMember(f, "NDLEA", "NGA")
	tt := newTestTopic(f, fra)
	tt.mustApply(tt.add(fra, nga, RoleMember, newNonce(f)))
	tt.mustApply(tt.setRole(fra, nga.ID(), RoleAdmin))
	tt.mustApply(tt.revoke(fra, newNonce(f)))
	tt.mustApply(tt.removeUpTo(fra, nga.ID(), 12))
	bra := newTestMember(f, "Policia Federal", "BRA")
	tt.mustApply(tt.add(fra, bra, RoleMember, newNonce(f)))
	tt.mustApply(tt.leaveAfter(bra, "operation closed on our side", 3))
	deu := newTestMember(f, "BKA", "DEU")
	tt.mustApply(tt.add(fra, deu, RoleMember, newNonce(f)))
	tt.mustApply(tt.leave(deu, ""))
	tt.mustApply(tt.setHistory(fra, HistoryAll))
	tt.mustApply(tt.addWith(fra, newTestMember(f, "BKA", "DEU"), HistoryAll))
	tt.mustApply(tt.addWith(fra, newTestMember(f, "Policia", "ESP"), HistoryFromJoin))
	for _, raw := range tt.s.Entries {
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0x82, 0x40, 0x40})
	f.Add([]byte("not cbor at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEntry(data)
		if err != nil {
			return
		}
		body, err := canon.Marshal(e.LogEntry)
		if err != nil {
			t.Fatal(err)
		}
		again, err := canon.Marshal(crypto.Signed{Body: body, Sig: e.signed.Sig})
		if err != nil || !bytes.Equal(again, data) {
			t.Fatal("accepted entry does not re-encode identically")
		}
	})
}

func TestMaxMembersRotateFits(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 256 members")
	}
	fra := newTestMember(t, "DCPJ", "FRA")
	tt := newTestTopic(t, fra)
	for len(tt.s.Members) < MaxMembers {
		tt.mustApply(tt.add(fra, newTestMember(t, "Agency", "DEU"), RoleMember, newNonce(t)))
	}
	err := tt.s.Apply(tt.add(fra, newTestMember(t, "One too many", "DEU"), RoleMember, newNonce(t)))
	if err == nil || !strings.Contains(err.Error(), "the most a rotate entry can carry") {
		t.Fatalf("adding member %d: %v", MaxMembers+1, err)
	}
	start := time.Now()
	tt.mustApply(tt.rotate(fra, "")) // SignEntry refuses entries over MaxLogEntryBytes
	n := len(tt.s.Entries[tt.s.Len-1])
	t.Logf("a rotate to %d members: %d bytes, written and applied in %v", MaxMembers, n, time.Since(start).Round(time.Millisecond))
	if n > MaxLogEntryBytes*9/10 {
		t.Fatalf("a rotate to %d members is %d bytes, too close to the %d limit", MaxMembers, n, MaxLogEntryBytes)
	}
}

func TestTopicLogLeave(t *testing.T) {
	fra, nga, bra := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA"), newTestMember(t, "Policia Federal", "BRA")
	tt := newTestTopic(t, fra)
	s := tt.s
	tt.mustApply(tt.add(fra, nga, RoleAdmin, newNonce(t)))
	tt.mustApply(tt.add(fra, bra, RoleMember, newNonce(t)))

	// A plain member leaves: it writes the entry and rotates to the others.
	tt.mustApply(tt.leave(bra, "operation closed on our side"))
	leaveIdx := s.Len - 1
	if s.Members[bra.ID()] != nil || s.Epoch != 2 {
		t.Fatalf("after leaving: members %v, epoch %d", s.CurrentMembers(), s.Epoch)
	}
	if idx, ok := s.RemovedAt(bra.ID()); !ok || idx != leaveIdx {
		t.Fatalf("RemovedAt(bra) = %d, %v, want %d, true", idx, ok, leaveIdx)
	}
	if _, ok := s.RemovedAt(nga.ID()); ok {
		t.Fatal("RemovedAt reports a current member")
	}
	info, _ := s.EpochInfoFor(2)
	if info.StartIndex != leaveIdx || !slices.Equal(info.Members, sorted(fra.ID(), nga.ID())) {
		t.Fatalf("epoch 2 = %+v", info)
	}
	if !s.MemberAt(bra.ID(), 1) || s.MemberAt(bra.ID(), 2) || s.WrappedKeyFor(bra.ID(), 2) != nil {
		t.Fatal("the member that left holds the key of the epoch its departure started")
	}
	tt.unwrapFor(fra, 2)
	tt.unwrapFor(nga, 2)
	if _, ok := s.PeerMember(bra.id.PeerID()); ok {
		t.Fatal("the node of the member that left is still a member's node")
	}
	if s.Card(bra.ID()) == nil {
		t.Fatal("the card of the member that left is forgotten; its old envelopes cannot be verified")
	}
	e, err := DecodeEntry(s.Entries[leaveIdx])
	if err != nil || e.Author != bra.ID() || e.Leave.Reason != "operation closed on our side" {
		t.Fatalf("leave entry = %+v, %v", e, err)
	}

	// A key wrapped to it afterwards is refused, naming the departure.
	r := tt.nextRotate("")
	key, _ := crypto.WrapEpochKey(tt.keys[r.Epoch], bra.card.Recipient())
	r.Keys = append(r.Keys, WrappedKey{Member: bra.ID(), Key: key})
	slices.SortFunc(r.Keys, func(a, b WrappedKey) int { return strings.Compare(a.Member, b.Member) })
	err = s.Apply(tt.entry(fra, EntryRotate, func(e *LogEntry) { e.Rotate = &r }))
	if want := "who left topic " + s.ID.Short() + " by entry"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("rotate to a member that left: %v, want an error containing %q", err, want)
	}

	// The owner cannot leave.
	if err := s.Apply(tt.leave(fra, "")); err == nil || !strings.Contains(err.Error(), "the owner "+fra.ID()+" cannot leave") {
		t.Fatalf("owner leaves: %v", err)
	}

	// An admin may leave too, with an empty reason, pinning its chain.
	tt.mustApply(tt.leaveAfter(nga, "", 3))
	if got := s.CurrentMembers(); !slices.Equal(got, []string{fra.ID()}) || s.Epoch != 3 || s.IsAdmin(nga.ID()) {
		t.Fatalf("after the admin left: members %v, epoch %d", got, s.Epoch)
	}
	if seq, id, former := s.FormerChain(nga.ID()); !former || seq != 3 || !bytes.Equal(id[:], lastEnvelopeID(nga.ID(), 3)) {
		t.Fatalf("FormerChain(nga) = %d, %x, %v", seq, id, former)
	}
	if seq, _, former := s.FormerChain(bra.ID()); !former || seq != 0 || len(s.LastIDs) != 1 {
		t.Fatalf("FormerChain(bra), which left having published nothing = %d, %v; last IDs %v", seq, former, s.LastIDs)
	}
	c := s.Clone()
	delete(c.LastIDs, nga.ID())
	if _, ok := s.LastIDs[nga.ID()]; !ok {
		t.Fatal("a clone shares LastIDs with its original")
	}
	tt.unwrapFor(fra, 3)

	// A member that left may be invited again.
	tt.mustApply(tt.add(fra, bra, RoleMember, newNonce(t)))
	if _, ok := s.RemovedAt(bra.ID()); ok || !s.MemberAt(bra.ID(), 3) {
		t.Fatal("re-added member is not a member of the current epoch")
	}
	tt.unwrapFor(bra, 3)

	again, err := Replay(s.Entries)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, s) {
		t.Fatal("replaying the log does not give the same state")
	}
}

func TestEntryHash(t *testing.T) {
	fra := newTestMember(t, "DCPJ", "FRA")
	tt := newTestTopic(t, fra)
	tt.mustApply(tt.revoke(fra, newNonce(t)))
	s := tt.s
	for i, raw := range s.Entries {
		if h, ok := s.EntryHash(uint64(i)); !ok || h != sha256.Sum256(raw) {
			t.Fatalf("EntryHash(%d) = %x, %v", i, h, ok)
		}
	}
	if h, _ := s.EntryHash(0); h != s.ID {
		t.Fatal("EntryHash(0) is not the topic ID")
	}
	if h, _ := s.EntryHash(s.Len - 1); h != s.Head {
		t.Fatal("EntryHash(last) is not the head")
	}
	if _, ok := s.EntryHash(s.Len); ok {
		t.Fatal("EntryHash beyond the log succeeded")
	}
}
