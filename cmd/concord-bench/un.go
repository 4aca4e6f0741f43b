package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/internal/iso3166"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// unRun is what one network showed in the un delivery run.
type unRun struct {
	measured
	bytesOut         int64   // sent by every host during the run, over all streams
	connMean         float64 // connections per node
	connMax          int
	anonMiB, heapMiB float64 // process private memory and Go heap in use, per node
}

// bytesPerDelivery is bytes sent per bulletin per receiving member.
func (r unRun) bytesPerDelivery(msgs, nodes int) float64 {
	return float64(r.bytesOut) / float64(msgs*(nodes-1))
}

// memBase is the process's memory before a network starts.
type memBase struct{ anon, heap float64 }

// unMemNow returns the process's private memory (RssAnon) and Go heap in
// use, in MiB, after a collection that returns free pages to the system.
func unMemNow() memBase {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m, _ := readMem(os.Getpid())
	return memBase{anon: m.anon, heap: float64(ms.HeapInuse) / (1 << 20)}
}

// benchUN runs the federation of one node per United Nations Member
// State: raw GossipSub first as the baseline, then Concord's delivery,
// rotation, catch-up and partition measurements on one federation.
func benchUN(ctx context.Context, b *bench) error {
	c := b.cfg.un
	b.progress("un: raw GossipSub, %d hosts on QUIC loopback", c.nodes)
	base, err := b.unBaseline(ctx)
	if err != nil {
		return fmt.Errorf("baseline with %d hosts: %w", c.nodes, err)
	}
	b.progress("un: Concord, %d members", c.nodes)
	before := unMemNow()
	u, err := b.startUN(ctx)
	if err != nil {
		return err
	}
	defer u.close()
	conc, err := b.unDelivery(ctx, u, before)
	if err != nil {
		return err
	}
	b.reportUNDelivery(u, base, conc)
	if err := b.unRotate(ctx, u); err != nil {
		return fmt.Errorf("rotation: %w", err)
	}
	if err := b.unCatchUp(ctx, u); err != nil {
		return fmt.Errorf("catch-up: %w", err)
	}
	if err := b.unPartition(ctx, u); err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	return nil
}

// unBaseline measures the same load on plain GossipSub hosts.
func (b *bench) unBaseline(ctx context.Context) (unRun, error) {
	before := unMemNow()
	bw := metrics.NewBandwidthCounter()
	r := &router{}
	g, err := (&gossipNet{listen: quicLoopback, extra: []libp2p.Option{libp2p.BandwidthReporter(bw)}}).open(ctx, b.cfg.un.nodes, r, payloadSize, nil)
	if err != nil {
		return unRun{}, err
	}
	defer g.close()
	b.progress("  connected and meshed")
	run := b.unLoad(ctx, g, r, bw, "un-gossipsub")
	var conns []int
	for _, h := range g.hosts {
		conns = append(conns, len(h.Network().Peers()))
	}
	run.setConns(conns)
	run.setMem(before, g.size())
	return run, nil
}

// unDelivery measures the load on the all-member topic.
func (b *bench) unDelivery(ctx context.Context, u *unFed, before memBase) (unRun, error) {
	r := &router{}
	fed := &nodetest.Federation{Topic: u.all}
	for _, m := range u.members {
		fed.Members = append(fed.Members, m)
	}
	net, err := newConcordNet(ctx, fed, r, payloadSize)
	if err != nil {
		return unRun{}, err
	}
	defer net.close()
	run := b.unLoad(ctx, net, r, u.bw, "un-concord")
	var conns []int
	for _, m := range u.members {
		conns = append(conns, m.node.ConnectedPeers())
	}
	run.setConns(conns)
	run.setMem(before, len(u.members))
	return run, nil
}

// unLoad warms the publishers up, then measures one steady-rate run: the
// deliveries, the process CPU and the bytes sent.
func (b *bench) unLoad(ctx context.Context, net network, r *router, bw *metrics.BandwidthCounter, name string) unRun {
	c := b.cfg.un
	pubs := min(b.cfg.publishers, net.size())
	for range 5 { // as warmup does, but only the publishers: 193 would cost 37,000 deliveries
		if runLoad(ctx, net, r, pubs, pubs, 20, 5*time.Second).done() {
			break
		}
	}
	// The bandwidth counter's meters fold their counts into the totals
	// once a second: read them a sweep after the traffic of interest.
	time.Sleep(meterSweep)
	out0 := bw.GetBandwidthTotals().TotalOut
	var t *tracker
	var cpu time.Duration
	b.profile(name, func() {
		cpu0 := processCPU()
		t = runLoad(ctx, net, r, c.msgs, pubs, c.rate, max(b.cfg.drain, time.Minute))
		cpu = processCPU() - cpu0
	})
	time.Sleep(meterSweep)
	run := unRun{measured: measured{t.latencies(), cpu}, bytesOut: bw.GetBandwidthTotals().TotalOut - out0}
	b.progress("  p50 %.1f ms, p99 %.1f ms, max %.1f ms, delivered %d/%d; CPU %.1f s; %.1f MB sent",
		ms(run.p50), ms(run.p99), ms(run.max), run.delivered, run.expected, cpu.Seconds(), float64(run.bytesOut)/1e6)
	return run
}

const meterSweep = 1500 * time.Millisecond

func (r *unRun) setConns(conns []int) {
	sum := 0
	for _, n := range conns {
		sum, r.connMax = sum+n, max(r.connMax, n)
	}
	r.connMean = float64(sum) / float64(len(conns))
}

func (r *unRun) setMem(before memBase, nodes int) {
	now := unMemNow()
	r.anonMiB = (now.anon - before.anon) / float64(nodes)
	r.heapMiB = (now.heap - before.heap) / float64(nodes)
}

func (b *bench) reportUNDelivery(u *unFed, base, conc unRun) {
	c := b.cfg.un
	n := len(u.members)
	b.rep.add("un-delivery-ratio", unitRatio, conc.ratio(), base.ratio())
	b.rep.add("un-latency-p50", unitMs, ms(conc.p50), ms(base.p50))
	b.rep.add("un-latency-p99", unitMs, ms(conc.p99), ms(base.p99))
	b.rep.add("un-cpu-per-delivery", unitMs, conc.cpuPerDelivery(), base.cpuPerDelivery())
	b.rep.add("un-connections-mean", unitCount, conc.connMean, base.connMean)
	b.rep.add("un-connections-max", unitCount, float64(conc.connMax), float64(base.connMax))
	b.rep.add("un-memory-per-node", unitMiB, conc.anonMiB, base.anonMiB)
	b.rep.add("un-bytes-per-delivery", unitBytes, conc.bytesPerDelivery(c.msgs, n), base.bytesPerDelivery(c.msgs, n))
	lo, hi, sum := u.sizes()
	b.rep.note("un: %d nodes (ISO 3166 codes %s to %s) on QUIC loopback in one process; the all-member topic plus %d mixed topics of %d to %d members (mean %.1f) over the 11 categories; stores with 4 MiB memtables, 1 MiB block and index caches, 16 MiB value log files",
		n, iso3166.Alpha3Codes()[0], iso3166.Alpha3Codes()[n-1], len(u.mixed), lo, hi, float64(sum)/float64(max(1, len(u.mixed))))
	b.rep.note("un: %d bulletins of %d KiB at %g/s from %d publishers; delivered %d/%d Concord, %d/%d GossipSub; max latency %.0f ms and %.0f ms; CPU %.1f s and %.1f s",
		c.msgs, payloadSize>>10, c.rate, min(b.cfg.publishers, n), conc.delivered, conc.expected, base.delivered, base.expected, ms(conc.max), ms(base.max), conc.cpu.Seconds(), base.cpu.Seconds())
	b.rep.note("un: memory per node is the process's RssAnon (private memory) after the run minus before the network started, ÷ nodes; Go heap in use per node %.1f MiB Concord, %.1f MiB GossipSub. Bytes are what every host's libp2p bandwidth counter saw sent on streams during the run (background traffic included, QUIC and TLS overhead not), ÷ (bulletins × receivers)",
		conc.heapMiB, base.heapMiB)
}

// unRotate rotates the all-member topic's epoch at its owner and times
// until every member holds the new epoch.
func (b *bench) unRotate(ctx context.Context, u *unFed) error {
	owner := u.members[0]
	b.progress("un: rotating the all-member topic's epoch")
	start := time.Now()
	ch, err := owner.api.Rotate(ctx, u.all.ID)
	if err != nil {
		return err
	}
	acked := time.Since(start)
	held := make([]bool, len(u.members))
	wait, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err = nodetest.Poll(wait, pollEvery, func() (bool, error) {
		for i, m := range u.members {
			if held[i] {
				continue
			}
			t, err := m.api.Topic(wait, u.all.ID)
			if err != nil || t.Epoch < ch.Topic.Epoch {
				return false, err
			}
			held[i] = true
		}
		return true, nil
	})
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("epoch %d not held everywhere after %v: %w", ch.Topic.Epoch, took, err)
	}
	size, err := lastRotateSize(ctx, owner, u.all.ID)
	if err != nil {
		return err
	}
	b.progress("  rotate entry %d bytes; every member holds epoch %d after %.2fs", size, ch.Topic.Epoch, took.Seconds())
	b.rep.addAlone("un-rotate-bytes", unitBytes, float64(size))
	b.rep.addAlone("un-rotate-epoch", unitMs, ms(took))
	b.rep.note("un: a rotation at %d members: one rotate entry of %d bytes; the owner's call returned after %.0f ms, every member held the new epoch after %.0f ms (no baseline: GossipSub has no epochs)",
		len(u.members), size, ms(acked), ms(took))
	return nil
}

// lastRotateSize reads the topic log and returns the size of its last
// rotate entry.
func lastRotateSize(ctx context.Context, m *member, topic string) (int, error) {
	stream, err := m.api.TopicLog(ctx, topic)
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	size := 0
	for {
		e, err := stream.Next()
		if err != nil {
			break
		}
		if e.Error != "" {
			return 0, fmt.Errorf("reading the topic log: %s", e.Error)
		}
		if e.Type == "rotate" {
			size = len(e.Raw)
		}
	}
	if size == 0 {
		return 0, fmt.Errorf("no rotate entry in the topic log")
	}
	return size, nil
}

// unCatchUp has member 0 create a topic with member 1 and the last
// member, stops the last, publishes while it is down, and times its
// catch-up once restarted, against the same envelopes written in one
// Badger batch. The topic is small so that the bulletins cost few
// deliveries; the restarted member still reconnects to, and syncs every
// shared topic with, the whole federation.
func (b *bench) unCatchUp(ctx context.Context, u *unFed) error {
	c := b.cfg.un
	k := len(u.members) - 1
	owner := u.members[0]
	t, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: "organized-crime", Name: "Catch-up topic"})
	if err != nil {
		return err
	}
	for _, g := range []int{1, k} {
		if _, err := nodetest.Invite(ctx, owner, u.members[g], t.ID); err != nil {
			return err
		}
	}
	b.progress("un: member %d stopped; member 0 publishes %d bulletins on a topic of 3", k, c.missed)
	u.members[k].node.Close()
	if err := b.publishMany(ctx, owner, []string{t.ID}, c.missed, 16); err != nil {
		return err
	}
	envs, err := owner.node.Envelopes(t.ID)
	if err != nil {
		return err
	}
	want, err := owner.node.VersionVector(t.ID)
	if err != nil {
		return err
	}
	raw, err := writeBadger(filepath.Join(u.dir, "raw"), envs)
	if err != nil {
		return err
	}
	late, err := startMember(u.members[k].home, u.log)
	if err != nil {
		return err
	}
	u.members[k] = late
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	b.profile("un-catchup", func() {
		err = nodetest.Poll(wait, pollEvery, func() (bool, error) {
			vv, err := late.node.VersionVector(t.ID)
			return maps.Equal(vv, want), err
		})
	})
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("member %d did not catch up in %v: %w", k, took, err)
	}
	b.progress("  caught up in %.2fs", took.Seconds())
	b.rep.add("un-catchup-1k", unitMs, ms(took), ms(raw))
	b.rep.note("un-catchup-1k: a member stopped while %d bulletins were published on a topic of 3 members (the rest of the federation online), from its node.Start's return to holding them all (the owner's version vector); it reconnects to all %d other nodes meanwhile. Baseline: the same %d envelopes in one Badger WriteBatch",
		c.missed, k, len(envs))
	return nil
}

// unPartition splits the federation into two halves that each publish,
// then heals it and times until all members hold the same envelopes.
func (b *bench) unPartition(ctx context.Context, u *unFed) error {
	c := b.cfg.un
	half := len(u.members) / 2
	left, right := indices(0, half), indices(half, len(u.members))
	b.progress("un: partition into %d and %d members; each half publishes %d bulletins", len(left), len(right), c.splitMsgs)
	u.cut(left, right)
	err := nodetest.Parallel(2, 2, func(side int) error {
		return b.publishMany(ctx, u.members[[]int{left[0], right[0]}[side]], []string{u.all.ID}, c.splitMsgs, 4)
	})
	if err != nil {
		return err
	}
	for _, side := range [][]int{left, right} {
		if err := u.waitConverged(ctx, side, 5*time.Minute); err != nil {
			return fmt.Errorf("a half did not converge within itself: %w", err)
		}
	}
	if ok, _ := u.converged(nil); ok {
		return fmt.Errorf("the halves hold the same envelopes while partitioned: the partition does not hold")
	}
	start := time.Now()
	for _, m := range u.members {
		m.node.HealPartition()
	}
	for _, m := range u.members {
		m.node.DialMembers()
	}
	b.profile("un-converge", func() { err = u.waitConverged(ctx, nil, 10*time.Minute) })
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("not converged %v after healing: %w", took, err)
	}
	b.progress("  converged %.2fs after healing", took.Seconds())
	b.rep.addAlone("un-converge", unitMs, ms(took))
	b.rep.note("un-converge: the federation split into halves of %d and %d members, each publishing %d bulletins on the all-member topic; from healing to equal version vectors at all %d members (no baseline: plain GossipSub does not repair a partition)",
		len(left), len(right), c.splitMsgs, len(u.members))
	return nil
}

// cut partitions the members of left from those of right, both ways.
func (u *unFed) cut(left, right []int) {
	for _, sides := range [][2][]int{{left, right}, {right, left}} {
		others := make([]peer.ID, 0, len(sides[1]))
		for _, j := range sides[1] {
			others = append(others, u.members[j].node.PeerID())
		}
		for _, i := range sides[0] {
			u.members[i].node.PartitionFrom(others)
		}
	}
}

func indices(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
