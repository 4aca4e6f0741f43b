package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRenderedDefaultConfigLoads(t *testing.T) {
	want := DefaultConfig("Police nationale", "FRA")
	got, err := LoadConfig(writeFile(t, string(want.Render())))
	if err != nil {
		t.Fatal(err)
	}
	if got.Member != want.Member || strings.Join(got.Network.Listen, ",") != strings.Join(want.Network.Listen, ",") || got.Log != want.Log {
		t.Fatalf("rendered config reads back as %+v, want %+v", got, want)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	base := string(DefaultConfig("NCA", "GBR").Render())
	cases := []struct {
		name, from, to, want string
	}{
		{"bad country", `country = "GBR"`, `country = "UK"`, `member.country: "UK" is not an ISO 3166-1 alpha-3 country code`},
		{"lowercase country", `country = "GBR"`, `country = "gbr"`, `member.country: "gbr" is not`},
		{"bad multiaddr", `listen = [`, `listen = ["/ip4/1.2.3/tcp/1", `, `network.listen: "/ip4/1.2.3/tcp/1" is not a valid multiaddr`},
		{"bootstrap without peer", `bootstrap = []`, `bootstrap = ["/ip4/127.0.0.1/tcp/7700"]`, `network.bootstrap: "/ip4/127.0.0.1/tcp/7700" is not a multiaddr ending in /p2p/<peer-id>`},
		{"unknown key", `[log]`, "[log]\nverbose = true", `unknown key log.verbose`},
		{"unknown section", `[log]`, "[telemetry]\nport = 1\n[log]", `unknown key telemetry`},
		{"metrics without port", `listen = ""`, `listen = "127.0.0.1"`, `metrics.listen: "127.0.0.1" is not host:port`},
		{"metrics without host", `listen = ""`, `listen = ":9464"`, `metrics.listen: ":9464" has no host; give 127.0.0.1:9464`},
		{"metrics bad host", `listen = ""`, `listen = "my host:9464"`, `metrics.listen: host "my host" in "my host:9464" is neither`},
		{"metrics bad port", `listen = ""`, `listen = "127.0.0.1:99999"`, `metrics.listen: port "99999" in "127.0.0.1:99999" is not a number`},
		{"bad level", `level = "info"`, `level = "loud"`, `log.level: "loud" is not one of debug, info, warn, error`},
		{"bad format", `format = "text"`, `format = "xml"`, `log.format: "xml" is not text or json`},
		{"empty name", `name = "NCA"`, `name = ""`, `member.name is empty`},
		{"not toml", `[log]`, `[log`, `config `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(base, c.from, c.to, 1)
			if text == base {
				t.Fatalf("test case does not change the config: %q not found", c.from)
			}
			_, err := LoadConfig(writeFile(t, text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Metrics listen addresses a scraper can reach load as given.
func TestMetricsListenValues(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", "localhost:0", "metrics-1.example.org:9464"} {
		c := DefaultConfig("NCA", "GBR")
		c.Metrics.Listen = addr
		got, err := LoadConfig(writeFile(t, string(c.Render())))
		if err != nil || got.Metrics.Listen != addr {
			t.Fatalf("metrics.listen %q: loaded %q, %v", addr, got.Metrics.Listen, err)
		}
	}
}

func TestInitModesAndRefusal(t *testing.T) {
	h := Home(filepath.Join(t.TempDir(), "home"))
	id, err := Init(h, DefaultConfig("Policía Nacional", "COL"))
	if err != nil {
		t.Fatal(err)
	}
	checkMode(t, string(h), 0o700)
	checkMode(t, h.Keys(), 0o700)
	checkMode(t, h.Config(), 0o600)
	entries, _ := os.ReadDir(h.Keys())
	if len(entries) != 4 {
		t.Fatalf("want 4 key files, got %d", len(entries))
	}
	for _, e := range entries {
		checkMode(t, filepath.Join(h.Keys(), e.Name()), 0o600)
	}
	before, _ := os.ReadFile(h.Config())
	if _, err := Init(h, DefaultConfig("Other", "PER")); err == nil || !strings.Contains(err.Error(), "already initialized") {
		t.Fatalf("second init: got %v, want an 'already initialized' error", err)
	}
	after, _ := os.ReadFile(h.Config())
	if string(before) != string(after) {
		t.Fatal("second init changed the config")
	}
	_, loaded, err := h.Load()
	if err != nil {
		t.Fatal(err)
	}
	if loaded.MemberID() != id.MemberID() || loaded.PeerID() != id.PeerID() {
		t.Fatal("loaded identity differs from the one created")
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s has mode %o, want %o", path, got, want)
	}
}

func TestLoadUninitialized(t *testing.T) {
	_, _, err := Home(t.TempDir()).Load()
	if err == nil || !strings.Contains(err.Error(), "run `concord init") {
		t.Fatalf("got %v, want advice to run concord init", err)
	}
}

// The example shipped in configs/ is exactly what init writes.
func TestExampleConfigIsCurrent(t *testing.T) {
	data, err := os.ReadFile("../configs/concord.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig("Police nationale", "FRA").Render(); string(data) != string(want) {
		t.Fatalf("configs/concord.example.toml is stale; regenerate it from DefaultConfig(...).Render():\n%s", want)
	}
	if _, err := LoadConfig("../configs/concord.example.toml"); err != nil {
		t.Fatal(err)
	}
}
