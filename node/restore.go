package node

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/fsutil"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// RestoreResult says what Restore put into a new home.
type RestoreResult struct {
	Home      Home               `json:"home"`
	Manifest  api.BackupManifest `json:"manifest"`
	DB        api.BackupDB       `json:"db"`
	Topics    int                `json:"topics"`
	Bulletins int                `json:"bulletins"`
}

// Restore recreates a node home from a backup file written by `concord
// backup`, decrypting it with passphrase. h must not exist or be empty;
// on failure Restore removes all it wrote. config.toml is written last,
// so a restore cut short (a crash, a power loss) never leaves a home a
// daemon would start from.
func Restore(h Home, backup io.Reader, passphrase string, log *slog.Logger) (*RestoreResult, error) {
	created, err := claimHome(h)
	if err != nil {
		return nil, err
	}
	// Held while restoring, so no daemon starts on a half-restored home.
	lock, err := lockHome(h)
	if err == nil {
		var res *RestoreResult
		res, err = restoreInto(h, backup, passphrase, log)
		lock.Close()
		if err == nil {
			return res, nil
		}
	}
	removeRestored(h, created)
	return nil, err
}

// claimHome checks that h is new or empty, and creates it (0700). It
// reports whether it created the directory.
func claimHome(h Home) (bool, error) {
	entries, err := os.ReadDir(string(h))
	if errors.Is(err, fs.ErrNotExist) {
		return true, os.MkdirAll(string(h), 0o700)
	}
	if err != nil {
		return false, err
	}
	switch {
	case len(entries) == 0:
		return false, os.Chmod(string(h), 0o700)
	case daemonHolds(h):
		return false, fmt.Errorf("%w for home %s: a backup is restored only into a new home (--home NEW), never over a node", ErrDaemonRunning, h)
	case restoreExists(h.Config()):
		return false, fmt.Errorf("%s already holds a node (config.toml): a backup is restored only into a new home (--home NEW), never over a node", h)
	default:
		return false, fmt.Errorf("%s is not empty (it holds %s): restore into a new or empty home; if a restore into it was interrupted, remove the directory and restore again", h, entries[0].Name())
	}
}

// daemonHolds reports whether a daemon holds h's lock, without taking it.
func daemonHolds(h Home) bool {
	f, err := os.Open(h.Lock())
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

func restoreExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// stagedConfig is where the restored config waits until the restore is
// complete.
func stagedConfig(h Home) string { return h.Config() + ".restoring" }

// removeRestored undoes a failed restore: the home was new or empty, so
// everything in it is ours.
func removeRestored(h Home, created bool) {
	for _, p := range []string{stagedConfig(h), h.Config(), h.Keys(), h.DB(), h.Lock()} {
		os.RemoveAll(p)
	}
	if created {
		os.Remove(string(h))
	}
}

func restoreInto(h Home, backup io.Reader, passphrase string, log *slog.Logger) (*RestoreResult, error) {
	plain, err := OpenBackup(backup, passphrase)
	if err != nil {
		return nil, err
	}
	var id *crypto.Identity
	var manifest api.BackupManifest
	_, db, err := readArchive(plain, archiveVisitor{
		manifest: func(m api.BackupManifest) { manifest = m },
		files: func(files map[string][]byte) (err error) {
			id, err = restoreFiles(h, manifest, files)
			return err
		},
		db: func(r io.Reader) error { return store.Restore(h.DB(), id.StoreKey, r, log) },
	})
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{Home: h, Manifest: manifest, DB: db}
	if res.Topics, res.Bulletins, err = countRestored(h, id, log); err != nil {
		return nil, err
	}
	if err := os.Rename(stagedConfig(h), h.Config()); err != nil {
		return nil, err
	}
	return res, syncRestoredDir(string(h))
}

// restoreFiles writes the keys (0600 in a 0700 directory) and stages the
// config, then checks that the keys are those of the manifest's member
// and that the config is valid.
func restoreFiles(h Home, m api.BackupManifest, files map[string][]byte) (*crypto.Identity, error) {
	if err := os.Mkdir(h.Keys(), 0o700); err != nil {
		return nil, err
	}
	for _, name := range homeEntries {
		path := filepath.Join(string(h), filepath.FromSlash(name))
		if name == configEntry {
			path = stagedConfig(h)
		}
		if err := fsutil.WriteNew(path, files[name]); err != nil {
			return nil, err
		}
	}
	if err := syncRestoredDir(h.Keys()); err != nil {
		return nil, err
	}
	id, err := crypto.LoadIdentity(h.Keys())
	if err != nil {
		return nil, fmt.Errorf("the backup's keys do not load (%w): the file is damaged", err)
	}
	if id.MemberID() != m.MemberID || id.PeerID().String() != m.PeerID {
		return nil, fmt.Errorf("the backup's keys are not those of member %s named in its manifest: the file is damaged", m.MemberID)
	}
	if _, err := LoadConfig(stagedConfig(h)); err != nil {
		return nil, fmt.Errorf("the backup's config.toml is not valid: %w", err)
	}
	return id, nil
}

func syncRestoredDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// countRestored opens the restored database with the restored store key:
// proof that the two go together, and the figures restore reports.
func countRestored(h Home, id *crypto.Identity, log *slog.Logger) (topics, bulletins int, err error) {
	st, err := store.Open(h.DB(), id.StoreKey, log)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	recs, err := st.Topics()
	if err != nil {
		return 0, 0, err
	}
	bulletins, err = st.CountBulletins()
	return len(recs), bulletins, err
}

// VerifyBackup reads a decrypted archive to its end and checks its
// layout and the size and digest of its database stream: what `concord
// backup` does with the daemon's stream before it keeps the file.
func VerifyBackup(r io.Reader) (api.BackupManifest, api.BackupDB, error) {
	return readArchive(r, archiveVisitor{})
}

// archiveVisitor receives the parts of an archive, in order; nil members
// skip them (they are still read and checked).
type archiveVisitor struct {
	manifest func(api.BackupManifest)
	// files receives config.toml and the keys by entry name, before db.
	files func(map[string][]byte) error
	// db reads the Badger backup stream; whatever it leaves is skipped.
	db func(io.Reader) error
}

// errBadArchive qualifies every error due to the archive's content.
func errBadArchive(format string, a ...any) error {
	return fmt.Errorf("the backup is damaged or not a concord backup: "+format, a...)
}

// readArchive walks an archive, checks it against its manifest and
// db.json, and hands its parts to v.
func readArchive(r io.Reader, v archiveVisitor) (api.BackupManifest, api.BackupDB, error) {
	var m api.BackupManifest
	var db api.BackupDB
	tr := tar.NewReader(r)
	hdr, err := nextArchiveEntry(tr)
	if err != nil {
		return m, db, err
	}
	if err := readManifest(tr, hdr, &m); err != nil {
		return m, db, err
	}
	if v.manifest != nil {
		v.manifest(m)
	}
	files, hdr, err := readHomeFiles(tr)
	if err != nil {
		return m, db, err
	}
	if v.files != nil {
		if err := v.files(files); err != nil {
			return m, db, err
		}
	}
	cr := &chunkReader{tr: tr, hdr: hdr, hash: sha256.New()}
	if v.db != nil {
		if err := v.db(cr); err != nil {
			return m, db, err
		}
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return m, db, err
	}
	if err := readDBEntry(tr, cr, &db); err != nil {
		return m, db, err
	}
	if _, err := tr.Next(); err != io.EOF {
		return m, db, errBadArchive("entries follow %s", dbEntry)
	}
	// Reading to the very end lets age authenticate the last chunk.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return m, db, archiveReadError(err)
	}
	return m, db, nil
}

// nextArchiveEntry returns the next regular entry; the archive must have one.
func nextArchiveEntry(tr *tar.Reader) (*tar.Header, error) {
	hdr, err := tr.Next()
	if err == io.EOF {
		return nil, errBadArchive("the archive ends before %s: the file is truncated", dbEntry)
	}
	if err != nil {
		return nil, archiveReadError(err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, errBadArchive("entry %q is not a regular file", hdr.Name)
	}
	return hdr, nil
}

// archiveReadError explains a failure to read or decrypt the file.
func archiveReadError(err error) error {
	return fmt.Errorf("reading the backup: %w (the file is truncated or has been altered)", err)
}

func readArchiveSmall(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	if hdr.Size > maxSmallEntry {
		return nil, errBadArchive("entry %q has %d bytes", hdr.Name, hdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, archiveReadError(err)
	}
	return data, nil
}

func readManifest(tr *tar.Reader, hdr *tar.Header, m *api.BackupManifest) error {
	if hdr.Name != manifestEntry {
		return errBadArchive("it starts with %q, not %s", hdr.Name, manifestEntry)
	}
	data, err := readArchiveSmall(tr, hdr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, m); err != nil {
		return errBadArchive("%s: %v", manifestEntry, err)
	}
	switch {
	case m.Format > api.BackupFormat:
		return fmt.Errorf("this backup has format %d, written by a newer concord (%s); this one (%s) reads format %d: restore it with a concord at least as new", m.Format, m.Version, Version(), api.BackupFormat)
	case m.Format != api.BackupFormat:
		return errBadArchive("%s has no valid format", manifestEntry)
	case !crypto.ValidMemberID(m.MemberID) || m.Created.IsZero():
		return errBadArchive("%s names no valid member or creation time", manifestEntry)
	}
	return nil
}

// readHomeFiles reads config.toml and the keys, each exactly once, and
// returns them with the header of the entry after them.
func readHomeFiles(tr *tar.Reader) (map[string][]byte, *tar.Header, error) {
	files := map[string][]byte{}
	for {
		hdr, err := nextArchiveEntry(tr)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(homeEntries, hdr.Name) {
			for _, name := range homeEntries {
				if files[name] == nil {
					return nil, nil, errBadArchive("%s is missing (found %q)", name, hdr.Name)
				}
			}
			return files, hdr, nil
		}
		if files[hdr.Name] != nil {
			return nil, nil, errBadArchive("%s appears twice", hdr.Name)
		}
		if files[hdr.Name], err = readArchiveSmall(tr, hdr); err != nil {
			return nil, nil, err
		}
	}
}

// readDBEntry reads db.json, the entry after the chunks, and checks the
// stream cr read against it.
func readDBEntry(tr *tar.Reader, cr *chunkReader, db *api.BackupDB) error {
	if cr.hdr.Name != dbEntry {
		return errBadArchive("unexpected entry %q after the database", cr.hdr.Name)
	}
	data, err := readArchiveSmall(tr, cr.hdr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, db); err != nil {
		return errBadArchive("%s: %v", dbEntry, err)
	}
	if sum := hex.EncodeToString(cr.hash.Sum(nil)); db.Bytes != cr.total || db.Chunks != cr.chunks || db.SHA256 != sum {
		return errBadArchive("the database stream has %d bytes in %d chunks (sha256 %s), %s says %d in %d (sha256 %s)",
			cr.total, cr.chunks, sum, dbEntry, db.Bytes, db.Chunks, db.SHA256)
	}
	return nil
}

// chunkReader joins the db.backup.NNNNNN entries into one stream. At its
// end, hdr is the header of the entry after them.
type chunkReader struct {
	tr      *tar.Reader
	hdr     *tar.Header
	inChunk bool
	done    bool
	chunks  int
	total   int64
	hash    hash.Hash
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for !c.done {
		if !c.inChunk {
			if err := c.enter(); err != nil || c.done {
				return 0, err
			}
		}
		n, err := c.tr.Read(p)
		c.hash.Write(p[:n])
		c.total += int64(n)
		switch {
		case err == io.EOF:
			c.inChunk = false
			if c.hdr, err = nextArchiveEntry(c.tr); err != nil {
				return n, err
			}
		case err != nil:
			return n, archiveReadError(err)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

// enter starts reading the entry at hdr if it is the next chunk, and
// marks the stream done if it is not a chunk.
func (c *chunkReader) enter() error {
	switch {
	case c.hdr.Name == chunkName(c.chunks):
		c.inChunk = true
		c.chunks++
	case strings.HasPrefix(c.hdr.Name, chunkPrefix):
		return errBadArchive("chunk %q where %q was expected", c.hdr.Name, chunkName(c.chunks))
	default:
		c.done = true
	}
	return nil
}
