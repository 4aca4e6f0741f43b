package protocol

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
)

// fork returns an independent copy of the topic, to write a concurrent
// branch of its log.
func (tt *testTopic) fork() *testTopic {
	c := *tt
	c.s = tt.s.Clone()
	c.keys = maps.Clone(tt.keys)
	return &c
}

func TestTopicLogDuplicateAndFork(t *testing.T) {
	fra := newTestMember(t, "DCPJ", "FRA")
	tt := newTestTopic(t, fra)
	if err := tt.s.Apply(tt.s.Entries[1]); !errors.Is(err, ErrDuplicateEntry) {
		t.Fatalf("re-applying entry 1: %v, want ErrDuplicateEntry", err)
	}
	// Two admins append concurrently at the same index.
	a := tt.revoke(fra, newNonce(t))
	b := tt.revoke(fra, newNonce(t))
	tt.mustApply(a)
	if err := tt.s.Apply(b); !errors.Is(err, ErrLogFork) {
		t.Fatalf("conflicting entry: %v, want ErrLogFork", err)
	}
	ea, _ := DecodeEntry(a)
	eb, _ := DecodeEntry(b)
	if PreferredEntry(ea, eb, fra.ID()) != PreferredEntry(eb, ea, fra.ID()) {
		t.Fatal("PreferredEntry depends on argument order")
	}
}

// forkFixture is a topic owned by FRA with two other admins (NGA, DEU) and
// a member (BRA), ready to be forked.
type forkFixture struct {
	tt                 *testTopic
	fra, nga, deu, bra testMember
}

func newForkFixture(t *testing.T) *forkFixture {
	f := &forkFixture{
		fra: newTestMember(t, "DCPJ", "FRA"), nga: newTestMember(t, "NDLEA", "NGA"),
		deu: newTestMember(t, "BKA", "DEU"), bra: newTestMember(t, "Policia Federal", "BRA"),
	}
	f.tt = newTestTopic(t, f.fra)
	f.tt.admit(f.fra, RoleAdmin, f.nga, f.deu)
	f.tt.admit(f.nga, RoleMember, f.bra)
	return f
}

// revokeBranch forks the fixture's topic and has by revoke a fresh
// invitation on the branch: one entry at the fork index.
func (f *forkFixture) revokeBranch(t *testing.T, by testMember) *testTopic {
	b := f.tt.fork()
	b.mustApply(b.revoke(by, newNonce(t)))
	return b
}

// resolveBoth resolves a fork both ways round, checks that both give the
// same winner and fork index, and returns them.
func resolveBoth(t *testing.T, a, b [][]byte) ([][]byte, uint64) {
	t.Helper()
	w1, i1, err := ResolveFork(a, b)
	if err != nil {
		t.Fatalf("ResolveFork(a, b): %v", err)
	}
	w2, i2, err := ResolveFork(b, a)
	if err != nil {
		t.Fatalf("ResolveFork(b, a): %v", err)
	}
	if !slices.EqualFunc(w1, w2, bytes.Equal) || i1 != i2 {
		t.Fatalf("ResolveFork depends on argument order: %d entries (fork %d) against %d (fork %d)", len(w1), i1, len(w2), i2)
	}
	return w1, i1
}

func entryHash(t *testing.T, raw []byte) [32]byte {
	e, err := DecodeEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	return e.Hash
}

func sameLog(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

func TestResolveForkPrefix(t *testing.T) {
	f := newForkFixture(t)
	short := slices.Clone(f.tt.s.Entries)
	f.tt.mustApply(f.tt.revoke(f.nga, newNonce(t)))
	f.tt.mustApply(f.tt.remove(f.nga, f.bra.ID()))
	long := f.tt.s.Entries
	w, idx := resolveBoth(t, short, long)
	if !sameLog(w, long) || idx != uint64(len(short)) {
		t.Fatalf("prefix: winner has %d entries, fork index %d; want the longer log (%d) and %d", len(w), idx, len(long), len(short))
	}
	w, idx, err := ResolveFork(long, slices.Clone(long))
	if err != nil || !sameLog(w, long) || idx != uint64(len(long)) {
		t.Fatalf("equal logs: %d entries, fork index %d, %v", len(w), idx, err)
	}
	// A longer log that does not replay loses to its valid prefix.
	bad := append(slices.Clone(short), f.tt.revoke(f.bra, newNonce(t))) // BRA is no admin
	w, idx = resolveBoth(t, short, bad)
	if !sameLog(w, short) || idx != uint64(len(short)) {
		t.Fatalf("invalid extension: winner has %d entries, fork index %d", len(w), idx)
	}
}

func TestResolveForkOwnerWins(t *testing.T) {
	f := newForkFixture(t)
	forkAt := f.tt.s.Len
	owner := f.revokeBranch(t, f.fra)
	ownerHash := entryHash(t, owner.s.Entries[forkAt])
	// The admin's entry has the lower hash, and its branch is longer:
	// neither matters against the owner.
	var admin *testTopic
	for {
		admin = f.revokeBranch(t, f.nga)
		h := entryHash(t, admin.s.Entries[forkAt])
		if bytes.Compare(h[:], ownerHash[:]) < 0 {
			break
		}
	}
	admin.mustApply(admin.remove(f.nga, f.bra.ID()))
	admin.mustApply(admin.rotate(f.deu, ""))
	w, idx := resolveBoth(t, owner.s.Entries, admin.s.Entries)
	if idx != forkAt || !sameLog(w, owner.s.Entries) {
		t.Fatalf("owner against admin: fork index %d (want %d), owner's branch won: %v", idx, forkAt, sameLog(w, owner.s.Entries))
	}
}

func TestResolveForkAdmins(t *testing.T) {
	f := newForkFixture(t)
	forkAt := f.tt.s.Len
	// Deeper branches: two entries each after the fork point.
	a := f.tt.fork()
	a.mustApply(a.remove(f.nga, f.bra.ID()))
	a.mustApply(a.revoke(f.nga, newNonce(t)))
	b := f.revokeBranch(t, f.deu)
	b.mustApply(b.rotate(f.deu, ""))
	c := f.tt.fork()
	c.mustApply(c.leave(f.bra, "")) // a member's leave forks like an admin's entry
	c.mustApply(c.rotate(f.nga, ""))
	ha, hb, hc := entryHash(t, a.s.Entries[forkAt]), entryHash(t, b.s.Entries[forkAt]), entryHash(t, c.s.Entries[forkAt])

	want := a.s.Entries
	if bytes.Compare(hb[:], ha[:]) < 0 {
		want = b.s.Entries
	}
	w, idx := resolveBoth(t, a.s.Entries, b.s.Entries)
	if idx != forkAt || !sameLog(w, want) {
		t.Fatalf("admin against admin: fork index %d (want %d); the lower hash did not win", idx, forkAt)
	}
	if _, err := Replay(w); err != nil {
		t.Fatal(err)
	}

	// Three concurrent branches: whatever the order in which a node meets
	// them, it ends with the one whose fork entry has the lowest hash.
	logs := map[[32]byte][][]byte{ha: a.s.Entries, hb: b.s.Entries, hc: c.s.Entries}
	lowest := slices.MinFunc([][32]byte{ha, hb, hc}, func(x, y [32]byte) int { return bytes.Compare(x[:], y[:]) })
	orders := [][3][32]byte{{ha, hb, hc}, {ha, hc, hb}, {hb, ha, hc}, {hb, hc, ha}, {hc, ha, hb}, {hc, hb, ha}}
	for _, o := range orders {
		cur := logs[o[0]]
		for _, next := range o[1:] {
			var err error
			if cur, _, err = ResolveFork(cur, logs[next]); err != nil {
				t.Fatal(err)
			}
		}
		if !sameLog(cur, logs[lowest]) {
			t.Fatal("pairwise resolution of three branches depends on the order")
		}
	}
}

func TestResolveForkInvalidBranch(t *testing.T) {
	f := newForkFixture(t)
	forkAt := f.tt.s.Len
	admin := f.revokeBranch(t, f.nga)

	// The owner's branch is preferred at the fork index, but an entry after
	// it is invalid: the admin's branch wins.
	owner := f.revokeBranch(t, f.fra)
	invalidAfter := append(slices.Clone(owner.s.Entries), owner.revoke(f.bra, newNonce(t))) // BRA is no admin
	w, idx := resolveBoth(t, invalidAfter, admin.s.Entries)
	if idx != forkAt || !sameLog(w, admin.s.Entries) {
		t.Fatalf("invalid preferred branch: fork index %d, admin's branch won: %v", idx, sameLog(w, admin.s.Entries))
	}

	// An entry that claims the owner as author without the owner's
	// signature does not win the fork either.
	forged := slices.Clone(owner.s.Entries)
	forged[forkAt] = slices.Clone(forged[forkAt])
	forged[forkAt][len(forged[forkAt])-1] ^= 1
	if w, _ = resolveBoth(t, forged, admin.s.Entries); !sameLog(w, admin.s.Entries) {
		t.Fatal("a forged owner's entry won the fork")
	}
	// Garbage at the fork index loses.
	garbage := append(slices.Clone(owner.s.Entries[:forkAt]), []byte("not an entry"))
	if w, _ = resolveBoth(t, garbage, admin.s.Entries); !sameLog(w, admin.s.Entries) {
		t.Fatal("an undecodable entry won the fork")
	}

	// Neither branch replays.
	if _, _, err := ResolveFork(invalidAfter, forged); err == nil || !strings.Contains(err.Error(), "neither log replays after the fork at index") {
		t.Fatalf("two invalid branches: %v", err)
	}
}

func TestResolveForkRejects(t *testing.T) {
	fra, nga := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA")
	a, b := newTestTopic(t, fra), newTestTopic(t, nga)
	if _, _, err := ResolveFork(a.s.Entries, b.s.Entries); err == nil || !strings.Contains(err.Error(), "different topics") {
		t.Fatalf("different genesis: %v", err)
	}
	if _, _, err := ResolveFork(nil, b.s.Entries); err == nil || !strings.Contains(err.Error(), "empty topic log") {
		t.Fatalf("empty log: %v", err)
	}
	// The same invalid genesis on both sides.
	g := slices.Clone(a.s.Entries[0])
	g[len(g)-1] ^= 1
	if _, _, err := ResolveFork([][]byte{g}, [][]byte{g}); err == nil || !strings.Contains(err.Error(), "do not replay") {
		t.Fatalf("invalid shared genesis: %v", err)
	}
}

// entryAt signs an entry by by at index i of s's log, written on the log
// as it was before i: a branch competing with s from index i.
func entryAt(t *testing.T, s *TopicState, i uint64, by testMember, typ string, fill func(before *TopicState, e *LogEntry)) []byte {
	t.Helper()
	before, err := Replay(s.Entries[:i])
	if err != nil {
		t.Fatal(err)
	}
	e := before.NextEntry(by.ID(), typ, t0.Add(time.Duration(i)*time.Minute+30*time.Second))
	fill(before, e)
	raw, err := SignEntry(by.id, e)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func revokeAt(t *testing.T, s *TopicState, i uint64, by testMember) []byte {
	return entryAt(t, s, i, by, EntryRevokeInvitation, func(_ *TopicState, e *LogEntry) {
		e.RevokeInvitation = &RevokeInvitation{Nonce: newNonce(t)}
	})
}

// TestForkEntryVerified checks that only a genuine competing entry, valid
// against the log as it stood at its index, is reported as a fork.
func TestForkEntryVerified(t *testing.T) {
	f := newForkFixture(t) // 0 genesis, 1 rotate, 2 add NGA (admin), 3 add DEU (admin), 4 add BRA
	tt := f.tt
	tt.mustApply(tt.revoke(f.fra, newNonce(t)))             // 5
	tt.mustApply(tt.remove(f.fra, f.nga.ID()))              // 6: NGA, an admin at 5, is removed
	tt.mustApply(tt.setRole(f.fra, f.deu.ID(), RoleMember)) // 7: DEU is an admin no more
	tt.mustApply(tt.revoke(f.fra, newNonce(t)))             // 8
	s := tt.s
	badSig := func(raw []byte) []byte {
		raw = slices.Clone(raw)
		raw[len(raw)-1] ^= 1 // the signature is the container's last field
		return raw
	}
	genuine := map[string][]byte{
		"owner's entry at index 2":              revokeAt(t, s, 2, f.fra),
		"admin's entry at index 5":              revokeAt(t, s, 5, f.deu),
		"entry by an admin since removed":       revokeAt(t, s, 5, f.nga),
		"entry by an admin since made a member": revokeAt(t, s, 6, f.deu),
		"member's leave": entryAt(t, s, 5, f.bra, EntryLeave, func(before *TopicState, e *LogEntry) {
			k, err := crypto.GenerateEpochKey(before.Epoch + 1)
			if err != nil {
				t.Fatal(err)
			}
			r, err := before.NewRotate(k, f.bra.ID())
			if err != nil {
				t.Fatal(err)
			}
			e.Leave = &Leave{Rotate: r, LastSeq: 2, LastID: lastEnvelopeID(f.bra.ID(), 2)}
		}),
	}
	invalid := []struct {
		name string
		raw  []byte
		want string
	}{
		{"forged entry at index 2 (bad signature)", badSig(revokeAt(t, s, 2, f.fra)), "signature does not verify with the signing key of author " + f.fra.ID()},
		{"entry by a member that is no admin", revokeAt(t, s, 5, f.bra), "author " + f.bra.ID() + " is not an admin"},
		{"entry by an admin not yet a member at that index", revokeAt(t, s, 3, f.deu), "author " + f.deu.ID() + " is not a member"},
		{"entry by a current member no longer an admin", revokeAt(t, s, 8, f.deu), "author " + f.deu.ID() + " is not an admin"},
		{"entry by an outsider", revokeAt(t, s, 5, newTestMember(t, "Outsider", "CAN")), "has never been a member of topic"},
		{"entry with a wrong prev", func() []byte {
			e, _ := DecodeEntry(revokeAt(t, s, 5, f.fra))
			e.Prev = bytes.Repeat([]byte{7}, 32)
			raw, _ := SignEntry(f.fra.id, &e.LogEntry)
			return raw
		}(), "is not the hash of entry 4"},
		{"entry invalid at its index (nonce already used)", entryAt(t, s, 5, f.fra, EntryAdd, func(_ *TopicState, e *LogEntry) {
			e.Add = &Add{Card: newTestMember(t, "Other", "DEU").card.Raw, Role: RoleMember, Nonce: mustEntry(t, s.Entries[4]).Add.Nonce, Key: []byte{1}}
		}), "was already used by entry 4"},
	}
	before := s.Clone()
	for name, raw := range genuine {
		if err := s.CheckForkEntry(raw); err != nil {
			t.Errorf("%s: CheckForkEntry = %v, want nil", name, err)
		}
		if err := s.Apply(raw); !errors.Is(err, ErrLogFork) {
			t.Errorf("%s: Apply = %v, want ErrLogFork", name, err)
		}
	}
	for _, c := range invalid {
		if err := s.CheckForkEntry(c.raw); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckForkEntry = %v, want an error containing %q", c.name, err, c.want)
		}
		err := s.Apply(c.raw)
		if errors.Is(err, ErrLogFork) || err == nil || !strings.Contains(err.Error(), "is not a valid alternative to it: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Apply = %v, want a plain error containing %q", c.name, err, c.want)
		}
	}
	if !reflect.DeepEqual(before, s) {
		t.Fatal("checking competing entries changed the state")
	}
	if err := s.CheckForkEntry(s.Entries[5]); !errors.Is(err, ErrDuplicateEntry) {
		t.Errorf("the log's own entry: %v, want ErrDuplicateEntry", err)
	}
	if err := s.CheckForkEntry(tt.revoke(f.fra, newNonce(t))); err == nil || !strings.Contains(err.Error(), "not a fork") {
		t.Errorf("the next entry: %v, want not a fork", err)
	}
	if err := s.CheckForkEntry(s.Entries[0]); err == nil || !strings.Contains(err.Error(), "genesis") {
		t.Errorf("the genesis: %v", err)
	}
	if err := s.CheckForkEntry([]byte("not an entry")); err == nil {
		t.Error("garbage accepted as a fork")
	}
}

func mustEntry(t *testing.T, raw []byte) *Entry {
	t.Helper()
	e, err := DecodeEntry(raw)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Two entries of the owner at the fork index: the lower hash wins, as
// between any two admins, however long the other branch.
func TestResolveForkOwnerAgainstOwner(t *testing.T) {
	f := newForkFixture(t)
	forkAt := f.tt.s.Len
	a := f.revokeBranch(t, f.fra)
	b := f.revokeBranch(t, f.fra)
	ha, hb := entryHash(t, a.s.Entries[forkAt]), entryHash(t, b.s.Entries[forkAt])
	lower, higher := a, b
	if bytes.Compare(hb[:], ha[:]) < 0 {
		lower, higher = b, a
	}
	higher.mustApply(higher.remove(f.fra, f.bra.ID()))
	w, idx := resolveBoth(t, lower.s.Entries, higher.s.Entries)
	if idx != forkAt || !sameLog(w, lower.s.Entries) {
		t.Fatalf("owner against owner: fork index %d (want %d); the lower hash did not win", idx, forkAt)
	}
}

// Two undecodable entries at the fork index: neither branch replays.
func TestResolveForkTwoGarbageBranches(t *testing.T) {
	f := newForkFixture(t)
	forkAt := len(f.tt.s.Entries)
	a := append(slices.Clone(f.tt.s.Entries), []byte("not an entry"))
	b := append(slices.Clone(f.tt.s.Entries), []byte("nor this"))
	for _, pair := range [][2][][]byte{{a, b}, {b, a}} {
		_, idx, err := ResolveFork(pair[0], pair[1])
		if err == nil || !strings.Contains(err.Error(), "neither log replays") || idx != uint64(forkAt) {
			t.Fatalf("two undecodable fork entries: fork index %d, %v", idx, err)
		}
	}
}

// An entry signed for another topic is no fork of this one, whatever
// index it names.
func TestForkEntryOfAnotherTopic(t *testing.T) {
	f := newForkFixture(t)
	s := f.tt.s
	e := mustEntry(t, revokeAt(t, s, 3, f.fra))
	e.Topic = bytes.Repeat([]byte{9}, 32)
	raw, err := SignEntry(f.fra.id, &e.LogEntry)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckForkEntry(raw); err == nil || !strings.Contains(err.Error(), "belongs to topic") {
		t.Fatalf("an entry of another topic: %v", err)
	}
}
