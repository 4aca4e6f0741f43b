package node

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func TestDiskConfigValidation(t *testing.T) {
	for _, c := range []struct {
		disk DiskConfig
		want string
	}{
		{DefaultDisk(), ""},
		{DiskConfig{ReserveMiB: 16, WarnMiB: 16}, ""},
		{DiskConfig{ReserveMiB: 15, WarnMiB: 1024}, "disk.reserve_mib: 15 must be at least 16"},
		{DiskConfig{ReserveMiB: 128, WarnMiB: 64}, "disk.warn_mib: 64 must be at least disk.reserve_mib (128)"},
	} {
		cfg := DefaultConfig("Police nationale", "FRA")
		cfg.Disk = c.disk
		err := cfg.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.disk, err, c.want)
		}
	}
}

// A config written before [disk] existed gets the defaults, and a section
// with one key the default of the other.
func TestConfigWithoutDiskSectionGetsDefaults(t *testing.T) {
	base := "[member]\nname = \"Police nationale\"\ncountry = \"FRA\"\n[network]\nlisten = [\"/ip4/127.0.0.1/tcp/7700\"]\n" +
		"[log]\nlevel = \"info\"\nformat = \"text\"\n"
	for text, want := range map[string]DiskConfig{
		base:                                 DefaultDisk(),
		base + "[disk]\nreserve_mib = 256\n": {ReserveMiB: 256, WarnMiB: 1024},
	} {
		c, err := LoadConfig(writeFile(t, text))
		if err != nil {
			t.Fatal(err)
		}
		if c.Disk != want {
			t.Fatalf("disk config %+v, want %+v", c.Disk, want)
		}
	}
}

func TestDiskWarningIsRateLimited(t *testing.T) {
	var w diskWarner
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		after time.Duration
		free  uint64
		want  bool
	}{
		{0, 2000, false},                // above the threshold
		{time.Minute, 999, true},        // first time below
		{2 * time.Minute, 500, false},   // within 10 minutes
		{10 * time.Minute, 500, false},  // 9 minutes after the warning
		{11 * time.Minute, 500, true},   // 10 minutes after
		{12 * time.Minute, 1000, false}, // back above
		{21*time.Minute - 1, 10, false}, // still within 10 minutes of the last
		{21 * time.Minute, 10, true},
	}
	for i, s := range steps {
		if got := w.due(t0.Add(s.after), s.free, 1000); got != s.want {
			t.Fatalf("step %d (%v, %d bytes free): warn %v, want %v", i, s.after, s.free, got, s.want)
		}
	}
}

// A start below the reserve is refused with the disk-full error, before
// the database is opened, and leaves the home usable.
func TestStartRefusesBelowTheReserve(t *testing.T) {
	h := Home(filepath.Join(t.TempDir(), "h"))
	cfg := DefaultConfig("Police nationale", "FRA")
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Disk = DiskConfig{ReserveMiB: 1 << 40, WarnMiB: 1 << 40} // 1 EiB: more than any disk
	if _, err := Init(h, cfg); err != nil {
		t.Fatal(err)
	}
	_, err := Start(h, quietLog())
	if !errors.Is(err, store.ErrDiskFull) || !strings.Contains(err.Error(), "disk full at "+string(h)) ||
		!strings.Contains(err.Error(), "free space or move the home") {
		t.Fatalf("start below the reserve: got %v, want the disk-full error naming %s", err, h)
	}
}

// Below the reserve, publishing, revising and revoking answer 503 with the
// disk-full message, reads go on, and writes resume without a restart.
func TestAPIAnswersDiskFullWithUnavailable(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, "Police nationale", "FRA")
	s, err := n.CreateTopic(ctx, "drug-trafficking", "Test topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	c := api.NewClient(string(n.home), n.home.Socket())
	first := publish(t, n, s.ID, draft("before"))

	n.store.SetDiskReserve(math.MaxUint64)
	if st, err := c.Status(ctx); err != nil || st.Disk == nil || !st.Disk.Full || !st.Disk.Low {
		t.Fatalf("status below the reserve: %+v, %v", st.Disk, err)
	}
	for what, call := range map[string]func() error{
		"publish": func() error {
			_, err := c.Publish(ctx, api.PublishRequest{Topic: s.ID.String(), Draft: *draft("refused")})
			return err
		},
		"revise": func() error {
			_, err := c.Revise(ctx, first.ID, api.ReviseRequest{Draft: *draft("revised")})
			return err
		},
		"revoke": func() error {
			_, err := c.Revoke(ctx, first.ID, api.RevokeRequest{Reason: "wrong"})
			return err
		},
	} {
		if err := call(); api.ClassOf(err) != api.Unavailable || !strings.Contains(err.Error(), "disk full at "+n.home.DB()) {
			t.Fatalf("%s below the reserve: got %s %v, want unavailable (503) and the disk-full message", what, api.ClassOf(err), err)
		}
	}
	if list, err := c.List(ctx, api.ListQuery{Limit: api.DefaultLimit}); err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Fatalf("list below the reserve: %v, %v", list, err)
	}
	if v := show(t, n, first.ID); v.Version != 1 || v.Revoked {
		t.Fatalf("the bulletin changed while writes were refused: %+v", v)
	}

	n.store.SetDiskReserve(n.cfg.Disk.reserveBytes())
	if _, err := c.Publish(ctx, api.PublishRequest{Topic: s.ID.String(), Draft: *draft("after")}); err != nil {
		t.Fatalf("publishing once space is back: %v", err)
	}
}
