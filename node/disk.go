package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// DiskConfig keeps the node from filling its filesystem: Badger writes
// through memory maps, and a write to a full filesystem kills the process
// (SIGBUS), so the store refuses writes below a reserve (store.ErrDiskFull).
type DiskConfig struct {
	ReserveMiB int `toml:"reserve_mib"`
	WarnMiB    int `toml:"warn_mib"`
}

// minReserveMiB is the smallest reserve accepted: one write group
// (store.MaxGroupBytes and one write) and one memtable flush (16 MiB).
const minReserveMiB = 16

// DefaultDisk keeps 128 MiB free: what Badger may still write after the
// store's last check, at worst, is one write group (10 MiB), the flush of
// both 16 MiB memtables (32 MiB), and two compactions writing their output
// before deleting their input (an L0 merge: two 16 MiB tables and the
// 10 MiB base level; a deeper one: about 22 MiB): 106 MiB. A new value-log
// file is sparse and takes only what is written into it, counted in the
// groups. The warning comes at 1 GiB, hours of bulk imports away.
func DefaultDisk() DiskConfig { return DiskConfig{ReserveMiB: 128, WarnMiB: 1024} }

func (d DiskConfig) validate() error {
	switch {
	case d.ReserveMiB < minReserveMiB:
		return fmt.Errorf("disk.reserve_mib: %d must be at least %d (a write group and a memtable flush); below, the database may fill the disk and crash the node", d.ReserveMiB, minReserveMiB)
	case d.WarnMiB < d.ReserveMiB:
		return fmt.Errorf("disk.warn_mib: %d must be at least disk.reserve_mib (%d), so that the warning comes before writes are refused", d.WarnMiB, d.ReserveMiB)
	}
	return nil
}

func (d DiskConfig) reserveBytes() uint64 { return uint64(d.ReserveMiB) << 20 }
func (d DiskConfig) warnBytes() uint64    { return uint64(d.WarnMiB) << 20 }

// checkDiskAtStart refuses to start below the reserve: Badger writes as it
// opens (replaying its logs, new memtable), so a start on a full disk
// would crash, and under a service manager crash again.
func checkDiskAtStart(h Home, d DiskConfig) error {
	path := h.DB()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		path = string(h) // the first start creates db/ on the same filesystem
	}
	err := store.CheckFree(path, d.reserveBytes())
	if errors.Is(err, store.ErrDiskFull) {
		return fmt.Errorf("the daemon cannot start: %w; then start it again", err)
	}
	return err
}

const (
	diskCheckEvery = time.Minute
	diskWarnEvery  = 10 * time.Minute
)

// diskLoop warns in the log while free space is below disk.warn_mib.
func (n *Node) diskLoop() {
	var w diskWarner
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		n.checkDiskSpace(&w, time.Now())
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) checkDiskSpace(w *diskWarner, now time.Time) {
	path := n.store.Dir()
	free, err := store.FreeBytes(path)
	if err != nil {
		if w.due(now, 0, 1) {
			n.log.Warn("cannot read the free disk space", "err", err)
		}
		return
	}
	reserve, warn := n.store.DiskReserve(), n.cfg.Disk.warnBytes()
	if !w.due(now, free, warn) {
		return
	}
	msg := "disk space low: free space or move the home"
	if free < reserve {
		msg = "disk full: writes are refused until space is freed or the home moved"
	}
	n.log.Warn(msg, "path", path, "free", store.MiB(free), "warn_below", store.MiB(warn), "writes_refused_below", store.MiB(reserve))
}

// diskWarner rate-limits the warning to one every diskWarnEvery.
type diskWarner struct{ last time.Time }

// due reports whether free space below warn deserves a warning now.
func (w *diskWarner) due(now time.Time, free, warn uint64) bool {
	if free >= warn || (!w.last.IsZero() && now.Sub(w.last) < diskWarnEvery) {
		return false
	}
	w.last = now
	return true
}

// diskStatus reports the store's filesystem for the status API, or nil
// when it cannot be read.
func (n *Node) diskStatus() *api.DiskStatus {
	used, free, err := n.store.DiskUsage()
	if err != nil {
		return nil
	}
	reserve, warn := n.store.DiskReserve(), max(n.cfg.Disk.warnBytes(), n.store.DiskReserve())
	return &api.DiskStatus{Path: n.store.Dir(), FreeBytes: free, StoreBytes: used, ReserveBytes: reserve, WarnBytes: warn,
		Low: free < warn, Full: free < reserve}
}
