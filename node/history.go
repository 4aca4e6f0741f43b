package node

import (
	"context"
	"slices"
	"strings"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// checkHistory checks a history policy a user gives; empty is left as
// it is (the default, or no override).
func checkHistory(h string) error {
	if h != "" && !slices.Contains(protocol.Histories, h) {
		return api.Errorf(api.Invalid, "history %q is not a policy: use %s", h, strings.Join(protocol.Histories, ", "))
	}
	return nil
}

// storedPolicyHistory is h as a genesis policy stores it: the default is
// absent.
func storedPolicyHistory(h string) string {
	if h == protocol.HistoryCurrentEpoch {
		return ""
	}
	return h
}

// grantAdd fills the add entry admitting card under history h (an
// invitation's override, else the topic's policy): with from-join it
// starts a new epoch, whose key it returns; with all it wraps to the
// newcomer the most recent earlier epochs this node holds keys of, up to
// protocol.MaxPastKeys.
//
// A former member invited back under current-epoch is granted from-join:
// the current epoch began with or after its removal, and it reads none of
// the epochs it was excluded from unless an admin grants it all.
func grantAdd(s *protocol.TopicState, keys map[uint64]*crypto.EpochKey, add *protocol.Add, card *crypto.Card, h string) (*crypto.EpochKey, error) {
	if _, _, former := s.FormerChain(card.ID); former && h == protocol.HistoryCurrentEpoch {
		h = protocol.HistoryFromJoin
	}
	add.History = storedPolicyHistory(h)
	key := keys[s.Epoch]
	var newKey *crypto.EpochKey
	if h == protocol.HistoryFromJoin {
		k, err := nextKey(s)
		if err != nil {
			return nil, err
		}
		r, err := s.NewRotate(k, "")
		if err != nil {
			return nil, err
		}
		add.Rotate, key, newKey = &r, k, k
	}
	wrapped, err := crypto.WrapEpochKey(key, card.Recipient())
	if err != nil {
		return nil, err
	}
	add.Key = wrapped
	if h == protocol.HistoryAll {
		add.Past, err = pastKeys(s, keys, card)
	}
	return newKey, err
}

// pastKeys wraps to card the keys of the epochs before the current one
// that this node holds, the most recent protocol.MaxPastKeys of them.
func pastKeys(s *protocol.TopicState, keys map[uint64]*crypto.EpochKey, card *crypto.Card) ([]protocol.PastKey, error) {
	var past []protocol.PastKey
	for e := s.Epoch - 1; e >= 1 && len(past) < protocol.MaxPastKeys; e-- {
		k := keys[e]
		if k == nil {
			continue // an epoch before this member joined, or not granted to it
		}
		wrapped, err := crypto.WrapEpochKey(k, card.Recipient())
		if err != nil {
			return nil, err
		}
		past = append(past, protocol.PastKey{Epoch: e, Key: wrapped})
	}
	slices.Reverse(past)
	return past, nil
}

// setHistory changes a topic's history policy (any admin).
func (n *Node) setHistory(ctx context.Context, t *topic, h string) (*protocol.TopicState, error) {
	s, _ := t.snapshot()
	if err := n.requireAdmin(s, "change its history policy"); err != nil {
		return nil, err
	}
	if err := checkHistory(h); err != nil || h == "" {
		return nil, api.Errorf(api.Invalid, "history %q is not a policy: use %s", h, strings.Join(protocol.Histories, ", "))
	}
	if s.HistoryOf() == h {
		return nil, api.Errorf(api.Conflict, "topic %q already has history policy %s: nothing to change", s.Name, h)
	}
	return n.writeEntry(ctx, t, protocol.EntryPolicy, nil, func(_ *protocol.TopicState, e *protocol.LogEntry) error {
		e.Policy = &protocol.PolicyChange{History: h}
		return nil
	})
}
