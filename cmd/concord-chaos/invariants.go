package main

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/concordnet/concord/node/api"
)

// entitled lists the nodes that must hold publication p readable or
// sealed: its author, and the sure members of its topic since before it
// was published. A publication whose author was removed (or may have
// been) is left out: the removal pins only the seqs its writer held
// (docs/protocol.md, former members' envelopes).
func (c *chaos) entitled(p *op) []int {
	t := c.topic(p.Topic)
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	if _, out := t.removed[p.Node]; out || t.doubt[p.Node] {
		return nil
	}
	out := []int{p.Node}
	for i := range c.nodes {
		if i != p.Node && t.member(i) && t.joined[i].Before(p.Start) {
			out = append(out, i)
		}
	}
	return out
}

func (c *chaos) topic(id string) *topicState {
	for _, t := range c.state.topics {
		if t.ID == id {
			return t
		}
	}
	return newTopic(id, "unknown")
}

// reader reports whether node e may read p.
func reader(p *op, e int) bool {
	return len(p.Audience) == 0 || e == p.Node || slices.Contains(p.Audience, e)
}

// 1. Every acknowledged publication, revision and revocation is on every
// node entitled to it, in its latest acknowledged state, readable there.
func (c *chaos) checkDelivered(x *index, views []view) *invariant {
	inv := &invariant{name: "acknowledged publications, revisions and revocations reach every entitled member, readable"}
	for _, p := range x.pubs {
		if p.Outcome != ok {
			continue
		}
		want := c.expect(p, x, views)
		inv.excused += want.lost
		if want.gone {
			continue
		}
		for _, e := range c.entitled(p) {
			b, found := find(views[e], p)
			switch {
			case !found:
				inv.fail([]int{p.N}, []int{e}, "op %d (node %d's bulletin %s on %s) missing on node %d", p.N, p.Node, p.ID, c.topic(p.Topic).Name, e)
			case !reader(p, e):
				// sealed: invariant 2
			case b.Sealed && c.beforeJoin(p, b, e, views[e]):
				inv.byEpoch++
			case b.Sealed:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s) sealed on node %d, which may read it", p.N, p.ID, e)
			case want.revoked && !b.Revoked:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s): revocation acknowledged, not revoked on node %d", p.N, p.ID, e)
			case !b.Revoked && b.Version < want.version:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s): version %d acknowledged, node %d holds %d", p.N, p.ID, want.version, e, b.Version)
			}
		}
	}
	return inv
}

// expectation is what every entitled node must hold of a publication:
// its acknowledged operations, less those lost with a restore.
type expectation struct {
	version int  // the highest acknowledged version
	revoked bool // a revocation acknowledged
	lost    int  // acknowledged operations lost with a restore
	gone    bool // the publication itself was lost
}

func (c *chaos) expect(p *op, x *index, views []view) expectation {
	var want expectation
	for _, o := range x.acks[p.N] {
		if c.lostToRestore(p, o, views) {
			want.lost++
			want.gone = want.gone || o.Kind == "publish"
			continue
		}
		switch o.Kind {
		case "publish":
			want.version = max(want.version, 1)
		case "revise":
			want.version = max(want.version, o.Version)
		case "revoke":
			want.revoked = true
		}
	}
	return want
}

// lostToRestore reports whether the acknowledged operation o on
// publication p lived only on its node's disk, lost when that node was
// restored from a backup begun before o ended: the node was restored
// after o began, and no node holds what o did.
func (c *chaos) lostToRestore(p, o *op, views []view) bool {
	c.state.mu.Lock()
	restored := slices.ContainsFunc(c.state.restores, func(r restoreRec) bool {
		return r.node == o.Node && r.snapshot.Before(o.End) && r.at.After(o.Start)
	})
	c.state.mu.Unlock()
	if !restored {
		return false
	}
	for _, v := range views {
		b, found := find(v, p)
		if !found {
			continue
		}
		switch {
		case o.Kind == "publish",
			o.Kind == "revise" && (b.Revoked || b.Version >= o.Version),
			o.Kind == "revoke" && b.Revoked:
			return false
		}
	}
	return true
}

// beforeJoin reports whether node e holds p's entry b sealed because the
// envelope is of an epoch before the one e joined at: a member that
// still knew only an earlier epoch published it. The history policy
// (current-epoch, the runs' default) gives a new member the keys of the
// epoch it joins at and of later ones, never earlier ones; so it is not
// entitled to read that envelope (docs/reliability.md, defect 5).
func (c *chaos) beforeJoin(p *op, b api.Bulletin, e int, v view) bool {
	c.state.mu.Lock()
	joinedAt, newcomer := c.topic(p.Topic).joinEpoch[e]
	c.state.mu.Unlock()
	epoch, held := v.epochs[cmp.Or(b.Envelope, b.ID)]
	return newcomer && held && epoch < joinedAt
}

// 2. A restricted bulletin is sealed on members outside its audience.
func (c *chaos) checkSealed(x *index, views []view) *invariant {
	inv := &invariant{name: "restricted bulletins are sealed outside their audience"}
	for _, p := range x.pubs {
		if len(p.Audience) == 0 || p.Outcome == failed {
			continue
		}
		for e, v := range views {
			if reader(p, e) {
				continue
			}
			if b, found := find(v, p); found && b.Content != nil {
				inv.fail([]int{p.N}, []int{e}, "op %d (audience nodes %v) readable on node %d", p.N, p.Audience, e)
			}
		}
	}
	return inv
}

// 3. Nothing a removed member published after its removal reaches
// another node.
func (c *chaos) checkRemoved(x *index, views []view) *invariant {
	inv := &invariant{name: "nothing published by a removed member after its removal is accepted elsewhere"}
	for _, p := range x.pubs {
		t := c.topic(p.Topic)
		c.state.mu.Lock()
		at, out := t.removed[p.Node]
		c.state.mu.Unlock()
		if !out || !p.Start.After(at) {
			continue
		}
		for e, v := range views {
			if e == p.Node {
				continue
			}
			if _, found := find(v, p); found {
				inv.fail([]int{p.N}, []int{e}, "op %d by node %d (removed from %s at %s, publish %s: %s) present on node %d",
					p.N, p.Node, t.Name, at.Format("15:04:05.000"), p.Outcome, p.Start.Format("15:04:05.000"), e)
			}
		}
	}
	return inv
}

// 4. Identical version vectors and logs per topic among the members; no
// equivocation reported.
func (c *chaos) checkConverged(views []view, convErr error) *invariant {
	inv := &invariant{name: "identical version vectors and logs per topic; no equivocation"}
	if convErr != nil {
		inv.fail(nil, nil, "no convergence within %s: %v", c.cfg.convergeBound(), convErr)
	}
	for i, v := range views {
		for _, e := range v.status.Equivocations {
			inv.fail(nil, []int{i}, "node %d reports an equivocation: author %s seq %d on topic %s", i, e.Author, e.Seq, e.Topic)
		}
	}
	return inv
}

// 5. Every bulletin present anywhere was acknowledged or of unknown
// outcome; never one whose publication, revision or revocation failed.
func (c *chaos) checkAcknowledged(x *index, views []view) *invariant {
	inv := &invariant{name: "every bulletin present was acknowledged or of unknown outcome"}
	unmatched := map[int]map[string]bool{} // author → entries matched to no operation
	for e, v := range views {
		for id, b := range v.bulletins {
			p := x.byID[id]
			if p == nil && b.Content != nil {
				p = x.pubs[opOfTitle(b.Title)]
			}
			if p == nil {
				p = x.byEnv[b.ID]
			}
			if p == nil {
				a := x.author[b.Author]
				if unmatched[a] == nil {
					unmatched[a] = map[string]bool{}
				}
				unmatched[a][b.Envelope] = true
				continue
			}
			c.checkEntry(inv, x, p, b, e)
		}
	}
	unknowns := map[int]int{}
	for _, p := range x.pubs {
		if p.Outcome == unknown {
			unknowns[p.Node]++
		}
	}
	for a, set := range unmatched {
		if len(set) > unknowns[a] {
			inv.fail(nil, []int{a}, "%d bulletins by node %d match no operation, and only %d of its publications had an unknown outcome", len(set), a, unknowns[a])
		}
	}
	return inv
}

func (c *chaos) checkEntry(inv *invariant, x *index, p *op, b api.Bulletin, e int) {
	switch {
	case p.Outcome == failed:
		inv.fail([]int{p.N}, []int{e}, "op %d failed (%s: %s) yet its bulletin %s is on node %d", p.N, p.Class, p.Err, b.ID, e)
	case b.Version > 1+x.revisions[p.N]:
		inv.fail([]int{p.N}, []int{e}, "bulletin of op %d at version %d on node %d: only %d revisions acknowledged or unknown", p.N, b.Version, e, x.revisions[p.N])
	case b.Revoked && !x.revokeTry[p.N]:
		inv.fail([]int{p.N}, []int{e}, "bulletin of op %d revoked on node %d, no revocation acknowledged or unknown", p.N, e)
	}
}

// 6. Every daemon alive, answering, within its memory bound.
func (c *chaos) checkAlive(views []view) *invariant {
	inv := &invariant{name: fmt.Sprintf("every daemon alive, answering, private memory (RssAnon) below %d MiB", anonLimitKiB>>10)}
	for i, v := range views {
		switch {
		case !v.alive:
			inv.fail(nil, []int{i}, "node %d: the daemon is not running (see logs/n%d.log)", i, i)
		case v.statusErr != nil:
			inv.fail(nil, []int{i}, "node %d: status: %v", i, v.statusErr)
		case v.listErr != nil:
			inv.fail(nil, []int{i}, "node %d: list: %v", i, v.listErr)
		case v.memErr != nil:
			inv.fail(nil, []int{i}, "node %d: memory: %v", i, v.memErr)
		case v.mem.anon > anonLimitKiB:
			inv.fail(nil, []int{i}, "node %d: RssAnon %d MiB (VmRSS %d MiB)", i, v.mem.anon>>10, v.mem.rss>>10)
		}
	}
	return inv
}

// 7. On a full disk the daemon serves reads, and a write it refuses is
// refused as unavailable.
func (c *chaos) checkFullDisk(x *index) *invariant {
	inv := &invariant{name: "a full disk: reads served, writes refused as unavailable"}
	for _, o := range x.ops {
		if o.Kind == "read" && (o.Outcome != ok || o.Err != "") {
			inv.fail([]int{o.N}, []int{o.Node}, "op %d: read on node %d during a full disk: %s %s", o.N, o.Node, o.Outcome, o.Err)
		}
		if o.Outcome == failed && !slices.Contains(expectedClasses, o.Class) && c.fullAt(x, o) {
			inv.fail([]int{o.N}, []int{o.Node}, "op %d: %s on node %d during a full disk failed as %s, not unavailable: %s", o.N, o.Kind, o.Node, o.Class, o.Err)
		}
	}
	return inv
}

// expectedClasses are the refusals a write may meet on a full disk:
// unavailable for the disk, the others for the node's state (a removed
// member, a bulletin already revoked).
var expectedClasses = []string{"unavailable", "forbidden", "conflict", "not-found"}

// fullAt reports whether o ran on a node while a disk fault filled it.
func (c *chaos) fullAt(x *index, o op) bool {
	for _, f := range x.faults {
		if f.Kind == "disk" && slices.Contains(f.Nodes, o.Node) && o.Start.After(f.Start) && o.End.Before(f.End) {
			return true
		}
	}
	return false
}
