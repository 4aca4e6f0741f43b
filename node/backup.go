package node

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/backup"
)

// Backup writes an unencrypted backup archive of the running node to w
// (GET /v1/backup). The socket is 0600 in the home, so whoever may read
// the stream may read the keys in the home anyway; the CLI encrypts it
// before writing it.
func (n *Node) Backup(w io.Writer) (backup.DB, error) {
	m, files, err := n.backupFiles(time.Now())
	if err != nil {
		return backup.DB{}, err
	}
	db, err := backup.Write(w, m, files, n.store)
	return db, err
}

// backupFiles returns the manifest and reads the config and keys to
// archive. The keys are read from the home, byte for byte, and must be
// the ones the daemon runs with: a backup whose keys do not open its
// database is worthless.
func (n *Node) backupFiles(now time.Time) (backup.Manifest, map[string][]byte, error) {
	m := backup.Manifest{
		Format: backup.Format, Created: now.UTC(), MemberID: n.id.MemberID(), PeerID: n.id.PeerID().String(),
		Name: n.cfg.Member.Name, Country: n.cfg.Member.Country, Version: Version(),
	}
	id, err := crypto.LoadIdentity(n.home.Keys())
	if err != nil {
		return m, nil, fmt.Errorf("reading the keys to back up: %w", err)
	}
	if id.MemberID() != n.id.MemberID() || id.PeerID() != n.id.PeerID() ||
		id.Age.String() != n.id.Age.String() || !bytes.Equal(id.StoreKey, n.id.StoreKey) {
		return m, nil, fmt.Errorf("the keys in %s are not the ones the daemon runs with: restart the daemon, then back up", n.home.Keys())
	}
	files := map[string][]byte{}
	for _, name := range backup.HomeFiles() {
		data, err := os.ReadFile(filepath.Join(string(n.home), filepath.FromSlash(name)))
		if err != nil {
			return m, nil, fmt.Errorf("reading %s to back up: %w", name, err)
		}
		files[name] = data
	}
	return m, files, nil
}
