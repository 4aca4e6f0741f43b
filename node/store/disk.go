package store

import (
	"errors"
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// ErrDiskFull reports a write refused because the filesystem of the store
// has less free space than the reserve (see SetDiskReserve).
//
// Badger writes its value log, memtable logs and tables through memory
// mappings of sparse files: on a full filesystem such a write raises
// SIGBUS, which kills the process. The only defence is never to let
// Badger write when the filesystem may not take it.
var ErrDiskFull = errors.New("disk full")

// MaxGroupBytes bounds the bytes of writes that share one transaction
// (see commit.go), so that the reserve can be sized: one group is written
// whole after a single free-space check. A write bigger than this is
// committed alone.
const MaxGroupBytes = 8 << 20

// gcHeadroom is what a value-log GC may rewrite before it frees anything:
// the live half of one 64 MiB value-log file (it runs at ratio 0.5).
const gcHeadroom = 32 << 20

// FreeBytes returns the bytes available to an unprivileged writer on the
// filesystem that holds path.
func FreeBytes(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("reading the free space at %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// DiskUsage returns the bytes the database's files take (Badger's LSM
// tree and value log) and the bytes still free on its filesystem.
func (s *Store) DiskUsage() (storeBytes, freeBytes uint64, err error) {
	lsm, vlog := s.db.Size()
	free, err := FreeBytes(s.dir)
	return uint64(lsm + vlog), free, err
}

// SetDiskReserve makes every write fail with ErrDiskFull while the store's
// filesystem has less than bytes free; 0 removes the check. Reads go on.
func (s *Store) SetDiskReserve(bytes uint64) { s.reserve.Store(bytes) }

// DiskReserve returns the reserve set by SetDiskReserve.
func (s *Store) DiskReserve() uint64 { return s.reserve.Load() }

// Dir returns the database's directory.
func (s *Store) Dir() string { return s.dir }

// CheckFree returns an error wrapping ErrDiskFull when the filesystem
// holding path has less than reserve bytes free.
func CheckFree(path string, reserve uint64) error {
	free, err := FreeBytes(path)
	if err != nil {
		return err
	}
	return ReserveError(path, free, reserve)
}

// ReserveError returns the error of a write needing reserve bytes kept
// free on a filesystem with free bytes left, or nil if it has them.
func ReserveError(path string, free, reserve uint64) error {
	if free >= reserve {
		return nil
	}
	return fmt.Errorf("%w at %s: %s free, %s kept in reserve: free space or move the home", ErrDiskFull, path, MiB(free), MiB(reserve))
}

// MiB renders a byte count in mebibytes, with one decimal unless whole,
// rounded down: free space just under a reserve never reads as equal.
func MiB(bytes uint64) string {
	if bytes%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", bytes>>20)
	}
	return fmt.Sprintf("%.1f MiB", math.Floor(float64(bytes)/(1<<20)*10)/10)
}

// checkDisk returns ErrDiskFull while free space is below the reserve,
// and logs when writes stop and start again.
func (s *Store) checkDisk() error {
	reserve := s.reserve.Load()
	if reserve == 0 {
		return nil
	}
	free, err := FreeBytes(s.dir)
	if err != nil {
		// Unknown is not full: refusing every write because statfs failed
		// would turn a monitoring problem into an outage.
		s.log.Warn("cannot read the free disk space; writing anyway", "err", err)
		return nil
	}
	err = ReserveError(s.dir, free, reserve)
	switch {
	case err != nil && !s.diskFull.Swap(true):
		s.log.Error("disk full: refusing writes until space is freed", "path", s.dir, "free", MiB(free), "reserve", MiB(reserve))
	case err == nil && s.diskFull.Swap(false):
		s.log.Info("disk space is back: writes resume", "path", s.dir, "free", MiB(free), "reserve", MiB(reserve))
	}
	return err
}

// roomForGC reports whether a value-log GC may run: it writes live
// entries into the current file before it deletes the old one.
func (s *Store) roomForGC() bool {
	free, err := FreeBytes(s.dir)
	return err == nil && free >= s.reserve.Load()+gcHeadroom
}
