package main

import (
	"fmt"
	"slices"

	"github.com/concordnet/concord/node/api"
)

// anonLimitKiB bounds each daemon's private resident memory at the end
// (see memory).
const anonLimitKiB = 400 << 10

// invariant is one checked promise and what violates it.
type invariant struct {
	name       string
	violations []violation
	excused    int // acknowledged operations lost with a disk restored from an older backup
	byEpoch    int // sealed where the reader joined after the envelope's epoch
}

// violation is one breach, with the operations and nodes that show it.
type violation struct {
	msg   string
	ops   []int
	nodes []int
}

func (v *invariant) fail(ops []int, nodes []int, format string, args ...any) {
	v.violations = append(v.violations, violation{msg: fmt.Sprintf(format, args...), ops: ops, nodes: nodes})
}

// index is the history arranged for the checks.
type index struct {
	ops       []op
	faults    []fault
	pubs      map[int]*op // publish ops by number
	byID      map[string]*op
	byEnv     map[string]*op
	acks      map[int][]*op // publish op → its acknowledged publish, revisions and revocations, in order
	revisions map[int]int   // publish op → revisions acknowledged or unknown
	revokeTry map[int]bool  // publish op → a revocation acknowledged or unknown
	author    map[string]int
}

func (c *chaos) index() *index {
	ops, faults := c.hist.snapshot()
	x := &index{ops: ops, faults: faults, pubs: map[int]*op{}, byID: map[string]*op{}, byEnv: map[string]*op{},
		acks: map[int][]*op{}, revisions: map[int]int{}, revokeTry: map[int]bool{}, author: map[string]int{}}
	for _, d := range c.nodes {
		x.author[d.id.MemberID] = d.i
	}
	for k := range x.ops {
		o := &x.ops[k]
		switch o.Kind {
		case "publish":
			x.pubs[o.N] = o
			if o.ID != "" {
				x.byID[o.ID], x.byEnv[o.Envelope] = o, o
			}
			if o.Outcome == ok {
				x.acks[o.N] = append(x.acks[o.N], o)
			}
		case "revise":
			if o.Outcome != failed {
				x.revisions[o.Origin]++
			}
			if o.Outcome == ok {
				x.acks[o.Origin] = append(x.acks[o.Origin], o)
			}
		case "revoke":
			x.revokeTry[o.Origin] = x.revokeTry[o.Origin] || o.Outcome != failed
			if o.Outcome == ok {
				x.acks[o.Origin] = append(x.acks[o.Origin], o)
			}
		}
	}
	return x
}

// find returns node v's entry for publication p: by bulletin ID, by the
// publication's envelope (sealed entries), or by title.
func find(v view, p *op) (api.Bulletin, bool) {
	if b, found := v.bulletins[p.ID]; found && p.ID != "" {
		return b, true
	}
	for _, b := range v.bulletins {
		if p.Envelope != "" && (b.ID == p.Envelope || b.Envelope == p.Envelope || inHistory(b, p.Envelope)) {
			return b, true
		}
		if b.Content != nil && opOfTitle(b.Title) == p.N {
			return b, true
		}
	}
	return api.Bulletin{}, false
}

func inHistory(b api.Bulletin, env string) bool {
	return slices.ContainsFunc(b.History, func(r api.Revision) bool { return r.Envelope == env })
}

// check runs every invariant on the nodes' views.
func (c *chaos) check(views []view, convErr error) []*invariant {
	x := c.index()
	return []*invariant{
		c.checkDelivered(x, views),
		c.checkSealed(x, views),
		c.checkRemoved(x, views),
		c.checkConverged(views, convErr),
		c.checkAcknowledged(x, views),
		c.checkAlive(views),
		c.checkFullDisk(x),
	}
}
