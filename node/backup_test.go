package node

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/audit"
	"github.com/concordnet/concord/node/backup"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

const testPassphrase = "correct horse battery staple"

// backupFile takes a backup of n through its local API, as `concord
// backup` does, and writes it encrypted to a file.
func backupFile(t *testing.T, n *Node) string {
	t.Helper()
	body, err := api.NewClient(string(n.home), n.home.Socket()).Backup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	path := filepath.Join(t.TempDir(), "node.age")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sealed, err := backup.Seal(f, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(sealed, body); err != nil {
		t.Fatal(err)
	}
	if err := sealed.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func restoreFile(h Home, path, passphrase string) (*RestoreResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Restore(h, f, passphrase, quietLog())
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func listJSON(t *testing.T, st *store.Store) string {
	t.Helper()
	recs, err := st.List(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// held lists the envelopes and bulletins a node holds, without what is
// local to the node (when and in which order it received them).
func held(t *testing.T, n *Node) []string {
	t.Helper()
	recs, err := n.store.List(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %x %s %d %s", r.ID, r.Envelope, r.Author, r.Seq, r.Bulletin))
	}
	return out
}

// A node backed up while it runs and restored into a new home starts
// with the same identity and exactly the backed-up bulletins, catches up
// with its peer on what it published after the backup, and goes on from
// there without reusing a sequence number.
func TestBackupAndRestoreANode(t *testing.T) {
	nodes, id := federation(t, 2, "corruption")
	a, b := nodes[0], nodes[1]
	for _, title := range []string{"one", "two", "three"} {
		publish(t, a, id, draft(title))
	}
	fromB := publish(t, b, id, draft("from b"))
	eventually(t, 20*time.Second, "a misses b's bulletin", func() bool { return readable(a, fromB.ID) })
	path := backupFile(t, a)
	atBackup := listJSON(t, a.store)
	late := publish(t, a, id, draft("after the backup"))
	eventually(t, 20*time.Second, "b misses a's last bulletin", func() bool { return readable(b, late.ID) })
	final := held(t, a)

	if _, err := restoreFile(a.home, path, testPassphrase); !errors.Is(err, ErrDaemonRunning) {
		t.Fatalf("restore over a running node: %v", err)
	}
	r := Home(filepath.Join(t.TempDir(), "restored"))
	if _, err := restoreFile(r, path, "wrong "+testPassphrase); !errors.Is(err, backup.ErrWrongPassphrase) {
		t.Fatalf("restore with a wrong passphrase: %v", err)
	}
	if _, err := os.Stat(string(r)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed restore left %s behind: %v", r, err)
	}

	// Only one node with these keys may run at once.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreFile(a.home, path, testPassphrase); err == nil || !strings.Contains(err.Error(), "already holds a node") {
		t.Fatalf("restore over a stopped node: %v", err)
	}
	res, err := restoreFile(r, path, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.MemberID != a.MemberID() || res.Manifest.PeerID != a.host.ID().String() || res.Topics != 1 || res.Bulletins != 4 {
		t.Fatalf("restore reports %+v", res)
	}
	checkModes(t, r)
	st, err := store.Open(r.DB(), a.id.StoreKey, a.log)
	if err != nil {
		t.Fatal(err)
	}
	restored := listJSON(t, st)
	var last audit.Entry
	if err := st.AuditEntries(0, func(_ uint64, raw []byte) error { return json.Unmarshal(raw, &last) }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if last.Action != "restore" || last.Outcome != audit.OK || !strings.HasPrefix(last.Detail, "from a backup taken ") {
		t.Fatalf("the restored audit log ends with %+v, want the restore", last)
	}
	if restored != atBackup {
		t.Fatalf("restored bulletins differ from the backed-up ones:\n got %s\nwant %s", restored, atBackup)
	}

	a2, err := Start(r, a.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	if a2.host.ID() != a.host.ID() || a2.MemberID() != a.MemberID() {
		t.Fatal("the restored node has another identity")
	}
	waitMesh(t, []*Node{a2, b}, id)
	eventually(t, 20*time.Second, "the restored node does not catch up on what it published after the backup", func() bool {
		return slices.Equal(held(t, a2), final)
	})
	next := publish(t, a2, id, draft("after the restore"))
	if next.Seq != late.Seq+1 {
		t.Fatalf("the restored node published seq %d, want %d", next.Seq, late.Seq+1)
	}
	eventually(t, 20*time.Second, "b misses the restored node's bulletin", func() bool { return readable(b, next.ID) })
	reply := publish(t, b, id, draft("reply"))
	eventually(t, 20*time.Second, "the restored node misses b's bulletin", func() bool { return readable(a2, reply.ID) })
	if ev, _ := b.store.Equivocations(); len(ev) > 0 {
		t.Fatalf("b saw equivocations: %+v", ev)
	}
}

// checkModes checks that a restored home is private: 0700 directories,
// 0600 files.
func checkModes(t *testing.T, h Home) {
	t.Helper()
	for path, want := range map[string]fs.FileMode{
		string(h): 0o700, h.Keys(): 0o700, h.Config(): 0o600,
		filepath.Join(h.Keys(), crypto.MemberKeyFile): 0o600, filepath.Join(h.Keys(), crypto.AgeKeyFile): 0o600,
		filepath.Join(h.Keys(), crypto.PeerKeyFile): 0o600, filepath.Join(h.Keys(), crypto.StoreKeyFile): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
}

// rewrite copies a plain archive through edit, which returns an entry's
// new content, or nil to drop it.
func rewrite(t *testing.T, archive []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for hdr, data := range tarEntries(t, archive) {
		if data = edit(hdr.Name, data); data == nil {
			continue
		}
		err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: hdr.Name, Size: int64(len(data)), Mode: 0o600, ModTime: hdr.ModTime})
		if err == nil {
			_, err = tw.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	return out.Bytes()
}

// tarEntries yields each entry of a plain archive with its content.
func tarEntries(t *testing.T, archive []byte) iter.Seq2[*tar.Header, []byte] {
	return func(yield func(*tar.Header, []byte) bool) {
		tr := tar.NewReader(bytes.NewReader(archive))
		for hdr, err := tr.Next(); err != io.EOF; hdr, err = tr.Next() {
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(tr)
			if !yield(hdr, data) {
				return
			}
		}
	}
}

func seal(t *testing.T, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := backup.Seal(&buf, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	w.Close()
	return buf.Bytes()
}

// A damaged, truncated, altered or foreign backup is refused with a
// reason, and the home is left as it was.
func TestRestoreRefusesDamagedBackups(t *testing.T) {
	n := startNode(t, "Agency", "KEN")
	s, err := n.CreateTopic(context.Background(), "terrorism", "Cells", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, n, s.ID, draft("a bulletin"))
	var plain bytes.Buffer
	if _, err := n.Backup(&plain); err != nil {
		t.Fatal(err)
	}
	good := seal(t, plain.Bytes())
	other, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	otherKeys := t.TempDir()
	if err := other.Save(otherKeys); err != nil {
		t.Fatal(err)
	}
	foreignKey, _ := os.ReadFile(filepath.Join(otherKeys, crypto.MemberKeyFile))
	edited := func(edit func(name string, data []byte) []byte) []byte {
		return seal(t, rewrite(t, plain.Bytes(), edit))
	}
	altered := bytes.Clone(good)
	altered[len(altered)/2] ^= 1
	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"truncated", "truncated", good[:len(good)*2/3]},
		{"altered", "altered", altered},
		{"not age", "not an age-encrypted file", plain.Bytes()},
		{"newer format", "newer concord", edited(func(name string, data []byte) []byte {
			if name == "manifest.json" {
				return bytes.Replace(data, []byte(`"format": 1`), []byte(`"format": 2`), 1)
			}
			return data
		})},
		{"no db.json", "truncated", edited(func(name string, data []byte) []byte {
			if name == "db.json" {
				return nil
			}
			return data
		})},
		{"chunk changed", "sha256", edited(func(name string, data []byte) []byte {
			if strings.HasPrefix(name, "db.backup.") {
				data[len(data)-1] ^= 1
			}
			return data
		})},
		{"missing key", "keys/peer.key is missing", edited(func(name string, data []byte) []byte {
			if name == "keys/"+crypto.PeerKeyFile {
				return nil
			}
			return data
		})},
		{"another member's key", "not those of member", edited(func(name string, data []byte) []byte {
			if name == "keys/"+crypto.MemberKeyFile {
				return foreignKey
			}
			return data
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Home(t.TempDir()) // exists and is empty: a valid target
			_, err := Restore(h, bytes.NewReader(c.file), testPassphrase, quietLog())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
			t.Log(err)
			if entries, _ := os.ReadDir(string(h)); len(entries) > 0 {
				t.Fatalf("the failed restore left %s in the home", entries[0].Name())
			}
		})
	}
	t.Run("not empty", func(t *testing.T) {
		h := Home(t.TempDir())
		os.WriteFile(filepath.Join(string(h), "notes.txt"), nil, 0o600)
		if _, err := Restore(h, bytes.NewReader(good), testPassphrase, quietLog()); err == nil || !strings.Contains(err.Error(), "is not empty") {
			t.Fatalf("restore into a home holding a file: %v", err)
		}
	})
	t.Run("good", func(t *testing.T) {
		h := Home(t.TempDir())
		res, err := Restore(h, bytes.NewReader(good), testPassphrase, quietLog())
		if err != nil || res.Bulletins != 1 {
			t.Fatalf("restoring the undamaged backup: %+v, %v", res, err)
		}
	})
}

// A node restored from a backup that predates envelopes it signed must
// not sign their sequence numbers again: while no other member's node can
// confirm its last one, it refuses to publish (the fork concord-chaos
// found, docs/reliability.md), and once one does, it recovers them and
// publishes after them.
func TestRestoredNodeWaitsForAMemberBeforePublishing(t *testing.T) {
	nodes, id := federation(t, 2, "corruption")
	a, b := nodes[0], nodes[1]
	publish(t, a, id, draft("before the backup"))
	path := backupFile(t, a)
	late := publish(t, a, id, draft("after the backup"))
	eventually(t, 20*time.Second, "b misses a's last bulletin", func() bool { return readable(b, late.ID) })
	for _, n := range []*Node{a, b} {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	r := Home(filepath.Join(t.TempDir(), "restored"))
	if _, err := restoreFile(r, path, testPassphrase); err != nil {
		t.Fatal(err)
	}
	a2, err := Start(r, a.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	_, err = a2.publish(context.Background(), a2.topicByID(id), draft("alone after the restore"))
	if api.ClassOf(err) != api.Unavailable || !strings.Contains(err.Error(), "restored from a backup") {
		t.Fatalf("publishing with no member to confirm: %v, want an unavailable refusal", err)
	}
	if _, err := os.Stat(r.Restored()); err != nil {
		t.Fatalf("the restore marker is gone before any confirmation: %v", err)
	}

	b2, err := Start(b.home, b.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })
	// Both listen on new ports, which neither card in the log names.
	if _, err := a2.Connect(context.Background(), b2.Addrs()[0]+"/p2p/"+b2.host.ID().String()); err != nil {
		t.Fatal(err)
	}
	waitMesh(t, []*Node{a2, b2}, id)
	next := publish(t, a2, id, draft("confirmed"))
	if next.Seq != late.Seq+1 {
		t.Fatalf("the restored node published seq %d, want %d: after the one it signed before the restore", next.Seq, late.Seq+1)
	}
	if _, err := os.Stat(r.Restored()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the restore marker stays after every topic confirmed: %v", err)
	}
	eventually(t, 20*time.Second, "b misses the restored node's bulletin", func() bool { return readable(b2, next.ID) })
	if ev, _ := b2.store.Equivocations(); len(ev) > 0 {
		t.Fatalf("b saw equivocations: %+v", ev)
	}
}
