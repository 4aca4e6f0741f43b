package backup

import (
	"slices"
	"time"

	"github.com/concordnet/concord/crypto"
)

// Format is the version of the archive layout that this package writes
// and reads.
const Format = 1

// Manifest is manifest.json, the first entry of an archive: what a
// restore checks before it writes anything.
type Manifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	MemberID string    `json:"member_id"`
	PeerID   string    `json:"peer_id"`
	Name     string    `json:"name"`
	Country  string    `json:"country"`
	Version  string    `json:"concord_version"`
}

// DB is db.json, the last entry of an archive. It describes the Badger
// backup stream before it, which is known only once the snapshot has
// been written: a reader refuses an archive whose stream does not match.
type DB struct {
	// BadgerVersion is the highest Badger version in the snapshot.
	BadgerVersion uint64 `json:"badger_version"`
	Bytes         int64  `json:"bytes"`
	Chunks        int    `json:"chunks"`
	SHA256        string `json:"sha256"`
}

// ConfigFile is the entry of the home's config.
const ConfigFile = "config.toml"

const (
	manifestEntry = "manifest.json"
	chunkPrefix   = "db.backup."
	dbEntry       = "db.json"
	chunkSize     = 4 << 20
	maxSmallEntry = 1 << 20 // manifest, config, keys
)

// homeFiles are the files of a home an archive holds, in archive order.
var homeFiles = []string{
	ConfigFile,
	"keys/" + crypto.MemberKeyFile,
	"keys/" + crypto.AgeKeyFile,
	"keys/" + crypto.PeerKeyFile,
	"keys/" + crypto.StoreKeyFile,
}

// HomeFiles returns the entries of the home's files an archive holds, in
// archive order: each is the file's slash-separated path relative to the
// home.
func HomeFiles() []string { return slices.Clone(homeFiles) }
