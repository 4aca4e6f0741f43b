package api

import "time"

// BackupFormat is the version of the backup archive's layout that this
// build writes and restores.
const BackupFormat = 1

// BackupManifest is manifest.json, the first entry of a backup archive:
// what restore checks before it writes anything.
type BackupManifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	MemberID string    `json:"member_id"`
	PeerID   string    `json:"peer_id"`
	Name     string    `json:"name"`
	Country  string    `json:"country"`
	Version  string    `json:"concord_version"`
}

// BackupDB is db.json, the last entry of a backup archive. It describes
// the Badger backup stream before it (db.backup.NNNNNN), which is only
// known once the snapshot has been written: restore refuses an archive
// whose stream does not match it.
type BackupDB struct {
	// BadgerVersion is the highest Badger version in the snapshot.
	BadgerVersion uint64 `json:"badger_version"`
	Bytes         int64  `json:"bytes"`
	Chunks        int    `json:"chunks"`
	SHA256        string `json:"sha256"`
}
