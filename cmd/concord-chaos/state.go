package main

import (
	"sync"
	"time"
)

// state is what the harness knows of memberships and of each node's own
// bulletins, to choose operations and to tell the checker who is
// entitled to what.
type state struct {
	mu      sync.Mutex
	topics  []*topicState
	own     map[int][]*op     // per node: its acknowledged publications
	revoked map[int]bool      // publish op number → an acknowledged revocation
	backups map[int]string    // per node: its latest backup file
	taken   map[int]time.Time // per node: when its latest backup began
	// restores lists each node restored from a backup: what it signed
	// after the backup began and nobody else received is lost with its
	// disk, as an operator who restores accepts.
	restores []restoreRec
}

// restoreRec is one restore of a node from a backup begun at snapshot.
type restoreRec struct {
	node     int
	snapshot time.Time
	at       time.Time
}

// topicState is one topic's memberships as the harness made them.
type topicState struct {
	ID, Name string
	joined   map[int]time.Time // node → when its join was acknowledged (founders: the setup)
	// joinEpoch: node → the topic's epoch when it joined, for the nodes
	// invited during the run (founders hold every epoch).
	joinEpoch map[int]uint64
	removed   map[int]time.Time // node → when its removal was acknowledged
	doubt     map[int]bool      // an invite, join or removal of unknown outcome
	tried     map[int]bool      // invited at least once
}

func newState() *state {
	return &state{own: map[int][]*op{}, revoked: map[int]bool{}, backups: map[int]string{}, taken: map[int]time.Time{}}
}

func newTopic(id, name string) *topicState {
	return &topicState{ID: id, Name: name, joined: map[int]time.Time{}, joinEpoch: map[int]uint64{},
		removed: map[int]time.Time{}, doubt: map[int]bool{}, tried: map[int]bool{}}
}

// member reports whether node i is surely a member of t now.
func (t *topicState) member(i int) bool {
	_, in := t.joined[i]
	_, out := t.removed[i]
	return in && !out && !t.doubt[i]
}

// members lists the sure members of t.
func (s *state) members(t *topicState) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range t.joined {
		if t.member(i) {
			out = append(out, i)
		}
	}
	return sortInts(out)
}

// topicsOf lists the topics node i ever joined: a removed node keeps
// trying to publish on them, and must be refused.
func (s *state) topicsOf(i int) []*topicState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*topicState
	for _, t := range s.topics {
		if _, ok := t.joined[i]; ok {
			out = append(out, t)
		}
	}
	return out
}

func sortInts(s []int) []int {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
