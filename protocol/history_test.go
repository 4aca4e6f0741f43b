package protocol

import (
	"strings"
	"testing"

	"github.com/concordnet/concord/crypto"
)

// addWith has by add m with a history grant, as an inviter's node does:
// from-join rotates first, all wraps every earlier epoch.
func (tt *testTopic) addWith(by, m testMember, history string) []byte {
	tt.t.Helper()
	a := Add{Card: m.card.Raw, Role: RoleMember, Nonce: newNonce(tt.t), History: storedHistory(history)}
	epoch := tt.s.Epoch
	if history == HistoryFromJoin {
		r := tt.nextRotate("")
		a.Rotate, epoch = &r, r.Epoch
	}
	a.Key = tt.wrap(epoch, m)
	if history == HistoryAll {
		for e := uint64(1); e < epoch; e++ {
			a.Past = append(a.Past, PastKey{Epoch: e, Key: tt.wrap(e, m)})
		}
	}
	return tt.entry(by, EntryAdd, func(e *LogEntry) { e.Add = &a })
}

func (tt *testTopic) wrap(epoch uint64, m testMember) []byte {
	tt.t.Helper()
	k, err := crypto.WrapEpochKey(tt.keys[epoch], m.card.Recipient())
	if err != nil {
		tt.t.Fatal(err)
	}
	return k
}

func (tt *testTopic) setHistory(by testMember, h string) []byte {
	return tt.entry(by, EntryPolicy, func(e *LogEntry) { e.Policy = &PolicyChange{History: h} })
}

func TestHistoryGrants(t *testing.T) {
	fra, nga := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA")
	bra, deu, esp := newTestMember(t, "Policia Federal", "BRA"), newTestMember(t, "BKA", "DEU"), newTestMember(t, "Policia", "ESP")
	tt := newTestTopic(t, fra)
	tt.mustApply(tt.addWith(fra, nga, HistoryCurrentEpoch))
	tt.mustApply(tt.rotate(fra, ""))
	tt.mustApply(tt.rotate(fra, "")) // epoch 3

	// all: every earlier epoch's key, but no right to publish there.
	tt.mustApply(tt.addWith(fra, bra, HistoryAll))
	for e := uint64(1); e <= 3; e++ {
		tt.unwrapFor(bra, e)
	}
	if tt.s.MemberAt(bra.ID(), 2) || !tt.s.MemberAt(bra.ID(), 3) {
		t.Fatal("a history grant made the member a member of a past epoch")
	}
	// from-join: a new epoch, for the members before and the new one.
	tt.mustApply(tt.addWith(fra, deu, HistoryFromJoin))
	if tt.s.Epoch != 4 || tt.s.WrappedKeyFor(deu.ID(), 3) != nil {
		t.Fatalf("from-join left epoch %d, key of epoch 3 to the newcomer: %v", tt.s.Epoch, tt.s.WrappedKeyFor(deu.ID(), 3) != nil)
	}
	tt.unwrapFor(deu, 4)
	for _, m := range []testMember{fra, nga, bra} {
		tt.unwrapFor(m, 4)
	}
	// current-epoch: the current epoch only.
	tt.mustApply(tt.addWith(fra, esp, HistoryCurrentEpoch))
	if tt.s.WrappedKeyFor(esp.ID(), 3) != nil {
		t.Fatal("current-epoch gave a past key")
	}
	// The log replays to the same state, grants included.
	again, err := Replay(tt.s.Entries)
	if err != nil || again.Epoch != 4 || again.WrappedKeyFor(bra.ID(), 1) == nil {
		t.Fatalf("replay: %v", err)
	}
}

func TestHistoryPolicyEntry(t *testing.T) {
	fra, nga := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA")
	tt := newTestTopic(t, fra)
	tt.admit(fra, RoleMember, nga)
	if tt.s.HistoryOf() != HistoryCurrentEpoch {
		t.Fatalf("default history %q", tt.s.HistoryOf())
	}
	if err := tt.s.Apply(tt.setHistory(nga, HistoryAll)); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("a plain member changed the history policy: %v", err)
	}
	if err := tt.s.Apply(tt.setHistory(fra, HistoryCurrentEpoch)); err == nil {
		t.Fatal("a policy entry that changes nothing was applied")
	}
	tt.mustApply(tt.setHistory(fra, HistoryAll))
	if tt.s.HistoryOf() != HistoryAll {
		t.Fatalf("history is %q after the policy entry", tt.s.HistoryOf())
	}
	tt.mustApply(tt.setRole(fra, nga.ID(), RoleAdmin))
	tt.mustApply(tt.setHistory(nga, HistoryCurrentEpoch)) // any admin
	if tt.s.Policy.History != "" {
		t.Fatalf("current-epoch is stored as %q, not absent", tt.s.Policy.History)
	}
}

func TestHistoryFieldsChecked(t *testing.T) {
	fra, nga := newTestMember(t, "DCPJ", "FRA"), newTestMember(t, "NDLEA", "NGA")
	tt := newTestTopic(t, fra)
	tt.mustApply(tt.rotate(fra, ""))
	good := func() *Add {
		return &Add{Card: nga.card.Raw, Role: RoleMember, Nonce: newNonce(t), Key: tt.wrap(2, nga)}
	}
	r := tt.nextRotate("")
	for name, a := range map[string]func(*Add){
		"explicit default":      func(a *Add) { a.History = HistoryCurrentEpoch },
		"unknown history":       func(a *Add) { a.History = "everything" },
		"rotate without join":   func(a *Add) { a.Rotate = &r },
		"from-join sans rotate": func(a *Add) { a.History = HistoryFromJoin },
		"past without all":      func(a *Add) { a.Past = []PastKey{{Epoch: 1, Key: []byte{1}}} },
		"past unsorted":         func(a *Add) { a.History, a.Past = HistoryAll, []PastKey{{2, []byte{1}}, {1, []byte{1}}} },
		"past epoch 0":          func(a *Add) { a.History, a.Past = HistoryAll, []PastKey{{0, []byte{1}}} },
		"past too many":         func(a *Add) { a.History, a.Past = HistoryAll, make([]PastKey, MaxPastKeys+1) },
		"past key empty":        func(a *Add) { a.History, a.Past = HistoryAll, []PastKey{{1, nil}} },
	} {
		add := good()
		a(add)
		e := tt.s.NextEntry(fra.ID(), EntryAdd, tt.now)
		e.Add = add
		if _, err := SignEntry(fra.id, e); err == nil {
			t.Errorf("%s: signed and decoded", name)
		}
	}
	// Against the log: a past key of the current epoch, a stale rotate.
	add := good()
	add.History, add.Past = HistoryAll, []PastKey{{2, tt.wrap(2, nga)}}
	if err := tt.s.Apply(tt.entry(fra, EntryAdd, func(e *LogEntry) { e.Add = add })); err == nil {
		t.Fatal("an add wrapping the current epoch as a past one was applied")
	}
	bad := r
	bad.Epoch = 5
	add = good()
	add.History, add.Rotate = HistoryFromJoin, &bad
	if err := tt.s.Apply(tt.entry(fra, EntryAdd, func(e *LogEntry) { e.Add = add })); err == nil {
		t.Fatal("a from-join add with a rotate to a wrong epoch was applied")
	}
	// Genesis spells the default as absence.
	if _, err := NewGenesis(fra.id, fra.card, "drug-trafficking", "x", Policy{History: HistoryCurrentEpoch}, t0); err == nil {
		t.Fatal("a genesis spelling out the default history was signed")
	}
	if _, err := NewGenesis(fra.id, fra.card, "drug-trafficking", "x", Policy{History: HistoryAll}, t0); err != nil {
		t.Fatal(err)
	}
}
