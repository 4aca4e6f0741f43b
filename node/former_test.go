package node

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/concordnet/concord/node/store"
)

// A member removed while cut off from the remover keeps publishing, and a
// member on its side of the partition accepts what it publishes (chaos
// defect 1 in docs/reliability.md). When the removal reaches that member,
// everything the former member published beyond the pinned seq goes: the
// new bulletin, the revision (the earlier version is back) and the
// revocation (the bulletin is readable again), and both members hold the
// same log and list the same bulletins.
func TestRemovalDropsWhatTheMemberPublishedUnseen(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "arms-trafficking")
	a, b, c := nodes[0], nodes[1], nodes[2]
	kept := publish(t, c, id, draft("revised while cut off"))
	gone := publish(t, c, id, draft("revoked while cut off"))
	for _, n := range []*Node{a, b} {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" misses c's first bulletins", func() bool {
			return readable(n, kept.ID) && readable(n, gone.ID)
		})
	}

	heal := partition(t, []*Node{a}, []*Node{b, c})
	late := publish(t, c, id, draft("published after the removal"))
	if _, err := c.Revise(ctx, kept.ID, draft("version 2, after the removal")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Revoke(ctx, gone.ID, "after the removal"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "b never took c's envelopes", func() bool {
		r1, err1 := b.store.Bulletin(kept.ID)
		r2, err2 := b.store.Bulletin(gone.ID)
		return readable(b, late.ID) && err1 == nil && r1.Version == 2 && err2 == nil && r2.Revoked
	})
	next, _, err := a.remove(ctx, a.topicByID(id), c.id.MemberID(), "suspended")
	if err != nil {
		t.Fatal(err)
	}
	if pin := next.LastSeqs[c.id.MemberID()]; pin != 2 {
		t.Fatalf("the removal pins seq %d, want 2", pin)
	}
	heal()

	eventually(t, 30*time.Second, "b still holds what c published after the removal", func() bool {
		_, err := b.store.Bulletin(late.ID)
		return errors.Is(err, store.ErrNotFound)
	})
	ab := []*Node{a, b}
	waitConverged(t, ab, id, 30*time.Second)
	if la, lb := listing(t, a, id), listing(t, b, id); !slices.Equal(la, lb) {
		t.Fatalf("a lists %v, b lists %v", la, lb)
	}
	rec, err := b.store.Bulletin(kept.ID)
	if err != nil || rec.Version != 1 || !readable(b, kept.ID) || len(rec.History) != 1 {
		t.Fatalf("b's record of the revised bulletin: version %d, %d history entries, err %v; want version 1 alone", rec.Version, len(rec.History), err)
	}
	if rec, err := b.store.Bulletin(gone.ID); err != nil || rec.Revoked || !readable(b, gone.ID) {
		t.Fatalf("b's record of the revoked bulletin: revoked %v, err %v; want it readable again", rec.Revoked, err)
	}
	if held, err := b.store.HasSeq(id, c.id.MemberID(), 3); err != nil || held {
		t.Fatalf("b still holds c's seq 3 (err %v)", err)
	}
	if count, _, err := b.store.AuthorUsage(id, c.id.MemberID()); err != nil || count != 2 {
		t.Fatalf("b counts %d envelopes of c, want 2 (err %v)", count, err)
	}
	for _, word := range []string{"published", "after"} {
		hits, err := b.store.Search(store.TextQuery{Words: []string{word}})
		if err != nil || slices.ContainsFunc(hits, func(h store.Hit) bool { return h.Record.ID == late.ID }) {
			t.Fatalf("b's search for %q still finds the dropped bulletin (err %v)", word, err)
		}
	}
	// The former member's own node keeps its chain.
	if held, err := c.store.HasSeq(id, c.id.MemberID(), 5); err != nil || !held {
		t.Fatalf("c dropped its own seq 5 (err %v)", err)
	}
}
