package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/protocol"
)

// daemon is a concord daemon process of the crash test.
type daemon struct {
	t    *testing.T
	bin  string
	home node.Home
	cmd  *exec.Cmd
	api  *api.Client
}

func (d *daemon) run(args ...string) string {
	d.t.Helper()
	cmd := exec.Command(d.bin, append([]string{"--home", string(d.home)}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		d.t.Fatalf("concord %v: %v\n%s%s", args, err, out, stderr.String())
	}
	return string(out)
}

func (d *daemon) start() {
	d.t.Helper()
	d.cmd = exec.Command(d.bin, "--home", string(d.home), "daemon", "--log-level", "warn")
	d.cmd.Stderr = os.Stderr
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.run("status", "--wait", "60s")
}

func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
}

// Acknowledged means durable: a daemon killed with SIGKILL, again and
// again while a client publishes, still holds every bulletin whose ID it
// returned, and its partner receives them all.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills daemons")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "concord")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building concord: %v\n%s", err, out)
	}
	a := &daemon{t: t, bin: bin, home: node.Home(filepath.Join(dir, "a"))}
	b := &daemon{t: t, bin: bin, home: node.Home(filepath.Join(dir, "b"))}
	for _, d := range []*daemon{a, b} {
		d.run("init", "--name", "Agency "+filepath.Base(string(d.home)), "--country", "FRA", "--listen", "/ip4/127.0.0.1/tcp/0")
		d.api = api.NewClient(string(d.home), d.home.Socket())
		d.start()
		t.Cleanup(d.kill)
	}
	topic := strings.TrimSpace(a.run("--json", "topic", "create", "drug-trafficking", "Crash test"))
	id := jsonField(t, topic, "id")
	os.WriteFile(filepath.Join(dir, "b.card"), []byte(b.run("id", "--card")), 0o600)
	token := strings.TrimSpace(a.run("topic", "invite", id, "--card", filepath.Join(dir, "b.card")))
	b.run("topic", "join", token)

	var acked []string
	for round := range 3 {
		acked = append(acked, publishUntilKilled(t, a, id, round)...)
		a.start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, d := range []*daemon{a, b} {
		if err := nodetest.Poll(ctx, 50*time.Millisecond, func() (bool, error) { return holdsAll(ctx, d, acked) }); err != nil {
			t.Fatalf("%s lost acknowledged bulletins: %v", d.home, err)
		}
	}
	if st, err := b.api.Status(ctx); err != nil || len(st.Equivocations) > 0 {
		t.Fatalf("status after the crashes: %v %+v", err, st.Equivocations)
	}
	t.Logf("%d acknowledged bulletins across 3 SIGKILLs, all present on both nodes", len(acked))
}

// publishUntilKilled publishes from four clients until the daemon has
// acknowledged at least 30 bulletins this round, then kills it.
func publishUntilKilled(t *testing.T, d *daemon, topic string, round int) []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				draft := protocol.BulletinDraft{Title: fmt.Sprintf("round %d client %d #%d", round, w, i), Language: "en",
					TLP: "AMBER", Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2"}
				resp, err := d.api.Publish(ctx, api.PublishRequest{Topic: topic, Draft: draft})
				if err != nil {
					return // the daemon died under us: this one was not acknowledged
				}
				mu.Lock()
				acked = append(acked, resp.ID)
				mu.Unlock()
			}
		}()
	}
	wait, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	if err := nodetest.Poll(wait, 10*time.Millisecond, func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 30, nil
	}); err != nil {
		t.Fatalf("the daemon acknowledged fewer than 30 bulletins in a minute: %v", err)
	}
	d.kill()
	cancel()
	wg.Wait()
	return acked
}

func holdsAll(ctx context.Context, d *daemon, ids []string) (bool, error) {
	bs, err := d.api.List(ctx, api.ListQuery{})
	if err != nil {
		return false, err
	}
	held := map[string]bool{}
	for _, b := range bs {
		held[b.ID] = true
	}
	for _, id := range ids {
		if !held[id] {
			return false, fmt.Errorf("missing %s (%d of %d held)", id, len(held), len(ids))
		}
	}
	return true, nil
}

func jsonField(t *testing.T, text, field string) string {
	t.Helper()
	i := strings.Index(text, `"`+field+`": "`)
	if i < 0 {
		t.Fatalf("no %q in %s", field, text)
	}
	rest := text[i+len(field)+5:]
	return rest[:strings.Index(rest, `"`)]
}
