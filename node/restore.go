package node

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/fsutil"
	"github.com/concordnet/concord/node/audit"
	"github.com/concordnet/concord/node/backup"
	"github.com/concordnet/concord/node/localapi"
	"github.com/concordnet/concord/node/store"
)

// RestoreResult says what Restore put into a new home.
type RestoreResult struct {
	Home      Home            `json:"home"`
	Manifest  backup.Manifest `json:"manifest"`
	DB        backup.DB       `json:"db"`
	Topics    int             `json:"topics"`
	Bulletins int             `json:"bulletins"`
}

// Restore recreates a node home from a backup file written by `concord
// backup`, decrypting it with passphrase. h must not exist or be empty;
// on failure Restore removes all it wrote. config.toml is written last,
// so a restore cut short (a crash, a power loss) never leaves a home a
// daemon would start from.
func Restore(h Home, file io.Reader, passphrase string, log *slog.Logger) (*RestoreResult, error) {
	created, err := claimHome(h)
	if err != nil {
		return nil, err
	}
	// Held while restoring, so no daemon starts on a half-restored home.
	lock, err := lockHome(h)
	if err == nil {
		var res *RestoreResult
		res, err = restoreInto(h, file, passphrase, log)
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

func restoreInto(h Home, file io.Reader, passphrase string, log *slog.Logger) (*RestoreResult, error) {
	plain, err := backup.Open(file, passphrase)
	if err != nil {
		return nil, err
	}
	var id *crypto.Identity
	m, db, err := backup.Reader{
		Build: Version(),
		Home: func(m backup.Manifest, files map[string][]byte) (err error) {
			id, err = restoreFiles(h, m, files)
			return err
		},
		DB: func(r io.Reader) error { return store.Restore(h.DB(), id.StoreKey, r, log) },
	}.Read(plain)
	if err != nil {
		return nil, err
	}
	res := &RestoreResult{Home: h, Manifest: m, DB: db}
	if res.Topics, res.Bulletins, err = countRestored(h, id, m, log); err != nil {
		return nil, err
	}
	if err := fsutil.WriteNew(h.Restored(), []byte(m.Created.UTC().Format(time.RFC3339)+"\n")); err != nil {
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
func restoreFiles(h Home, m backup.Manifest, files map[string][]byte) (*crypto.Identity, error) {
	if err := os.Mkdir(h.Keys(), 0o700); err != nil {
		return nil, err
	}
	for _, name := range backup.HomeFiles() {
		path := filepath.Join(string(h), filepath.FromSlash(name))
		if name == backup.ConfigFile {
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
// proof that the two go together, and the figures restore reports. It
// records the restore in the audit log.
func countRestored(h Home, id *crypto.Identity, m backup.Manifest, log *slog.Logger) (topics, bulletins int, err error) {
	st, err := store.Open(h.DB(), id.StoreKey, log)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	if err := auditRestore(h, st, m); err != nil {
		return 0, 0, err
	}
	recs, err := st.Topics()
	if err != nil {
		return 0, 0, err
	}
	bulletins, err = st.CountBulletins()
	return len(recs), bulletins, err
}

// auditRestore records the restore in the restored audit log, as the OS
// user who ran it: the log goes on from the backup's chain, and this
// entry marks where (the entries the old node wrote after the backup
// exist only in its exports and shipped heads).
func auditRestore(h Home, st *store.Store, m backup.Manifest) error {
	l, err := audit.Open(st, h.AuditHead())
	if err != nil {
		return err
	}
	c := localapi.ResolveCaller(uint32(os.Getuid()), uint32(os.Getgid()), int32(os.Getpid()))
	_, err = l.Append(audit.Entry{User: c.User, UID: c.UID, Action: "restore", Outcome: audit.OK,
		Detail: "from a backup taken " + m.Created.UTC().Format(time.RFC3339)})
	return err
}
