package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/concordnet/concord/node/api"
)

// checkFixture is a run of two nodes on one topic, with a history of
// three publications by node 0: acknowledged, failed, unknown.
func checkFixture(t *testing.T) (*chaos, []view) {
	h, err := newHistory(filepath.Join(t.TempDir(), "history.jsonl"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.close() })
	c := &chaos{hist: h, state: newState(), nodes: []*daemon{{i: 0}, {i: 1}}}
	c.nodes[0].id.MemberID, c.nodes[1].id.MemberID = "member0", "member1"
	topic := newTopic("t1", "Topic")
	topic.joined[0], topic.joined[1] = time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)
	c.state.topics = []*topicState{topic}
	for _, outcome := range []error{nil, api.Errorf(api.Unavailable, "disk full"), context.DeadlineExceeded} {
		o := h.begin(&op{Node: 0, Kind: "publish", Topic: "t1"})
		if outcome == nil {
			o.ID, o.Envelope, o.Version = "b1", "e1", 1
		}
		h.done(o, outcome)
	}
	views := []view{{bulletins: map[string]api.Bulletin{}}, {bulletins: map[string]api.Bulletin{}}}
	return c, views
}

func bulletin(id, env string, op int) api.Bulletin {
	return api.Bulletin{ID: id, Envelope: env, Author: "member0", Version: 1,
		Content: &api.Content{Title: titleOf(op)}}
}

func titleOf(op int) string { return fmt.Sprintf("%s%d rev 1", titlePrefix, op) }

func violated(invs []*invariant) []int {
	var out []int
	for k, inv := range invs {
		if len(inv.violations) > 0 {
			out = append(out, k+1)
		}
	}
	return out
}

// The acknowledged publication on both nodes, the unknown one on one:
// every invariant holds.
func TestCheckPasses(t *testing.T) {
	c, views := checkFixture(t)
	for _, v := range views {
		v.bulletins["b1"] = bulletin("b1", "e1", 1)
	}
	views[0].bulletins["b3"] = bulletin("b3", "e3", 3)
	for i := range views {
		views[i].alive = true
	}
	if got := violated(c.check(views, nil)); len(got) > 0 {
		t.Fatalf("invariants %v violated, want none", got)
	}
}

// An acknowledged publication missing on a member breaks invariant 1; a
// failed one present breaks invariant 5.
func TestCheckFinds(t *testing.T) {
	c, views := checkFixture(t)
	views[0].bulletins["b1"] = bulletin("b1", "e1", 1)
	views[1].bulletins["b2"] = bulletin("b2", "e2", 2)
	for i := range views {
		views[i].alive = true
	}
	got := violated(c.check(views, nil))
	if len(got) != 2 || got[0] != 1 || got[1] != 5 {
		t.Fatalf("invariants %v violated, want [1 5]", got)
	}
}
