package main

import (
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
		if c.lostToRestore(p, x, views) {
			inv.excused++
			continue
		}
		for _, e := range c.entitled(p) {
			b, found := find(views[e], p)
			switch {
			case !found:
				inv.fail([]int{p.N}, []int{e}, "op %d (node %d's bulletin %s on %s) missing on node %d", p.N, p.Node, p.ID, c.topic(p.Topic).Name, e)
			case !reader(p, e):
				// sealed: invariant 2
			case b.Sealed:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s) sealed on node %d, which may read it", p.N, p.ID, e)
			case x.revokeOK[p.N] && !b.Revoked:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s): revocation acknowledged, not revoked on node %d", p.N, p.ID, e)
			case !b.Revoked && b.Version < x.maxVer[p.N]:
				inv.fail([]int{p.N}, []int{e}, "op %d (bulletin %s): version %d acknowledged, node %d holds %d", p.N, p.ID, x.maxVer[p.N], e, b.Version)
			}
		}
	}
	return inv
}

// lostToRestore reports whether what was acknowledged of p (its latest
// version, its revocation) lived only on its author's disk, lost when
// the author was restored from a backup begun before: no node holds it,
// and the author was restored after p began.
func (c *chaos) lostToRestore(p *op, x *index, views []view) bool {
	c.state.mu.Lock()
	restored := slices.ContainsFunc(c.state.restores, func(r restoreRec) bool {
		return r.node == p.Node && r.snapshot.Before(p.End) && r.at.After(p.Start)
	})
	c.state.mu.Unlock()
	if !restored {
		return false
	}
	for _, v := range views {
		if b, found := find(v, p); found && (!x.revokeOK[p.N] || b.Revoked) && (b.Revoked || b.Version >= x.maxVer[p.N]) {
			return false
		}
	}
	return true
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
