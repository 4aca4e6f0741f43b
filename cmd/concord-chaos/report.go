package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// report prints each invariant, then the summary on success or the
// first violated invariant with its operations and faults on failure.
func (c *chaos) report(invs []*invariant, took time.Duration, convErr error) error {
	out := c.cfg.out
	fmt.Fprintln(out, "invariants:")
	var first *invariant
	for k, inv := range invs {
		mark := "pass"
		if len(inv.violations) > 0 {
			mark = fmt.Sprintf("FAIL (%d)", len(inv.violations))
			if first == nil {
				first = inv
			}
		}
		fmt.Fprintf(out, "  %d. %-4s %s\n", k+1, mark, inv.name)
		if inv.excused > 0 {
			fmt.Fprintf(out, "     (%d acknowledged operations held by no node: their author's disk was restored from an older backup before anyone received them)\n", inv.excused)
		}
		if inv.byEpoch > 0 {
			fmt.Fprintf(out, "     (%d entries sealed on members that joined after the epoch they were published in, by a member that did not know the new epoch yet)\n", inv.byEpoch)
		}
	}
	c.summary(took, convErr)
	if first == nil {
		return nil
	}
	c.explain(first)
	return fmt.Errorf("invariant violated: %s (seed %d, work directory %s)", first.name, c.cfg.seed, c.dir)
}

// summary prints operations by kind and outcome, faults by kind, the
// time to converge and each daemon's memory.
func (c *chaos) summary(took time.Duration, convErr error) {
	out := c.cfg.out
	ops, faults := c.hist.snapshot()
	count := map[string]map[string]int{}
	classes := map[string]int{}
	for _, o := range ops {
		if o.Outcome == failed {
			classes[o.Class]++
		}
		if count[o.Kind] == nil {
			count[o.Kind] = map[string]int{}
		}
		count[o.Kind][o.Outcome]++
	}
	fmt.Fprintf(out, "operations: %d\n", len(ops))
	for _, k := range slices.Sorted(maps.Keys(count)) {
		m := count[k]
		fmt.Fprintf(out, "  %-8s ok %d, failed %d, unknown %d\n", k, m[ok], m[failed], m[unknown])
	}
	var cs []string
	for _, k := range slices.Sorted(maps.Keys(classes)) {
		cs = append(cs, fmt.Sprintf("%s %d", k, classes[k]))
	}
	fmt.Fprintf(out, "  failed by class: %s\n", strings.Join(cs, ", "))
	fk := map[string]int{}
	for _, f := range faults {
		fk[f.Kind]++
	}
	var parts []string
	for _, k := range faultKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, fk[k]))
	}
	fmt.Fprintf(out, "faults: %d (%s)\n", len(faults), strings.Join(parts, ", "))
	if convErr == nil {
		fmt.Fprintf(out, "converged %s after the last heal\n", took.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(out, "did not converge within %s: %v\n", c.cfg.convergeBound(), convErr)
	}
	var rss []string
	for _, d := range c.nodes {
		m, err := d.memKiB()
		if err != nil {
			rss = append(rss, fmt.Sprintf("n%d ?", d.i))
			continue
		}
		rss = append(rss, fmt.Sprintf("n%d %d/%d", d.i, m.anon>>10, m.rss>>10))
	}
	fmt.Fprintf(out, "memory, MiB RssAnon/VmRSS: %s\n", strings.Join(rss, ", "))
}

// explain prints the first violations of inv with the operations and the
// faults around them.
func (c *chaos) explain(inv *invariant) {
	out := c.cfg.out
	ops, faults := c.hist.snapshot()
	fmt.Fprintf(out, "FIRST VIOLATED: %s\n", inv.name)
	for k, v := range inv.violations {
		if k == 10 {
			fmt.Fprintf(out, "  … %d more\n", len(inv.violations)-10)
			break
		}
		fmt.Fprintf(out, "  - %s\n", v.msg)
		for _, n := range v.ops {
			if n < 1 || n > len(ops) {
				continue
			}
			o := ops[n-1]
			fmt.Fprintf(out, "      op %d: node %d %s %s at +%s..+%s: %s %s %s\n", o.N, o.Node, o.Kind, o.ID,
				c.hist.since(o.Start), c.hist.since(o.End), o.Outcome, o.Class, o.Err)
			for _, f := range faults {
				if touches(f, o, v.nodes) {
					fmt.Fprintf(out, "        fault %d %s nodes %v +%s..+%s %s\n", f.N, f.Kind, f.Nodes,
						c.hist.since(f.Start), c.hist.since(f.End), f.Note)
				}
			}
		}
	}
	fmt.Fprintf(out, "seed %d; work directory %s (history.jsonl, logs/)\n", c.cfg.seed, c.dir)
}

// touches reports whether fault f involved o's node or one of nodes
// (a split or isolation involves everyone's links), from o's start on.
func touches(f fault, o op, nodes []int) bool {
	if f.End.Before(o.Start) && !f.End.IsZero() {
		return false
	}
	if f.Kind == "split" || f.Kind == "isolate" || f.Kind == "restore" {
		return true
	}
	return slices.Contains(f.Nodes, o.Node) || slices.ContainsFunc(nodes, func(n int) bool { return slices.Contains(f.Nodes, n) })
}
