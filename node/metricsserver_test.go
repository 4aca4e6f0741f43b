package node

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/protocol"
)

// scrape GETs url and returns the status and the body.
func scrape(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// sampleValues maps each sample of a Prometheus text exposition, as
// `name{labels}`, to its value.
func sampleValues(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// The [metrics] listener serves the node's gauges and the Go and process
// collectors on /metrics, and nothing else; Close frees its port.
func TestMetricsListenerServesOnlyMetrics(t *testing.T) {
	begin := time.Now()
	a, err := newNode(t, "Agency A", "FRA", func(c *Config) { c.Metrics.Listen = "127.0.0.1:0" })
	if err != nil {
		t.Fatal(err)
	}
	b := startNode(t, "Agency B", "NGA")
	s, err := a.CreateTopic(context.Background(), "human-trafficking", "Test topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, a, b, s.ID)
	waitMesh(t, []*Node{a, b}, s.ID)
	publish(t, a, s.ID, draft("counted"))

	addr := a.MetricsAddr()
	if strings.HasSuffix(addr, ":0") || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("MetricsAddr() = %q, want the bound loopback address", addr)
	}
	code, body := scrape(t, "GET", "http://"+addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	got := sampleValues(t, body)
	age := time.Since(begin).Seconds()
	checks := []struct {
		sample   string
		min, max float64
	}{
		{"concord_peers", 1, 1},
		{"concord_topics", 1, 1},
		{"concord_bulletins", 1, 1},
		{"concord_store_bytes", 0, 1 << 30}, // Badger measures at open and every minute
		{"concord_disk_free_bytes", 1, 1 << 62},
		{`concord_last_sync_age_seconds{topic="` + s.ID.String() + `"}`, 0, age},
		{`concord_build_info{go="` + runtime.Version() + `",protocol="1",version="` + Version() + `"}`, 1, 1},
		{"go_goroutines", 10, 1e6},
		{"process_resident_memory_bytes", 1 << 20, 1 << 40},
		{"process_start_time_seconds", float64(begin.Add(-time.Hour).Unix()), float64(time.Now().Unix())},
		{"concord_bulletins_published_total", 1, 1},
	}
	for _, c := range checks {
		v, ok := got[c.sample]
		if !ok {
			t.Errorf("no sample %s in:\n%s", c.sample, body)
		} else if v < c.min || v > c.max {
			t.Errorf("%s = %v, want %v to %v", c.sample, v, c.min, c.max)
		}
	}
	for _, path := range []string{"/", "/v1/status", "/debug/pprof/", "/metrics/x"} {
		if code, _ := scrape(t, "GET", "http://"+addr+path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	if code, _ := scrape(t, "POST", "http://"+addr+"/metrics"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", code)
	}

	a.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("after Close the metrics port is still held: %v", err)
	}
	ln.Close()
}

// A metrics address in use is a start error naming it, and the failed
// start leaves the home free for the next.
func TestMetricsListenerPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	_, err = newNode(t, "Agency A", "FRA", func(c *Config) { c.Metrics.Listen = addr })
	if err == nil || !strings.Contains(err.Error(), "metrics listener on "+addr) || !strings.Contains(err.Error(), "[metrics] listen") {
		t.Fatalf("start with %s taken: got %v, want an error naming the address and [metrics] listen", addr, err)
	}
}

// The sync age counts from the last sync without error; before any, from
// the later of the node's start and the topic's joining.
func TestLastSynced(t *testing.T) {
	started := time.Now().Add(-time.Hour)
	tp := &topic{joined: started.Add(-time.Hour)}
	if got := lastSynced(tp, started); !got.Equal(started) {
		t.Fatalf("never synced, joined before start: %v, want the start %v", got, started)
	}
	tp.joined = started.Add(time.Minute)
	if got := lastSynced(tp, started); !got.Equal(tp.joined) {
		t.Fatalf("never synced, joined after start: %v, want the joining %v", got, tp.joined)
	}
	ok, failed := started.Add(10*time.Minute), started.Add(20*time.Minute)
	tp.lastSync = map[peer.ID]syncRecord{"p1": {At: ok}, "p2": {At: failed, Err: "stream reset"}}
	if got := lastSynced(tp, started); !got.Equal(ok) {
		t.Fatalf("synced then failed: %v, want the good sync %v", got, ok)
	}
}

// The bulletin count is recounted at most every bulletinCountTTL.
func TestBulletinCountIsCached(t *testing.T) {
	var c cachedCount
	calls := 0
	count := func() (int, error) { calls++; return calls * 10, nil }
	for range 3 {
		if n, _ := c.get(count); n != 10 {
			t.Fatalf("count %d, want the first count 10", n)
		}
	}
	c.at = time.Now().Add(-bulletinCountTTL)
	if n, _ := c.get(count); n != 20 || calls != 2 {
		t.Fatalf("after the TTL: count %d after %d calls, want 20 after 2", n, calls)
	}
}
