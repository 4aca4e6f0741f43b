package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/concordnet/concord/node/store"
)

// benchRSS measures the real daemon's peak RSS idle and after storing
// many bulletins, against a process that holds only the libraries (a
// libp2p host with GossipSub, and Badger with the store's options holding
// the same number of envelope- and record-sized values).
func benchRSS(ctx context.Context, b *bench) error {
	if runtime.GOOS != "linux" {
		b.rep.skip("rss-idle", unitMiB, "needs Linux /proc")
		b.rep.skip("rss-100k", unitMiB, "needs Linux /proc")
		return nil
	}
	idle, full, err := b.daemonMem(ctx)
	if err != nil {
		return err
	}
	envSize, recSize, err := bulletinSizes()
	if err != nil {
		return err
	}
	n := b.cfg.rssBulletins
	b.progress("rss: baseline process, idle, then with %d envelope and record values", n)
	libIdle, err := childMem(ctx, filepath.Join(b.dir, "lib-idle"), 0, envSize, recSize, b.cfg.settle)
	if err != nil {
		return err
	}
	libFull, err := childMem(ctx, filepath.Join(b.dir, "lib-full"), n, envSize, recSize, b.cfg.settle)
	if err != nil {
		return err
	}
	b.rep.add("rss-idle", unitMiB, idle.hwm, libIdle.hwm)
	b.rep.add("rss-100k", unitMiB, full.hwm, libFull.hwm)
	b.rep.note("rss: peak RSS (VmHWM) of `concord daemon`; baseline: a process with only a libp2p host + GossipSub and Badger (store options) holding %d values of %d and %d bytes", n, envSize, recSize)
	b.rep.note("rss-idle: daemon %s; baseline %s", idle, libIdle)
	b.rep.note("rss-100k (%d bulletins of %d KiB over %d topics): daemon %s; baseline %s", n, payloadSize>>10, b.cfg.rssTopics, full, libFull)
	return nil
}

// daemonMem runs the real daemon, reads its memory idle, fills it with
// bulletins through its API and reads it again.
func (b *bench) daemonMem(ctx context.Context) (idle, full memStat, err error) {
	b.progress("rss: building cmd/concord")
	bin, err := buildConcord(ctx, b.dir)
	if err != nil {
		return idle, full, err
	}
	home := filepath.Join(b.dir, "rss")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return idle, full, err
	}
	var limit *memCap
	var env []string
	if b.cfg.rssCap > 0 {
		if limit, err = newMemCap(int64(b.cfg.rssCap) << 20); err != nil {
			return idle, full, fmt.Errorf("-rss-cap: %w", err)
		}
		defer limit.close() // runs after d.stop: a cgroup is removed once empty
		// As configs/concord.service does: Go's heap target stays below the cap.
		env = append(env, fmt.Sprintf("GOMEMLIMIT=%dMiB", b.cfg.rssCap*3/4))
		b.progress("rss: the daemon runs in a memory cgroup of %d MiB (%s) with %s", b.cfg.rssCap, limit.dir, env[0])
	}
	d, err := startDaemon(ctx, bin, home, limit, env...)
	if err != nil {
		return idle, full, err
	}
	defer d.stop()
	time.Sleep(b.cfg.settle)
	if idle, err = readMem(d.pid()); err != nil {
		return idle, full, err
	}
	b.progress("rss: daemon idle: %s; publishing %d bulletins", idle, b.cfg.rssBulletins)
	start := time.Now()
	if err := b.fill(ctx, &member{api: d.api}); err != nil {
		return idle, full, err
	}
	b.progress("rss: filled at %.0f bulletins/s", float64(b.cfg.rssBulletins)/time.Since(start).Seconds())
	start = time.Now()
	if _, err := d.api.Status(ctx); err != nil {
		return idle, full, err
	}
	b.rep.note("rss: with %d bulletins stored, `GET /v1/status` (counts, version vectors) answered in %s", b.cfg.rssBulletins, time.Since(start).Round(time.Millisecond))
	time.Sleep(b.cfg.settle)
	full, err = readMem(d.pid())
	b.progress("rss: daemon full: %s", full)
	if limit != nil {
		b.rep.note("rss: the daemon ran in a memory cgroup of %d MiB with GOMEMLIMIT=%dMiB: %s", b.cfg.rssCap, b.cfg.rssCap*3/4, limit)
	}
	return idle, full, err
}

// fill publishes the bulletins over several topics: publications on one
// topic are serialized by the daemon, each with its own sync.
func (b *bench) fill(ctx context.Context, m *member) error {
	topics := make([]string, b.cfg.rssTopics)
	for i := range topics {
		var err error
		if topics[i], err = createTopic(ctx, m, fmt.Sprintf("Memory topic %d", i)); err != nil {
			return err
		}
	}
	return b.publishMany(ctx, m, topics, b.cfg.rssBulletins, b.cfg.rssWorkers)
}

// bulletinSizes returns the size of the envelope of a bulletin with a
// 4 KiB body and of its record, which leaves the body in the envelope
// (store.LightBulletin), for the baseline to write as much.
func bulletinSizes() (envSize, recSize int, err error) {
	f, err := newCryptoFixture(payloadSize)
	if err != nil {
		return 0, 0, err
	}
	raw, err := f.seal()
	if err != nil {
		return 0, 0, err
	}
	rec, _, err := store.LightBulletin(f.bulletin)
	return len(raw), len(rec) + 300, err // + the record's own fields
}
