package node

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budgets bound what one author may make this node store on one topic:
// a token bucket of envelopes and one of bytes, refilled with time, on
// gossip and sync alike, checked once the envelope's outer signature is
// known good and before it is decrypted. What exceeds them is refused and
// counted; sync stops asking for that author's envelopes until the next
// sync, when the buckets have refilled. The store's per-author quota
// bounds the total (see store.SetAuthorQuota).
type budgets struct {
	cfg LimitsConfig
	now func() time.Time

	mu      sync.Mutex
	buckets map[budgetKey]*bucket
}

type budgetKey struct {
	topic  [32]byte
	author string
}

type bucket struct {
	count, bytes *rate.Limiter
	refused      uint64
}

// errBudget reports an envelope beyond its author's budget.
var errBudget = errors.New("over the author's budget")

func newBudgets(cfg LimitsConfig) *budgets {
	return &budgets{cfg: cfg, now: time.Now, buckets: map[budgetKey]*bucket{}}
}

// reset replaces the limits and forgets every bucket (tests change a
// running node's limits with it).
func (b *budgets) reset(cfg LimitsConfig) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg, b.buckets = cfg, map[budgetKey]*bucket{}
}

// allow takes one envelope of size bytes from author's budget on topic,
// or refuses it with an error wrapping errBudget.
func (b *budgets) allow(topic [32]byte, author string, size int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := budgetKey{topic, author}
	bk := b.buckets[k]
	if bk == nil {
		bk = &bucket{
			count: rate.NewLimiter(rate.Limit(b.cfg.AuthorRate), b.cfg.AuthorBurst),
			bytes: rate.NewLimiter(rate.Limit(b.cfg.AuthorKiBPerSecond*1024), b.cfg.AuthorBurstMiB<<20),
		}
		b.buckets[k] = bk
	}
	now := b.now()
	// Both buckets are taken from together or not at all.
	rc := bk.count.ReserveN(now, 1)
	if !rc.OK() || rc.DelayFrom(now) > 0 {
		rc.CancelAt(now)
		bk.refused++
		return fmt.Errorf("%w: author %s sent more than %d envelopes at once, or more than %.2f a second, on this topic", errBudget, author, b.cfg.AuthorBurst, b.cfg.AuthorRate)
	}
	rb := bk.bytes.ReserveN(now, size)
	if !rb.OK() || rb.DelayFrom(now) > 0 {
		rb.CancelAt(now)
		rc.CancelAt(now)
		bk.refused++
		return fmt.Errorf("%w: author %s sent more than %d MiB at once, or more than %d KiB a second, on this topic", errBudget, author, b.cfg.AuthorBurstMiB, b.cfg.AuthorKiBPerSecond)
	}
	return nil
}

// Refusal counts the envelopes refused from one author on one topic.
type Refusal struct {
	Author  string
	Refused uint64
}

// refusals lists, for topic, the authors whose envelopes were refused
// for their budget, most refused first.
func (b *budgets) refusals(topic [32]byte) []Refusal {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Refusal
	for k, bk := range b.buckets {
		if k.topic == topic && bk.refused > 0 {
			out = append(out, Refusal{k.author, bk.refused})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Refused > out[j].Refused })
	return out
}
