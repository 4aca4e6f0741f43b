package protocol

import (
	"fmt"
	"slices"
)

// History policies: what a member that joins may read of what was
// published before it joined.
const (
	// HistoryFromJoin: nothing. Its add entry starts a new epoch.
	HistoryFromJoin = "from-join"
	// HistoryCurrentEpoch: the epoch current when it joins (the default,
	// and the only behaviour before the policy existed).
	HistoryCurrentEpoch = "current-epoch"
	// HistoryAll: every earlier epoch too, whose keys its add entry wraps
	// to it (up to MaxPastKeys of them).
	HistoryAll = "all"
)

// Histories lists the history policies.
var Histories = []string{HistoryFromJoin, HistoryCurrentEpoch, HistoryAll}

// MaxPastKeys bounds the earlier epochs an add entry wraps to a new member
// (about 1.8 KB each), so that the entry stays well within
// MaxLogEntryBytes. Past it, the writer wraps the most recent ones: the
// oldest epochs stay closed to the new member.
const MaxPastKeys = 100

// PolicyChange sets a topic's history policy. Any admin writes it.
type PolicyChange struct {
	History string `cbor:"history"` // one of Histories, always explicit
}

// PastKey is an earlier epoch's identity wrapped to a new member.
type PastKey struct {
	Epoch uint64 `cbor:"epoch"`
	Key   []byte `cbor:"key"`
}

// EffectiveHistory is the policy a stored value means: absent is the
// default.
func EffectiveHistory(stored string) string {
	if stored == "" {
		return HistoryCurrentEpoch
	}
	return stored
}

// storedHistory is how a policy is stored where the default is absent.
func storedHistory(h string) string {
	if h == HistoryCurrentEpoch {
		return ""
	}
	return h
}

// checkHistory checks a history field. Where the default is encoded as
// absence (genesis policy, add), it must not be spelled out: one encoding
// per value.
func checkHistory(field, h string, explicit bool) error {
	switch {
	case explicit && !slices.Contains(Histories, h):
		return fieldErr(field, "%q is not a history policy (want %q, %q or %q)", clip(h), HistoryFromJoin, HistoryCurrentEpoch, HistoryAll)
	case !explicit && h == HistoryCurrentEpoch:
		return fieldErr(field, "%q is the default and must be absent", h)
	case !explicit && h != "" && !slices.Contains(Histories, h):
		return fieldErr(field, "%q is not a history policy (want %q or %q, or absent for %q)", clip(h), HistoryFromJoin, HistoryAll, HistoryCurrentEpoch)
	}
	return nil
}

// checkAddHistory checks an add's history fields without the log: rotate
// exactly with from-join, past only with all, sorted and bounded.
func checkAddHistory(a *Add) error {
	if err := checkHistory("add.history", a.History, false); err != nil {
		return err
	}
	if (a.History == HistoryFromJoin) != (a.Rotate != nil) {
		return fieldErr("add.rotate", "must be present exactly when add.history is %q", HistoryFromJoin)
	}
	if a.Rotate != nil {
		if err := checkRotate("add.rotate", a.Rotate); err != nil {
			return err
		}
	}
	if len(a.Past) > 0 && a.History != HistoryAll {
		return fieldErr("add.past", "must be absent unless add.history is %q", HistoryAll)
	}
	if len(a.Past) > MaxPastKeys {
		return fieldErr("add.past", "wraps %d epochs, at most %d allowed", len(a.Past), MaxPastKeys)
	}
	for i, k := range a.Past {
		f := fmt.Sprintf("add.past[%d]", i)
		if k.Epoch == 0 || (i > 0 && k.Epoch <= a.Past[i-1].Epoch) {
			return fieldErr(f+".epoch", "epochs must be ≥ 1 and strictly ascending (%d)", k.Epoch)
		}
		if err := checkWrappedKey(f+".key", k.Key); err != nil {
			return err
		}
	}
	return nil
}

// checkAddHistory checks an add's history against the log: a from-join
// rotate starts the next epoch for the current members (the new member
// gets its key in add.key); past keys are of epochs before the current.
func (s *TopicState) checkAddHistory(a *Add) error {
	if a.Rotate != nil {
		if err := s.checkRotate(a.Rotate, s.CurrentMembers()); err != nil {
			return fmt.Errorf("add with history %q: %w", HistoryFromJoin, err)
		}
	}
	if n := len(a.Past); n > 0 && a.Past[n-1].Epoch >= s.Epoch {
		return fmt.Errorf("add wraps past epoch %d, but the current epoch is %d: its key is add.key", a.Past[n-1].Epoch, s.Epoch)
	}
	return nil
}

// checkPolicy checks a policy entry: its author is an admin (checked with
// every entry but leave), and it changes something.
func (s *TopicState) checkPolicy(e *Entry) error {
	if storedHistory(e.Policy.History) == s.Policy.History {
		return fmt.Errorf("topic %s already has history policy %q", s.ID.Short(), e.Policy.History)
	}
	return nil
}

// HistoryOf returns the history policy in force.
func (s *TopicState) HistoryOf() string { return EffectiveHistory(s.Policy.History) }
