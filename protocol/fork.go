package protocol

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrLogFork reports a different entry at an index the log already holds:
// two admins wrote concurrently. ResolveFork decides which branch stays.
var ErrLogFork = errors.New("log fork")

// PreferredEntry chooses between two different entries at the same index
// of the same log, so that every node settles on the same branch: the
// owner's entry wins, otherwise the one with the lower hash (compared as
// bytes). It looks only at the entries' authors and hashes, not at their
// validity; ResolveFork applies it to whole branches.
func PreferredEntry(a, b *Entry, owner string) *Entry {
	if (a.Author == owner) != (b.Author == owner) {
		if a.Author == owner {
			return a
		}
		return b
	}
	if bytes.Compare(a.Hash[:], b.Hash[:]) <= 0 {
		return a
	}
	return b
}

// ResolveFork decides between two copies of one topic log that disagree,
// so that every node ends with the same log. ours and theirs hold raw
// entries, genesis first; they must start with the same genesis entry.
//
// The rule:
//
//  1. The fork index is the first index at which the two logs hold
//     different entries (different bytes, hence different hashes).
//  2. If there is no such index, one log is a prefix of the other and
//     there is no conflict: the longer log is preferred, and the fork
//     index is the length of the shorter one.
//  3. Otherwise the preferred log is the one whose entry at the fork index
//     PreferredEntry chooses: the entry whose author is the topic's owner
//     if exactly one of the two is, else the entry with the lower SHA-256
//     hash, compared byte by byte. Only those two entries count: what
//     follows them on either branch, and how long each branch is, does
//     not.
//  4. The preferred log wins if it replays from its genesis (Replay: every
//     entry valid in turn). Otherwise the other log wins if it replays; if
//     neither does, ResolveFork returns an error.
//
// The rule is deterministic and depends only on the two logs, not on which
// one is ours nor on when or where they are compared, so every node that
// sees both converges on the same log. Among logs that replay it is a total
// order (entries compared position by position, owner's first and then by
// hash, a log ranking above its own prefixes), so comparing any number of
// logs pairwise, in any order, ends with the same winner. The entries of
// the losing log from the fork index on are discarded together with all
// they did (members added or removed, roles changed, epochs started,
// invitations used or revoked): a node that held them rebuilds its state by
// replaying the winner, and their authors may re-issue them as new entries
// on top of the winning log.
//
// winner is ours or theirs itself, not a copy.
func ResolveFork(ours, theirs [][]byte) (winner [][]byte, forkIndex uint64, err error) {
	if len(ours) == 0 || len(theirs) == 0 {
		return nil, 0, errors.New("cannot resolve a fork with an empty topic log: a log holds at least its genesis entry")
	}
	if !bytes.Equal(ours[0], theirs[0]) {
		a, b := TopicID(sha256.Sum256(ours[0])), TopicID(sha256.Sum256(theirs[0]))
		return nil, 0, fmt.Errorf("the two logs belong to different topics (%s and %s): their genesis entries differ", a.Short(), b.Short())
	}
	n := min(len(ours), len(theirs))
	i := 1
	for i < n && bytes.Equal(ours[i], theirs[i]) {
		i++
	}
	forkIndex = uint64(i)
	// Replay the common entries once; each branch continues from a clone.
	base, err := Replay(ours[:i])
	if err != nil {
		return nil, forkIndex, fmt.Errorf("the entries the two logs share do not replay: %w", err)
	}
	theirsFirst := len(theirs) > len(ours) // rule 2
	if i < n {
		theirsFirst = theirsPreferred(ours[i], theirs[i], base.Owner) // rule 3
	}
	errOurs, errTheirs := errNotTried, errNotTried
	if theirsFirst {
		if errTheirs = replayBranch(base, theirs[i:]); errTheirs == nil {
			return theirs, forkIndex, nil
		}
	}
	if errOurs = replayBranch(base, ours[i:]); errOurs == nil {
		return ours, forkIndex, nil
	}
	if !theirsFirst {
		if errTheirs = replayBranch(base, theirs[i:]); errTheirs == nil {
			return theirs, forkIndex, nil
		}
	}
	return nil, forkIndex, fmt.Errorf("neither log replays after the fork at index %d: ours: %v; theirs: %v", forkIndex, errOurs, errTheirs)
}

var errNotTried = errors.New("not tried")

// theirsPreferred reports whether PreferredEntry chooses theirs over ours,
// two different raw entries at the fork index. An entry that does not even
// decode loses: its branch cannot replay.
func theirsPreferred(ours, theirs []byte, owner string) bool {
	eo, errO := DecodeEntry(ours)
	et, errT := DecodeEntry(theirs)
	switch {
	case errO != nil || errT != nil:
		return errO != nil && errT == nil
	default:
		return PreferredEntry(eo, et, owner) == et
	}
}

// replayBranch applies entries to a clone of base.
func replayBranch(base *TopicState, entries [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	s := base.Clone()
	for _, raw := range entries {
		if err := s.Apply(raw); err != nil {
			return err
		}
	}
	return nil
}

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
