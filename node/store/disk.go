package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

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
