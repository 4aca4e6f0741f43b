package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// smallFS mounts a tmpfs of size (mount's syntax, e.g. "48m") for the
// test, or skips it where mounting is not allowed.
func smallFS(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: this full-disk test mounts a small tmpfs and needs root (CI runs it as root via .ci/run)")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs at %s (%v); this full-disk test needs a root allowed to mount", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) }) // after the nodes close: cleanups run last first
	return dir
}

// fill writes a file at path so that about leave bytes stay free on its
// filesystem.
func fill(t *testing.T, path string, leave uint64) {
	t.Helper()
	free, err := store.FreeBytes(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if free <= leave {
		t.Fatalf("filling %s: only %s free, less than the %s to leave", path, store.MiB(free), store.MiB(leave))
	}
	chunk := make([]byte, 1<<20)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for left := free - leave; left > 0; left -= min(left, uint64(len(chunk))) {
		if _, err := f.Write(chunk[:min(left, uint64(len(chunk)))]); err != nil {
			t.Fatalf("filling %s: %v", path, err)
		}
	}
}

// smallHome initializes a home on dir with a 16 MiB reserve.
func smallHome(t *testing.T, dir, name, country string) Home {
	t.Helper()
	h := Home(filepath.Join(dir, "h"))
	cfg := DefaultConfig(name, country)
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Disk = DiskConfig{ReserveMiB: 16, WarnMiB: 24}
	if _, err := Init(h, cfg); err != nil {
		t.Fatal(err)
	}
	return h
}

func startHome(t *testing.T, h Home) *Node {
	t.Helper()
	n, err := Start(h, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// The proof: with the home on a small filesystem, publishing big
// bulletins until the disk is full fails cleanly (503, the disk-full
// message), reads go on, the node recovers by itself when space returns,
// a start on the full disk is refused with the same message, and every
// acknowledged bulletin survives.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	ctx := context.Background()
	dir := smallFS(t, "48m")
	h := smallHome(t, dir, "Police nationale", "FRA")
	n := startHome(t, h)
	s, err := n.CreateTopic(ctx, "drug-trafficking", "Test topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler, 24<<20) // 8 MiB above the reserve: about a dozen bulletins
	c := api.NewClient(string(h), h.Socket())

	acked, refusal := publishUntilRefused(t, c, s.ID, 0)
	if len(acked) < 3 {
		t.Fatalf("only %d bulletins published before the disk filled", len(acked))
	}
	if api.ClassOf(refusal) != api.Unavailable || !strings.Contains(refusal.Error(), "disk full at "+h.DB()) || !strings.Contains(refusal.Error(), "free space or move the home") {
		t.Fatalf("publishing on a full disk: got %s %v, want unavailable (503) and the disk-full message", api.ClassOf(refusal), refusal)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Disk == nil || !st.Disk.Full || st.Bulletins != len(acked) {
		t.Fatalf("status on a full disk: %+v, %d bulletins, %v; want full and %d bulletins", st.Disk, st.Bulletins, err, len(acked))
	}
	checkHeld(t, c, acked)

	os.Remove(filler)
	more, err := publishOne(c, s.ID, len(acked))
	if err != nil {
		t.Fatalf("publishing once space is back, without a restart: %v", err)
	}
	acked = append(acked, more)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	fill(t, filler, 8<<20)
	if _, err := Start(h, quietLog()); !errors.Is(err, store.ErrDiskFull) || !strings.Contains(err.Error(), "disk full at "+h.DB()) {
		t.Fatalf("starting on a full disk: got %v, want the disk-full error", err)
	}
	os.Remove(filler)
	startHome(t, h)
	checkHeld(t, api.NewClient(string(h), h.Socket()), acked)
}

// publishUntilRefused publishes bulletins with 600 KiB attachments until
// one is refused; it returns the IDs acknowledged and the refusal.
func publishUntilRefused(t *testing.T, c *api.Client, topic protocol.TopicID, from int) ([]string, error) {
	t.Helper()
	var acked []string
	for i := from; i < from+100; i++ {
		id, err := publishOne(c, topic, i)
		if err != nil {
			return acked, err
		}
		acked = append(acked, id)
	}
	t.Fatal("100 bulletins of 600 KiB fit on a 48 MiB filesystem: the reserve is not enforced")
	return nil, nil
}

// publishOne publishes bulletin i, whose attachment is attachment(600 KiB, i).
func publishOne(c *api.Client, topic protocol.TopicID, i int) (string, error) {
	d := draft(fmt.Sprintf("capture %d", i))
	d.Attachments = []protocol.Attachment{attachment(600<<10, uint64(i))}
	resp, err := c.Publish(context.Background(), api.PublishRequest{Topic: topic.String(), Draft: *d})
	return resp.ID, err
}

// checkHeld checks that the node lists every bulletin of ids and shows
// each whole: the i-th with attachment(600 KiB, i).
func checkHeld(t *testing.T, c *api.Client, ids []string) {
	t.Helper()
	list, err := c.List(context.Background(), api.ListQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if len(list) != len(ids) {
		t.Fatalf("the node lists %d bulletins, want the %d acknowledged", len(list), len(ids))
	}
	for i, id := range ids {
		b, err := c.Bulletin(context.Background(), id)
		if err != nil {
			t.Fatalf("showing bulletin %d (%s): %v", i, id, err)
		}
		if b.Content == nil || len(b.Content.Attachments) != 1 || !bytes.Equal(b.Content.Attachments[0].Data, attachment(600<<10, uint64(i)).Data) {
			t.Fatalf("bulletin %d (%s) lost its attachment", i, id)
		}
	}
}

// A node whose disk is full ignores the envelopes it receives without
// holding it against the sender, and gets them by sync once space is back.
func TestFullDiskIgnoresReceivedEnvelopes(t *testing.T) {
	dir := smallFS(t, "48m")
	a := startNode(t, "Police nationale", "FRA")
	b := startHome(t, smallHome(t, dir, "Polícia Federal", "BRA"))
	s, err := a.CreateTopic(context.Background(), "drug-trafficking", "Test topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, a, b, s.ID)
	waitMesh(t, []*Node{a, b}, s.ID)

	filler := filepath.Join(dir, "filler")
	fill(t, filler, 8<<20) // below b's 16 MiB reserve
	x := publish(t, a, s.ID, draft("while b's disk is full"))
	eventually(t, 20*time.Second, "b never refused to store the gossiped envelope", func() bool {
		return rejected(b, "envelope", protocol.ReasonStore) > 0
	})
	if readable(b, x.ID) {
		t.Fatal("b stored a bulletin below its reserve")
	}
	if score := b.guard.appScore(a.host.ID()); score != 0 {
		t.Fatalf("b holds its full disk against a: score %v", score)
	}
	if peers := b.ps.ListPeers(protocol.TopicString(s.Category, s.ID)); len(peers) != 1 || peers[0] != a.host.ID() {
		t.Fatalf("b dropped a from the topic's GossipSub peers: %v", peers)
	}

	os.Remove(filler)
	eventually(t, 20*time.Second, "b does not get the bulletin by sync once space is back", func() bool { return readable(b, x.ID) })
	y := publish(t, a, s.ID, draft("after"))
	eventually(t, 20*time.Second, "b is no longer in a's mesh: a's envelopes do not reach it", func() bool { return readable(b, y.ID) })
}
