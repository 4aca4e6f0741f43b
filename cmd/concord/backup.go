package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/internal/fsutil"
	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/backup"
)

// passphraseEnv holds the backup passphrase when no --passphrase-file is
// given.
const passphraseEnv = "CONCORD_BACKUP_PASSPHRASE"

const backupSensitivity = `The backup holds the member's secret keys and its whole database: keep it as
safe as the home itself, and never run a restored node beside the original.`

func newBackupCmd(g *globals) *cobra.Command {
	var passFile string
	var generate bool
	c := &cobra.Command{
		Use:   "backup FILE [--passphrase-file F [--generate-passphrase]]",
		Short: "Write an encrypted backup of the running node: config, keys and database",
		Long: `Write a consistent backup of the running node to FILE: its config.toml, its
four key files and a snapshot of its database, taken while the daemon keeps
working. The file is a tar archive encrypted with age under a passphrase
(scrypt), read from the first line of --passphrase-file or from
$` + passphraseEnv + `. ` + passphraseRule + `; a weaker one is
refused. --generate-passphrase writes a new random passphrase to
--passphrase-file (0600, never over an existing file) and uses it.

` + backupSensitivity + `

FILE is created with mode 0600 and appears only once complete; an existing
file is never overwritten. Restore it with concord restore.`,
		Example: `  concord backup node.age --generate-passphrase --passphrase-file /etc/concord/backup.pass
  concord backup /srv/backup/concord-$(date +%F).age --passphrase-file /etc/concord/backup.pass
  CONCORD_BACKUP_PASSPHRASE=... concord backup node.age`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := checkBackupDir(args[0]); err != nil {
				return err
			}
			if generate {
				return g.backupGenerated(ctx, args[0], passFile)
			}
			pass, err := backupPassphrase(passFile)
			if err != nil {
				return err
			}
			if err := checkPassphrase(pass, passFile); err != nil {
				return err
			}
			return g.backup(ctx, args[0], pass)
		},
	}
	c.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from the first line of this file (default $"+passphraseEnv+")")
	c.Flags().BoolVar(&generate, "generate-passphrase", false, "write a new random passphrase to --passphrase-file (which must not exist) and use it")
	return c
}

func newRestoreCmd(g *globals) *cobra.Command {
	var passFile string
	c := &cobra.Command{
		Use:   "restore FILE [--home NEW] [--passphrase-file FILE]",
		Short: "Recreate a node home from a backup, into a new home",
		Long: `Recreate a node from a file written by concord backup: decrypt it with the
passphrase (first line of --passphrase-file, or $` + passphraseEnv + `),
check it, and write config.toml, the keys (0600, keys/ 0700) and the database
into the home, which must not exist or be empty. A home that holds a node,
or one a daemon runs on, is refused; nothing is left behind on failure.

Then start the daemon on the new home: it catches up with its peers on what
was published since the backup. Stop the original node for good first: two
nodes with the same keys must never run at once.`,
		Example: `  concord --home /srv/concord restore concord-2026-05-01.age --passphrase-file /etc/concord/backup.pass`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pass, err := backupPassphrase(passFile)
			if err != nil {
				return err
			}
			return g.restore(args[0], pass)
		},
	}
	c.Flags().StringVar(&passFile, "passphrase-file", "", "read the passphrase from the first line of this file (default $"+passphraseEnv+")")
	return c
}

// backupPassphrase reads the passphrase from file's first line, else
// from the environment.
func backupPassphrase(file string) (string, error) {
	pass, from := os.Getenv(passphraseEnv), "$"+passphraseEnv
	if file != "" {
		f, err := os.Open(file)
		if errors.Is(err, fs.ErrNotExist) {
			return "", usageError{fmt.Errorf("passphrase file %s does not exist: give --passphrase-file the file that holds the backup passphrase (a new one is made by `concord backup FILE --generate-passphrase --passphrase-file %s`)", file, shellQuote(file))}
		}
		if err != nil {
			return "", fmt.Errorf("cannot read passphrase file %s: %w", file, pathCause(err))
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("reading the passphrase from %s: %w", file, err)
		}
		pass, from = strings.TrimRight(line, "\r\n"), file
	}
	if pass == "" {
		return "", usageError{fmt.Errorf("no passphrase (%s is empty): give --passphrase-file FILE or set %s; a backup holds the member's secret keys and is always encrypted", from, passphraseEnv)}
	}
	return pass, nil
}

// The backup passphrase rule: the archive holds the member's secret keys
// and scrypt slows guessing only so much. Restore does not apply it, so
// that backups made before it still restore.
const (
	minPassphraseLen      = 16
	minPassphraseDistinct = 10
	passphraseRule        = "The passphrase needs at least 16 characters, 10 of them distinct"
)

// checkPassphrase refuses a passphrase too weak for a backup.
func checkPassphrase(pass, file string) error {
	runes := []rune(pass)
	distinct := map[rune]bool{}
	for _, r := range runes {
		distinct[r] = true
	}
	if len(runes) >= minPassphraseLen && len(distinct) >= minPassphraseDistinct {
		return nil
	}
	from := "$" + passphraseEnv
	if file != "" {
		from = file
	}
	return usageError{fmt.Errorf("the passphrase in %s is too weak (%d characters, %d distinct): a backup holds the member's secret keys, so it needs at least %d characters, %d of them distinct; generate one with `concord backup FILE --generate-passphrase --passphrase-file NEWFILE`",
		from, len(runes), len(distinct), minPassphraseLen, minPassphraseDistinct)}
}

// generatePassphrase returns 24 random base32 characters (120 bits) in
// groups of 4, easy to read out and type: ABCD-EFGH-….
func generatePassphrase() (string, error) {
	for {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generating a passphrase: %w", err)
		}
		s := base32.StdEncoding.EncodeToString(b)
		var groups []string
		for i := 0; i < len(s); i += 4 {
			groups = append(groups, s[i:i+4])
		}
		// Too few distinct characters is possible (about once in 10^7):
		// draw again rather than hand out what backup would refuse.
		if pass := strings.Join(groups, "-"); checkPassphrase(pass, "") == nil {
			return pass, nil
		}
	}
}

// backupGenerated writes a new passphrase to passFile, then the backup
// under it; a failed backup removes the passphrase file again.
func (g *globals) backupGenerated(ctx context.Context, path, passFile string) error {
	if passFile == "" {
		return usageError{errors.New("--generate-passphrase needs --passphrase-file FILE: the new passphrase is written there, never printed")}
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: a backup never overwrites a file; choose a new name", path)
	}
	pass, err := generatePassphrase()
	if err != nil {
		return err
	}
	if err := writeNewFile(passFile, pass+"\n"); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backup: wrote a new passphrase to %s (mode 0600); keep it apart from the backup: without it the backup cannot be restored\n", passFile)
	if err := g.backup(ctx, path, pass); err != nil {
		os.Remove(passFile)
		return fmt.Errorf("%w (%s removed: it protected nothing)", err, passFile)
	}
	return nil
}

// checkBackupDir refuses, before anything is asked of the daemon, a FILE
// whose folder does not exist: the message names the folder the user
// gave, not the temporary file the backup writes first.
func checkBackupDir(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("folder %s does not exist: create it first (mkdir -p %s) or give a FILE in an existing folder; nothing written", dir, shellQuote(dir))
	case err != nil:
		return fmt.Errorf("cannot use folder %s for the backup: %w; nothing written", dir, pathCause(err))
	case !info.IsDir():
		return fmt.Errorf("%s is not a folder, so %s cannot be written in it; give another FILE; nothing written", dir, path)
	}
	return nil
}

// pathCause is the cause of a file-system error without the path it
// names, for messages that name the path the user gave instead.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeNewFile creates path with mode 0600 and content, refusing to
// replace an existing file.
func writeNewFile(path, content string) error {
	err := fsutil.WriteNew(path, []byte(content))
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists: --generate-passphrase never overwrites a file; choose a new name, or drop --generate-passphrase to use the passphrase it holds", path)
	case err != nil:
		return fmt.Errorf("writing the passphrase to %s: %w", path, err)
	}
	return nil
}

func (g *globals) backup(ctx context.Context, path, pass string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: a backup never overwrites a file; choose a new name", path)
	}
	body, err := call(ctx, g, (*api.Client).Backup)
	if err != nil {
		return err
	}
	defer body.Close()
	// The temporary file sits beside FILE, so the final link is atomic.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write the backup in folder %s: %w; nothing written", filepath.Dir(path), pathCause(err))
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	progress := &progressWriter{w: tmp}
	manifest, db, err := sealStream(body, progress, pass)
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("backup interrupted: nothing written")
		}
		return fmt.Errorf("%w; nothing written", err)
	}
	if err := keepFile(tmp.Name(), path); err != nil {
		return err
	}
	return printBackup(g, path, progress.n, manifest, db)
}

// sealStream encrypts the daemon's archive into w while checking it
// entry by entry: a stream cut short is never kept as a backup.
func sealStream(body io.Reader, w io.Writer, pass string) (backup.Manifest, backup.DB, error) {
	sealed, err := backup.Seal(w, pass)
	if err != nil {
		return backup.Manifest{}, backup.DB{}, err
	}
	m, db, err := backup.Verify(io.TeeReader(body, sealed), node.Version())
	if err != nil {
		return m, db, fmt.Errorf("the daemon's backup stream is incomplete: %w", err)
	}
	return m, db, sealed.Close()
}

// keepFile gives tmp its final name, refusing to replace a file that
// appeared meanwhile: a hard link fails if the name exists, a rename
// would not.
func keepFile(tmp, path string) error {
	err := os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s appeared during the backup: a backup never overwrites a file; nothing written", path)
	}
	if err != nil {
		// Some filesystems have no hard links: check, then rename.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("%s appeared during the backup: a backup never overwrites a file; nothing written", path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func printBackup(g *globals, path string, size int64, m backup.Manifest, db backup.DB) error {
	if g.json {
		return printJSON(stdout, map[string]any{"file": path, "bytes": size, "manifest": m, "db": db})
	}
	fmt.Fprintf(stdout, "backed up member %s (%s, %s) to %s\n%s encrypted; database %s at Badger version %d\n",
		m.MemberID, m.Name, m.Country, path, backupBytes(size), backupBytes(db.Bytes), db.BadgerVersion)
	fmt.Fprintln(stderr, backupSensitivity)
	return nil
}

func (g *globals) restore(path, pass string) error {
	h, err := node.ResolveHome(g.home)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := node.Restore(h, bufio.NewReaderSize(f, 1<<20), pass, log)
	if err != nil {
		return fmt.Errorf("restoring %s: %w", path, err)
	}
	if g.json {
		return printJSON(stdout, res)
	}
	m := res.Manifest
	fmt.Fprintf(stdout, "restored member %s (%s, %s) into %s\nbackup of %s UTC: %d topic(s), %d bulletin(s), database %s\n",
		m.MemberID, m.Name, m.Country, h, minuteUTC(m.Created), res.Topics, res.Bulletins, backupBytes(res.DB.Bytes))
	fmt.Fprintf(stdout, "next: start the node with `concord --home %s daemon`; it catches up with its peers on what was published since the backup\n", h)
	return nil
}

// progressWriter counts the bytes written and reports them on stderr at
// most once a second, from the first second on: short backups stay
// quiet. Its clock starts at the first write, after the passphrase's
// key derivation (about a second of scrypt).
type progressWriter struct {
	w           io.Writer
	n           int64
	start, last time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start, p.last = time.Now(), time.Now()
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= time.Second {
		p.last = now
		fmt.Fprintf(stderr, "backup: %s written in %s\n", backupBytes(p.n), now.Sub(p.start).Round(time.Second))
	}
	return n, err
}

// backupBytes renders n in binary units.
func backupBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
