package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/concordnet/concord/node/nodetest"
)

// missed is a topic whose owner A published while members B and C were
// stopped: B catches up by sync (catch-up), C is fed the envelopes
// directly (ingest).
type missed struct {
	a, b, c *member
	topic   string
	envs    [][]byte
}

// benchMissed runs the catch-up and ingest scenarios, both measured on
// bulletins a member missed while stopped, against a plain Badger batch
// write of the same envelope bytes.
func benchMissed(ctx context.Context, b *bench) error {
	m, err := b.prepareMissed(ctx, filepath.Join(b.dir, "missed"))
	if err != nil {
		return err
	}
	defer m.close()
	b.progress("raw Badger: one WriteBatch of the %d envelopes", len(m.envs))
	raw, err := writeBadger(filepath.Join(b.dir, "missed", "raw"), m.envs)
	if err != nil {
		return err
	}
	n := len(m.envs)
	if b.cfg.runs("catchup") {
		d, err := b.catchUp(ctx, m)
		if err != nil {
			return err
		}
		b.rep.add("catchup-10k", unitMs, ms(d), ms(raw))
		b.rep.note("catchup-10k: %d bulletins missed by a stopped member, from the return of its node.Start to the last one stored by sync; baseline: the same envelopes in one Badger WriteBatch", n)
	}
	if !b.cfg.runs("ingest") {
		return nil
	}
	m.a.node.Close() // so that nothing reaches C by gossip or sync
	rate, err := b.ingest(ctx, m)
	if err != nil {
		return err
	}
	b.rep.add("ingest", unitPerS, rate, float64(n)/raw.Seconds())
	b.rep.note("ingest: %d envelopes of %d KiB bulletins through Node.Ingest from %d goroutines; baseline: one Badger WriteBatch (sync writes, the store's options and at-rest encryption) keyed by envelope ID",
		n, payloadSize>>10, b.cfg.ingestWorkers)
	return nil
}

// prepareMissed starts A, B and C, has B and C join A's topic, stops
// them, and has A publish while they are down. A keeps running.
func (b *bench) prepareMissed(ctx context.Context, dir string) (_ *missed, err error) {
	b.progress("missed bulletins: A publishes %d while B and C are stopped", b.cfg.missed)
	m := &missed{}
	defer func() {
		if err != nil {
			m.close()
		}
	}()
	for i, p := range []**member{&m.a, &m.b, &m.c} {
		if *p, err = newMember(dir, i, b.nodeLog); err != nil {
			return nil, err
		}
	}
	if m.topic, err = createTopic(ctx, m.a, "Missed topic"); err != nil {
		return nil, err
	}
	for _, guest := range []*member{m.b, m.c} {
		if _, err := nodetest.Invite(ctx, m.a, guest, m.topic); err != nil {
			return nil, err
		}
		guest.node.Close()
	}
	start := time.Now()
	b.profile("publish", func() { err = b.publishMany(ctx, m.a, []string{m.topic}, b.cfg.missed, 16) })
	if err != nil {
		return nil, err
	}
	b.progress("  published at %.0f/s", float64(b.cfg.missed)/time.Since(start).Seconds())
	m.envs, err = m.a.node.Envelopes(m.topic)
	return m, err
}

// close stops the three original nodes (Close is idempotent).
func (m *missed) close() {
	for _, x := range []*member{m.a, m.b, m.c} {
		if x != nil {
			x.node.Close()
		}
	}
}

// catchUp restarts B while A runs and times until B has stored every
// bulletin A published, by sync.
func (b *bench) catchUp(ctx context.Context, m *missed) (time.Duration, error) {
	b.progress("catch-up: restarting B")
	late, err := startMember(m.b.home, b.nodeLog)
	if err != nil {
		return 0, err
	}
	defer late.node.Close()
	// From Start's return: opening the database is not catching up, and
	// the baseline does not count it either. Sync begins on connection.
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var held int
	b.profile("catchup", func() {
		err = nodetest.Poll(wait, pollEvery, func() (bool, error) {
			if n, err := acceptedEnvelopes(wait, late.node.MetricsAddr()); err == nil {
				held = n
			}
			return held >= len(m.envs), nil
		})
	})
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("B holds %d of %d bulletins after %v: %w", held, len(m.envs), d, err)
	}
	b.progress("  caught up in %.2fs (%.0f/s)", d.Seconds(), float64(len(m.envs))/d.Seconds())
	return d, nil
}

// ingest restarts C (A is down) and feeds it A's envelopes through
// Node.Ingest from concurrent goroutines, as a bulk import would, so that
// group commit can batch them. It returns envelopes per second.
func (b *bench) ingest(ctx context.Context, m *missed) (float64, error) {
	b.progress("ingest: C ingests %d envelopes from %d goroutines", len(m.envs), b.cfg.ingestWorkers)
	late, err := startMember(m.c.home, b.nodeLog)
	if err != nil {
		return 0, err
	}
	defer late.node.Close()
	var next atomic.Int64
	start := time.Now()
	b.profile("ingest", func() {
		err = nodetest.Parallel(b.cfg.ingestWorkers, b.cfg.ingestWorkers, func(int) error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(m.envs) {
					return nil
				}
				if err := late.node.Ingest(ctx, m.envs[i]); err != nil {
					return fmt.Errorf("ingesting envelope %d: %w", i, err)
				}
			}
		})
	})
	rate := float64(len(m.envs)) / time.Since(start).Seconds()
	b.progress("  %.0f/s", rate)
	return rate, err
}
