package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/concordnet/concord/node/nodetest"
)

// benchJoin times a member that joins a topic holding earlier bulletins:
// from its join's return to the last of them stored, by the sync the join
// starts. Baseline: the same envelopes in one Badger WriteBatch.
func benchJoin(ctx context.Context, b *bench) error {
	dir := filepath.Join(b.dir, "join")
	n := b.cfg.joinBulletins
	b.progress("join: A publishes %d bulletins, then D joins", n)
	a, err := newMember(dir, 0, b.nodeLog)
	if err != nil {
		return err
	}
	defer a.node.Close()
	d, err := newMember(dir, 1, b.nodeLog)
	if err != nil {
		return err
	}
	defer d.node.Close()
	topic, err := createTopic(ctx, a, "Join topic")
	if err != nil {
		return err
	}
	if err := b.publishMany(ctx, a, []string{topic}, n, 16); err != nil {
		return err
	}
	envs, err := a.node.Envelopes(topic)
	if err != nil {
		return err
	}
	raw, err := writeBadger(filepath.Join(dir, "raw"), envs)
	if err != nil {
		return err
	}
	took, err := b.joinAndHold(ctx, a, d, topic, len(envs))
	if err != nil {
		return err
	}
	b.rep.add("join-1k", unitMs, ms(took), ms(raw))
	b.rep.note("join-1k: a member joins a topic holding %d bulletins; from its join's return to the last one stored by sync; baseline: the same envelopes in one Badger WriteBatch", len(envs))
	return nil
}

// joinAndHold has d join a's topic and waits until d holds want
// envelopes, timed from the join's return.
func (b *bench) joinAndHold(ctx context.Context, a, d *member, topic string, want int) (time.Duration, error) {
	if _, err := nodetest.Invite(ctx, a, d, topic); err != nil {
		return 0, err
	}
	start := time.Now()
	wait, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var held int
	var err error
	b.profile("join", func() {
		err = nodetest.Poll(wait, pollEvery, func() (bool, error) {
			if n, err := acceptedEnvelopes(wait, d.node.MetricsAddr()); err == nil {
				held = n
			}
			return held >= want, nil
		})
	})
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("the new member holds %d of %d bulletins after %v: %w", held, want, took, err)
	}
	b.progress("  held %d bulletins %.2fs after joining", want, took.Seconds())
	return took, nil
}
