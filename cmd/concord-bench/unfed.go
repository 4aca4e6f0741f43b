package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/metrics"

	"github.com/concordnet/concord/internal/iso3166"
	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// quicLoopback is where the un scenario's nodes and hosts listen. A full
// mesh of 193 nodes over TCP needs two descriptors per connection, 37,056
// in one process, past this machine's hard limit of 20,000 open files;
// QUIC multiplexes every connection of a host over one UDP socket. go-libp2p
// v0.51 has no in-memory transport (only mocknet, which replaces the
// whole network stack rather than the transport).
const quicLoopback = "/ip4/127.0.0.1/udp/0/quic-v1"

// unBadger shrinks each store for a simulation of hundreds of nodes in
// one process: 4 MiB memtables (a 600 KiB largest batch, above a 193-member
// rotate entry), 1 MiB caches, 16 MiB value log files. A node's defaults
// are 16 MiB memtables and caches and 64 MiB files (store.Options).
func unBadger(o badger.Options) badger.Options {
	return o.WithMemTableSize(4 << 20).WithBlockCacheSize(1 << 20).WithIndexCacheSize(1 << 20).
		WithValueLogFileSize(16 << 20).WithNumCompactors(2)
}

// unFed is the federation of the un scenario: one node per country, all on
// one topic, and mixed topics among them.
type unFed struct {
	dir     string
	log     *slog.Logger
	members []*member
	all     api.Topic // every member's topic
	mixed   []mixedTopic
	bw      *metrics.BandwidthCounter // bytes every node sent, over all streams
}

// mixedTopic is one of the smaller topics: members[0] owns it.
type mixedTopic struct {
	category string
	members  []int
}

// mixedTopics draws count topics of 3 to 60 members (most small: the size
// is 3 + 57u² for u uniform), over the categories in turn.
func mixedTopics(n, count int, seed uint64) []mixedTopic {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cats := protocol.Categories()
	out := make([]mixedTopic, count)
	for i := range out {
		size := min(n, 3+int(57*math.Pow(rng.Float64(), 2)))
		out[i] = mixedTopic{category: cats[i%len(cats)].Slug, members: rng.Perm(n)[:size]}
	}
	return out
}

// startUN starts the nodes, has the first create the all-member topic and
// invite every other, then creates the mixed topics by invitation too.
func (b *bench) startUN(ctx context.Context) (_ *unFed, err error) {
	c := b.cfg.un
	u := &unFed{dir: filepath.Join(b.dir, "un"), log: b.nodeLog, bw: metrics.NewBandwidthCounter()}
	node.ExtraHostOptions = []libp2p.Option{libp2p.BandwidthReporter(u.bw)}
	store.Tune = unBadger
	defer func() {
		if err != nil {
			u.close()
		}
	}()
	start := time.Now()
	codes := iso3166.Alpha3Codes()
	fed, err := nodetest.Start(ctx, c.nodes, func(_ context.Context, i int) (nodetest.Member, error) {
		return newUNMember(u.dir, i, codes[i], b.nodeLog)
	})
	if err != nil {
		return nil, err
	}
	for _, m := range fed.Members {
		u.members = append(u.members, m.(*member))
	}
	b.progress("  %d nodes started in %.1fs; inviting them all to one topic", c.nodes, time.Since(start).Seconds())
	if u.all, err = u.createAll(ctx); err != nil {
		return u, err
	}
	b.progress("  all-member topic joined at %.1fs; waiting for the mesh", time.Since(start).Seconds())
	wait, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	fed.Topic = u.all
	if err = fed.WaitMesh(wait); err != nil {
		return u, err
	}
	b.progress("  mesh formed at %.1fs; creating %d mixed topics", time.Since(start).Seconds(), c.topics)
	u.mixed = mixedTopics(c.nodes, c.topics, c.seed)
	if err = u.createMixed(ctx); err != nil {
		return u, err
	}
	b.rep.note("un: setup of %d nodes, the all-member topic and %d mixed topics (%d invitations in all) took %.1f s (not a goal)",
		c.nodes, c.topics, c.nodes-1+u.mixedInvites(), time.Since(start).Seconds())
	return u, nil
}

func newUNMember(dir string, i int, country string, log *slog.Logger) (*member, error) {
	h := node.Home(filepath.Join(dir, fmt.Sprintf("n%d", i)))
	cfg := node.DefaultConfig("Agency of "+country, country)
	cfg.Network.Listen = []string{quicLoopback}
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Limits = memberLimits
	if _, err := node.Init(h, cfg); err != nil {
		return nil, err
	}
	return startMember(h, log)
}

// createAll has the first member create the all-member topic and invite
// every other, one after the other: with concurrent joins, a member may
// dial another before it learns that one joined, be refused, and back off
// for 30 s and more (seen at 50 members: no full mesh after 4 minutes).
func (u *unFed) createAll(ctx context.Context) (api.Topic, error) {
	owner := u.members[0]
	t, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: "terrorism", Name: "All Member States"})
	if err != nil {
		return t, fmt.Errorf("creating the all-member topic: %w", err)
	}
	err = nodetest.Parallel(len(u.members)-1, 1, func(i int) error {
		if _, err := nodetest.Invite(ctx, owner, u.members[i+1], t.ID); err != nil {
			return fmt.Errorf("member %d: %w", i+1, err)
		}
		return nil
	})
	return t, err
}

// createMixed creates the mixed topics one after the other (as createAll
// invites), each by its owner inviting its members in turn.
func (u *unFed) createMixed(ctx context.Context) error {
	return nodetest.Parallel(len(u.mixed), 1, func(i int) error {
		t := u.mixed[i]
		owner := u.members[t.members[0]]
		id, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: t.category, Name: fmt.Sprintf("Mixed topic %d", i)})
		if err != nil {
			return fmt.Errorf("mixed topic %d: %w", i, err)
		}
		for _, g := range t.members[1:] {
			if _, err := nodetest.Invite(ctx, owner, u.members[g], id.ID); err != nil {
				return fmt.Errorf("mixed topic %d, member %d: %w", i, g, err)
			}
		}
		return nil
	})
}

func (u *unFed) mixedInvites() int {
	n := 0
	for _, t := range u.mixed {
		n += len(t.members) - 1
	}
	return n
}

// sizes summarizes the mixed topics' member counts.
func (u *unFed) sizes() (lo, hi, sum int) {
	lo = math.MaxInt
	for _, t := range u.mixed {
		lo, hi, sum = min(lo, len(t.members)), max(hi, len(t.members)), sum+len(t.members)
	}
	return lo, hi, sum
}

// converged reports whether the members (all when idx is nil) hold the
// same envelopes of the all-member topic: equal version vectors.
func (u *unFed) converged(idx []int) (bool, error) {
	if idx == nil {
		idx = make([]int, len(u.members))
		for i := range idx {
			idx[i] = i
		}
	}
	var first map[string]uint64
	for k, i := range idx {
		vv, err := u.members[i].node.VersionVector(u.all.ID)
		if err != nil {
			return false, err
		}
		if k == 0 {
			first = vv
		} else if !maps.Equal(vv, first) {
			return false, nil
		}
	}
	return true, nil
}

// waitConverged polls converged until it holds, for at most limit.
func (u *unFed) waitConverged(ctx context.Context, idx []int, limit time.Duration) error {
	wait, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return nodetest.Poll(wait, pollEvery, func() (bool, error) { return u.converged(idx) })
}

// close stops every node and restores the process-wide hooks.
func (u *unFed) close() {
	nodetest.Parallel(len(u.members), 16, func(i int) error {
		if m := u.members[i]; m != nil {
			m.node.Close()
		}
		return nil
	})
	node.ExtraHostOptions, store.Tune = nil, nil
}
