package protocol

import (
	"bytes"
	"fmt"
)

// CheckForkEntry checks that raw is a genuine competing entry: a valid
// entry, different from the one the log holds at its index, that would
// have been accepted at that index had it arrived first. Only then may it
// start fork resolution (ResolveFork); an unsigned or unauthorised entry
// is not a fork, however it names its index. It returns nil for a genuine
// competing entry, an error wrapping ErrDuplicateEntry for the entry the
// log already holds, and otherwise an error saying what is wrong.
//
// Cost: a decode and one signature verification to refuse what is not
// signed by someone who was ever a member; past that, one replay of the
// log up to the entry's index (stateAt), so only a member's key can make
// a node pay for a replay.
func (s *TopicState) CheckForkEntry(raw []byte) error {
	e, err := DecodeEntry(raw)
	if err != nil {
		return err
	}
	switch {
	case e.Type == EntryGenesis:
		return fmt.Errorf("log entry 0: a genesis entry cannot compete with another: it makes a different topic")
	case e.Index >= s.Len:
		return fmt.Errorf("log entry %d: not a fork: the log of topic %s holds entries 0 to %d only", e.Index, s.ID.Short(), s.Len-1)
	case bytes.Equal(e.Raw, s.Entries[e.Index]):
		return fmt.Errorf("log entry %d: %w", e.Index, ErrDuplicateEntry)
	}
	if err := s.checkFork(e); err != nil {
		return fmt.Errorf("log entry %d: not a valid alternative to the entry topic %s holds at that index: %w", e.Index, s.ID.Short(), err)
	}
	return nil
}

// checkFork checks e, a non-genesis entry whose index 1 ≤ i < Len the log
// holds with other bytes, against the state as it was before index i.
func (s *TopicState) checkFork(e *Entry) error {
	if !bytes.Equal(e.Topic, s.ID[:]) {
		return fmt.Errorf("belongs to topic %x…, not %s", e.Topic[:6], s.ID.Short())
	}
	if prev, _ := s.EntryHash(e.Index - 1); !bytes.Equal(e.Prev, prev[:]) {
		return fmt.Errorf("prev %x… is not the hash of entry %d (%x…)", e.Prev[:6], e.Index-1, prev[:6])
	}
	// Cheap filter before the replay. A member ID is the hash of the
	// member's signing key, so every card a member ever had carries the
	// same key, and the latest one (kept for past members too) verifies
	// whatever the author could sign at index i.
	card := s.Card(e.Author)
	if card == nil {
		return fmt.Errorf("author %s has never been a member of topic %s", e.Author, s.ID.Short())
	}
	if err := verifyEntrySig(card, e); err != nil {
		return err
	}
	before, err := s.stateAt(e.Index)
	if err != nil {
		return err
	}
	return before.check(e, false) // signature verified above
}

// stateAt rebuilds the state as it was when the log held its first n
// entries (1 ≤ n ≤ Len). Those entries were verified when s accepted them,
// so their signatures are not verified again; every other rule is rerun,
// as commit relies on them. The genesis entry's signature is (NewTopicState).
func (s *TopicState) stateAt(n uint64) (*TopicState, error) {
	st, err := NewTopicState(s.Entries[0])
	if err != nil {
		return nil, fmt.Errorf("replaying the log of topic %s: %w", s.ID.Short(), err)
	}
	for _, raw := range s.Entries[1:n] {
		e, err := DecodeEntry(raw)
		if err == nil {
			err = st.check(e, false)
		}
		if err != nil {
			return nil, fmt.Errorf("replaying the log of topic %s: entry %d no longer applies: %w", s.ID.Short(), st.Len, err)
		}
		st.commit(e)
	}
	return st, nil
}
