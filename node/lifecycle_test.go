package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// record returns n's record of bulletin id (zero if none).
func record(n *Node, id string) store.BulletinRecord {
	rec, _ := n.store.Bulletin(id)
	return rec
}

// show fetches bulletin id through n's API, as the CLI does.
func show(t *testing.T, n *Node, id string) api.Bulletin {
	t.Helper()
	b, err := api.NewClient(string(n.home), n.home.Socket()).Bulletin(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRevisionReachesEveryMember(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "drug-trafficking")
	a, b := nodes[0], nodes[1]
	orig := publish(t, a, id, draft("first take"))
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" misses the bulletin", func() bool { return readable(n, orig.ID) })
	}
	rec, err := a.Revise(ctx, orig.ID, draft("second take"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != orig.ID || rec.Version != 2 || rec.Kind != protocol.KindRevision {
		t.Fatalf("revision: id %s version %d kind %s", rec.ID, rec.Version, rec.Kind)
	}
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" does not hold version 2", func() bool {
			r := record(n, orig.ID)
			return r.Version == 2 && len(r.History) == 2
		})
		v := show(t, n, orig.ID)
		if v.Content.Title != "second take" || v.Version != 2 || len(v.History) != 2 || v.History[0].Version != 1 || v.History[1].Kind != protocol.KindRevision {
			t.Fatalf("%s shows %q version %d history %+v", n.cfg.Member.Name, v.Content.Title, v.Version, v.History)
		}
	}

	// Another member may neither revise nor revoke it.
	if _, err := b.Revise(ctx, orig.ID, draft("hijacked")); !errors.Is(err, store.ErrNotOriginator) {
		t.Fatalf("non-originator revise: got %v", err)
	}
	client := api.NewClient(string(b.home), b.home.Socket())
	_, err = client.Revise(ctx, orig.ID, api.ReviseRequest{Draft: *draft("hijacked")})
	if api.ClassOf(err) != api.Forbidden {
		t.Fatalf("non-originator revise through the API: got %v", err)
	}
	_, err = client.Revoke(ctx, orig.ID, api.RevokeRequest{Reason: "mine now"})
	if api.ClassOf(err) != api.Forbidden {
		t.Fatalf("non-originator revoke through the API: got %v", err)
	}
	if r := record(a, orig.ID); r.Version != 2 || r.Revoked {
		t.Fatalf("the originator's record changed: version %d revoked %v", r.Version, r.Revoked)
	}
}

func TestRevocationLeavesTombstonesEverywhere(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "human-trafficking")
	a := nodes[0]
	orig := publish(t, a, id, draft("to be retracted"))
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" misses the bulletin", func() bool { return readable(n, orig.ID) })
	}
	client := api.NewClient(string(a.home), a.home.Socket())
	resp, err := client.Revoke(ctx, orig.ID[:8], api.RevokeRequest{Reason: "source retracted"})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Revoked || resp.ID != orig.ID || resp.Seq != orig.Seq+1 {
		t.Fatalf("revoke answered %+v", resp)
	}
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" holds no tombstone", func() bool { return record(n, orig.ID).Revoked })
		r := record(n, orig.ID)
		if readable(n, orig.ID) || r.Reason != "source retracted" || len(r.History) != 2 || r.ValidUntil != nil {
			t.Fatalf("%s: readable %v reason %q history %d", n.cfg.Member.Name, readable(n, orig.ID), r.Reason, len(r.History))
		}
		v := show(t, n, orig.ID)
		if !v.Revoked || v.RevocationReason != "source retracted" || v.Content != nil || v.RevokedAt == nil {
			t.Fatalf("%s shows %+v", n.cfg.Member.Name, v)
		}
	}
	if _, err := a.Revise(ctx, orig.ID, draft("back from the dead")); !errors.Is(err, ErrTombstone) {
		t.Fatalf("revising a revoked bulletin: got %v", err)
	}
	if _, err := a.Revoke(ctx, orig.ID, "twice"); err == nil {
		t.Fatal("a bulletin was revoked twice")
	}
}

// A member that revokes another's bulletin is caught by every receiver:
// the revocation is rejected with a counted reason and changes nothing.
func TestForgedRevocationIsRejected(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "terrorism")
	a, b, c := nodes[0], nodes[1], nodes[2]
	orig := publish(t, a, id, draft("genuine"))
	for _, n := range nodes {
		eventually(t, 20*time.Second, n.cfg.Member.Name+" misses the bulletin", func() bool { return readable(n, orig.ID) })
	}
	s, keys := b.topicByID(id).snapshot()
	payload, err := protocol.EncodeRevocation(protocol.Revocation{Bulletin: orig.ID, Reason: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	recips, err := b.recipients(s, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := b.seal(s, protocol.KindRevocation, payload, nil, recips, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ingest(ctx, env.Raw); err == nil {
		t.Fatal("the originator's node accepted another member's revocation")
	}
	if err := b.topicByID(id).bulletins.Publish(ctx, env.Raw); err != nil {
		t.Fatal(err)
	}
	// The bulletin ID is bound to its originator: the revocation cannot
	// name it, whatever arrives first.
	eventually(t, 20*time.Second, "the forged revocation was not rejected", func() bool {
		return testutil.ToFloat64(c.metrics.rejected.WithLabelValues("envelope", protocol.ReasonBadBulletinID)) >= 1
	})
	for _, n := range []*Node{a, c} {
		if !readable(n, orig.ID) || record(n, orig.ID).Revoked {
			t.Fatalf("%s lost the bulletin to a forged revocation", n.cfg.Member.Name)
		}
		// Signed by b, it stays in b's chain so that sync does not fetch it
		// again, and applies to nothing.
		if h := record(n, orig.ID).History; len(h) != 1 {
			t.Fatalf("%s recorded the forged revocation in the bulletin's history: %+v", n.cfg.Member.Name, h)
		}
	}
	vv, _ := c.store.VersionVector(id)
	if vv[b.id.MemberID()] != env.Seq {
		t.Fatalf("the forged revocation did not enter its author's chain: version vector %v, seq %d", vv, env.Seq)
	}
}

// Envelopes arrive in any order: a member that receives a revocation
// before the bulletin it revokes keeps a tombstone, and neither the
// bulletin nor its revision brings the content back.
func TestRevocationBeforeTheBulletin(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "arms-trafficking")
	a, late := nodes[0], nodes[2]
	isolate(t, late)
	orig := publish(t, a, id, draft("version one"))
	if _, err := a.Revise(ctx, orig.ID, draft("version two")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Revoke(ctx, orig.ID, "compromised source"); err != nil {
		t.Fatal(err)
	}
	history := record(a, orig.ID).History
	if len(history) != 3 || history[2].Kind != protocol.KindRevocation {
		t.Fatalf("originator's history: %+v", history)
	}
	for i := len(history) - 1; i >= 0; i-- {
		raw, err := a.store.Envelope(history[i].Envelope)
		if err != nil {
			t.Fatal(err)
		}
		if err := late.Ingest(ctx, raw); err != nil {
			t.Fatalf("ingesting %s: %v", history[i].Kind, err)
		}
		r := record(late, orig.ID)
		if !r.Revoked || r.Reason != "compromised source" || readable(late, orig.ID) {
			t.Fatalf("after the %s: revoked %v, readable %v", history[i].Kind, r.Revoked, readable(late, orig.ID))
		}
	}
	if r := record(late, orig.ID); r.Version != 2 || len(r.History) != 3 || !r.Created.Equal(orig.Created) {
		t.Fatalf("late member's tombstone: version %d, history %d, created %v", r.Version, len(r.History), r.Created)
	}
}

func TestRetentionErasesExpiredBulletins(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, "Agency", "FRA")
	unlimited, err := n.CreateTopic(ctx, "corruption", "Open cases", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	aged, err := n.CreateTopic(ctx, "corruption", "Month-old cases", protocol.Policy{MaxAgeDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	d := draft("review in ten days")
	until := now.Add(10 * 24 * time.Hour).Truncate(time.Second)
	d.ValidUntil = &until
	expiring := publish(t, n, unlimited.ID, d)
	kept := publish(t, n, unlimited.ID, draft("no expiry"))
	old := publish(t, n, aged.ID, draft("thirty days at most"))

	steps := []struct {
		at     time.Duration
		erased int
		gone   []string
	}{
		{0, 0, nil},
		{11 * 24 * time.Hour, 1, []string{expiring.ID}},
		{29 * 24 * time.Hour, 0, []string{expiring.ID}},
		{31 * 24 * time.Hour, 1, []string{expiring.ID, old.ID}},
	}
	for _, st := range steps {
		erased, err := n.RunRetention(now.Add(st.at))
		if err != nil || erased != st.erased {
			t.Fatalf("at +%v: erased %d (%v), want %d", st.at, erased, err, st.erased)
		}
		for _, id := range st.gone {
			if r := record(n, id); !r.Expired || readable(n, id) {
				t.Fatalf("at +%v: %s is not a tombstone", st.at, id)
			}
		}
	}
	if !readable(n, kept.ID) {
		t.Fatal("retention erased a bulletin with no expiry in a topic without an age limit")
	}
	listed, err := n.store.List(store.Query{})
	if err != nil || len(listed) != 1 || listed[0].ID != kept.ID {
		t.Fatalf("listing after retention: %d bulletins (%v)", len(listed), err)
	}
	if v := show(t, n, old.ID); !v.Expired || v.Content != nil || v.ExpiredAt == nil {
		t.Fatalf("show of an expired bulletin: %+v", v)
	}
	// The envelope stays, so sync sees it as held and never fetches it again.
	raw, err := n.store.Envelope(expiring.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ingest(ctx, raw); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("re-ingesting an expired bulletin's envelope: got %v, want ErrDuplicate", err)
	}
}
