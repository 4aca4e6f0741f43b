package node

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// A backup archive (format 1) is a tar file with these entries, in this
// order:
//
//	manifest.json       api.BackupManifest, checked before anything is restored
//	config.toml
//	keys/member.key, keys/age.key, keys/peer.key, keys/store.key
//	db.backup.000000 …  the Badger backup stream, cut into chunks
//	db.json             api.BackupDB: size, SHA-256 and version of that stream
//
// A tar header states its entry's size, and a snapshot's size is known
// only once it is written: the stream is cut into chunks of at most
// backupChunk bytes, so that the daemon buffers one chunk and never
// writes the plaintext database to a disk.
//
// The archive holds the member's secret keys and the database decrypted:
// it only ever leaves this package through SealBackup.
const (
	manifestEntry = "manifest.json"
	configEntry   = "config.toml"
	chunkPrefix   = "db.backup."
	dbEntry       = "db.json"
	backupChunk   = 4 << 20
	maxSmallEntry = 1 << 20 // manifest, config, keys
)

// homeEntries are the files of the home an archive holds, by entry name
// (the path relative to the home).
var homeEntries = []string{
	configEntry,
	"keys/" + crypto.MemberKeyFile,
	"keys/" + crypto.AgeKeyFile,
	"keys/" + crypto.PeerKeyFile,
	"keys/" + crypto.StoreKeyFile,
}

func chunkName(i int) string { return fmt.Sprintf("%s%06d", chunkPrefix, i) }

// handleBackup is GET /v1/backup: the unencrypted archive, streamed. The
// socket is 0600 in the home, so whoever may read the stream may read the
// keys in the home anyway; the CLI encrypts it before writing it.
func (n *Node) handleBackup(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	files, err := n.backupFiles(start)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	db, err := writeArchive(w, files, n.store, start)
	if err != nil {
		n.log.Error("backup failed", "err", err)
		// Cut the connection rather than end the response: an archive
		// that ends cleanly must be a complete one.
		panic(http.ErrAbortHandler)
	}
	n.log.Info("backup taken", "db_bytes", db.Bytes, "badger_version", db.BadgerVersion, "took", time.Since(start).Round(time.Millisecond))
}

// Backup writes an unencrypted backup archive of the running node to w:
// the API handler's work, for embedding and tests.
func (n *Node) Backup(w io.Writer) (api.BackupDB, error) {
	now := time.Now()
	files, err := n.backupFiles(now)
	if err != nil {
		return api.BackupDB{}, err
	}
	return writeArchive(w, files, n.store, now)
}

type archiveFile struct {
	name string
	data []byte
}

// backupFiles reads the manifest, config and keys to archive. The keys
// are read from the home, byte for byte, and must be the ones the daemon
// runs with: a backup whose keys do not open its database is worthless.
func (n *Node) backupFiles(now time.Time) ([]archiveFile, error) {
	id, err := crypto.LoadIdentity(n.home.Keys())
	if err != nil {
		return nil, fmt.Errorf("reading the keys to back up: %w", err)
	}
	if id.MemberID() != n.id.MemberID() || id.PeerID() != n.id.PeerID() ||
		id.Age.String() != n.id.Age.String() || !bytes.Equal(id.StoreKey, n.id.StoreKey) {
		return nil, fmt.Errorf("the keys in %s are not the ones the daemon runs with: restart the daemon, then back up", n.home.Keys())
	}
	manifest, err := json.MarshalIndent(api.BackupManifest{
		Format: api.BackupFormat, Created: now.UTC(), MemberID: n.id.MemberID(), PeerID: n.id.PeerID().String(),
		Name: n.cfg.Member.Name, Country: n.cfg.Member.Country, Version: Version(),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []archiveFile{{manifestEntry, manifest}}
	for _, name := range homeEntries {
		data, err := os.ReadFile(filepath.Join(string(n.home), filepath.FromSlash(name)))
		if err != nil {
			return nil, fmt.Errorf("reading %s to back up: %w", name, err)
		}
		files = append(files, archiveFile{name, data})
	}
	return files, nil
}

// writeArchive writes files, then a snapshot of st in chunks, then
// db.json.
func writeArchive(w io.Writer, files []archiveFile, st *store.Store, created time.Time) (api.BackupDB, error) {
	tw := tar.NewWriter(w)
	for _, f := range files {
		if err := writeEntry(tw, f.name, f.data, created); err != nil {
			return api.BackupDB{}, err
		}
	}
	cw := &chunkWriter{tw: tw, created: created, hash: sha256.New(), buf: make([]byte, 0, backupChunk)}
	version, err := st.Backup(cw)
	if err == nil {
		err = cw.flush()
	}
	if err != nil {
		return api.BackupDB{}, fmt.Errorf("backing up the database: %w", err)
	}
	db := api.BackupDB{BadgerVersion: version, Bytes: cw.total, Chunks: cw.chunks, SHA256: hex.EncodeToString(cw.hash.Sum(nil))}
	data, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return db, err
	}
	if err := writeEntry(tw, dbEntry, data, created); err != nil {
		return db, err
	}
	return db, tw.Close()
}

func writeEntry(tw *tar.Writer, name string, data []byte, mtime time.Time) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o600, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// chunkWriter cuts the Badger stream into db.backup.NNNNNN entries.
type chunkWriter struct {
	tw      *tar.Writer
	created time.Time
	buf     []byte
	hash    hash.Hash
	total   int64
	chunks  int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if err := writeEntry(c.tw, chunkName(c.chunks), c.buf, c.created); err != nil {
		return err
	}
	c.hash.Write(c.buf)
	c.total += int64(len(c.buf))
	c.chunks++
	c.buf = c.buf[:0]
	return nil
}

// ErrWrongPassphrase reports a backup encrypted with another passphrase.
var ErrWrongPassphrase = errors.New("wrong passphrase: this backup was encrypted with another one")

// ErrEmptyPassphrase refuses to encrypt a backup with nothing.
var ErrEmptyPassphrase = errors.New("the backup passphrase is empty: a backup holds the member's secret keys and must be encrypted with a real passphrase")

// SealBackup returns a writer that encrypts what it is given to w with
// age, under passphrase (scrypt); Close completes the file.
func SealBackup(w io.Writer, passphrase string) (io.WriteCloser, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	return age.Encrypt(w, r)
}

// OpenBackup decrypts a file written through SealBackup. The reader it
// returns fails if the file was altered or cut short.
func OpenBackup(r io.Reader, passphrase string) (io.Reader, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	out, err := age.Decrypt(r, id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch) && len(noMatch.StanzaTypes) == 1 && noMatch.StanzaTypes[0] == "scrypt":
		return nil, ErrWrongPassphrase
	case errors.As(err, &noMatch):
		return nil, errors.New("not a concord backup: this age file is encrypted to keys, not with a passphrase")
	case err != nil:
		return nil, fmt.Errorf("not a concord backup (not an age-encrypted file): %w", err)
	}
	return out, nil
}
