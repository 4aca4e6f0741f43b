package node

import (
	"time"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// retentionInterval is how often the daemon applies retention; a bulletin
// outlives its limit by at most this much.
const retentionInterval = 10 * time.Minute

// retentionLoop applies retention once at start, then periodically.
func (n *Node) retentionLoop() {
	for {
		erased, err := n.RunRetention(n.now())
		switch {
		case err != nil && n.ctx.Err() == nil:
			n.log.Error("retention", "err", err, "erased", erased)
		case erased > 0:
			n.log.Info("retention erased expired bulletins", "erased", erased)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(retentionInterval):
		}
	}
}

// RunRetention erases locally, as of now, every bulletin past its
// valid_until or older (since created) than its topic's max_age_days, and
// returns how many it erased. Each becomes a tombstone: its decrypted
// content and index entries go; its envelope, author-log position and
// record stay, so that sync never fetches it again.
func (n *Node) RunRetention(now time.Time) (int, error) {
	limits := map[[32]byte]time.Duration{}
	for _, t := range n.allTopics() {
		s, _ := t.snapshot()
		limits[s.ID] = maxAge(s.Policy)
	}
	return n.store.Expire(n.ctx, now.UTC(), limits)
}

// retainOnArrival erases at once the content of an envelope that arrives
// already past retention (a member catching up on an old topic): it is
// stored as the tombstone the retention job would make of it.
func retainOnArrival(rec *store.BulletinRecord, p protocol.Policy, now time.Time) {
	if rec != nil && rec.Due(now, maxAge(p)) {
		rec.Expire(now)
	}
}

// maxAge is a policy's age limit; 0 means none.
func maxAge(p protocol.Policy) time.Duration {
	return time.Duration(p.MaxAgeDays) * 24 * time.Hour
}
