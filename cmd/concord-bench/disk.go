package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/protocol"
)

// benchDisk measures the bytes a node's home grows by per stored
// bulletin, against the size of the bulletin's envelope: the one copy of
// its content a node must keep.
func benchDisk(ctx context.Context, b *bench) error {
	for _, s := range []struct {
		name       string
		attachment int
	}{{"disk-per-bulletin-4k", 0}, {"disk-per-bulletin-256k", 256 << 10}} {
		d, err := b.diskPerBulletin(ctx, filepath.Join(b.dir, s.name), s.attachment)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		b.rep.add(s.name, unitBytes, d.receiver, d.envelope)
		b.rep.note("%s: the publisher's home grew by %.0f bytes per bulletin (%.3g× the envelope), its audit log's entry for each publication included", s.name, d.publisher, d.publisher/d.envelope)
	}
	b.rep.note("disk: %d bulletins (4 KiB body; then the same each with a 256 KiB attachment of random bytes) published by member A on its topic, and fed to member B through Node.Ingest as sync would; Concord = B's home (allocated bytes, as du counts them, after node.Close has flushed Badger) minus the same home after joining the topic and closing, divided by the bulletins; baseline = the mean size of their envelopes", b.cfg.diskBulletins)
	return nil
}

// diskGrowth is what one disk scenario found, in bytes per bulletin.
type diskGrowth struct{ receiver, publisher, envelope float64 }

// diskPerBulletin has A publish cfg.diskBulletins bulletins, each with an
// attachment of that many random bytes if not 0, and B store them, and
// returns how much each home grew per bulletin and the mean envelope.
func (b *bench) diskPerBulletin(ctx context.Context, dir string, attachment int) (d diskGrowth, err error) {
	n := b.cfg.diskBulletins
	b.progress("disk: %d bulletins with a %d KiB attachment", n, attachment>>10)
	a, guest, topic, err := b.diskPair(ctx, dir)
	if err != nil {
		return d, err
	}
	var envs [][]byte
	d.publisher, err = growth(a, n, b.nodeLog, func(m *member) error {
		if err := publishWithAttachment(ctx, m, topic, n, attachment); err != nil {
			return err
		}
		envs, err = m.node.Envelopes(topic)
		return err
	})
	if err != nil {
		return d, err
	}
	d.receiver, err = growth(guest, n, b.nodeLog, func(m *member) error {
		for i, raw := range envs {
			if err := m.node.Ingest(ctx, raw); err != nil {
				return fmt.Errorf("ingesting envelope %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	total := 0
	for _, e := range envs {
		total += len(e)
	}
	d.envelope = float64(total) / float64(len(envs))
	b.progress("  per bulletin: B %.0f bytes, A %.0f bytes; envelopes of %.0f bytes", d.receiver, d.publisher, d.envelope)
	return d, nil
}

// diskPair starts A and B in dir, has B join A's topic, and closes both.
func (b *bench) diskPair(ctx context.Context, dir string) (a, guest *member, topic string, err error) {
	if a, err = newMember(dir, 0, b.nodeLog); err != nil {
		return nil, nil, "", err
	}
	defer a.Close()
	if guest, err = newMember(dir, 1, b.nodeLog); err != nil {
		return nil, nil, "", err
	}
	defer guest.Close()
	if topic, err = createTopic(ctx, a, "Disk topic"); err != nil {
		return nil, nil, "", err
	}
	_, err = nodetest.Invite(ctx, a, guest, topic)
	return a, guest, topic, err
}

// growth restarts m's node, runs fill, closes the node (Badger flushes
// its memtables) and returns how much the home grew, divided by n.
func growth(m *member, n int, log *slog.Logger, fill func(*member) error) (float64, error) {
	if err := m.Close(); err != nil { // idempotent
		return 0, err
	}
	before, err := diskUsage(string(m.home))
	if err != nil {
		return 0, err
	}
	started, err := startMember(m.home, log)
	if err != nil {
		return 0, err
	}
	err = fill(started)
	if cerr := started.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	after, err := diskUsage(string(m.home))
	return float64(after-before) / float64(n), err
}

// publishWithAttachment publishes n bench bulletins on topic from a few
// workers, each carrying its own random attachment of size bytes.
func publishWithAttachment(ctx context.Context, m *member, topic string, n, size int) error {
	body := textBody(payloadSize)
	return nodetest.Parallel(n, 8, func(i int) error {
		d := benchDraft(fmt.Sprintf("disk %d", i), body)
		if size > 0 {
			data := make([]byte, size)
			rand.Read(data)
			d.Attachments = []protocol.Attachment{protocol.NewAttachment("capture.bin", "application/octet-stream", data)}
		}
		_, err := m.api.Publish(ctx, api.PublishRequest{Topic: topic, Draft: d})
		return err
	})
}

// diskUsage returns the bytes allocated to the files under dir, as du
// counts them: preallocated but unwritten parts of sparse files are free.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += allocated(info)
		return nil
	})
	return total, err
}
