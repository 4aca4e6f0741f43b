package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

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

// Backup opens GET /v1/backup: a consistent snapshot of the node as an
// unencrypted tar archive (see docs/architecture.md, "Backup and
// restore"). It holds the member's secret keys: the caller encrypts it
// before it touches a disk, and closes the body.
func (c *Client) Backup(ctx context.Context) (io.ReadCloser, error) {
	body, err := c.Stream(ctx, "/v1/backup")
	var status *StatusError
	if errors.As(err, &status) && status.Code == http.StatusNotFound {
		return nil, errors.New("the daemon serves no backups: it runs an older concord; restart it with this version, then back up")
	}
	return body, err
}
