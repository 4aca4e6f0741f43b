package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// osUser is an OS account the test created, to run the CLI as.
type osUser struct {
	name string
	cred *syscall.Credential
}

// addOSUser creates a user in group grp, removed at the test's end.
func addOSUser(t *testing.T, name, grp string) osUser {
	t.Helper()
	if out, err := exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", "-G", grp, name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	c := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	gids, _ := u.GroupIds()
	for _, g := range gids {
		n, _ := strconv.Atoi(g)
		c.Groups = append(c.Groups, uint32(n))
	}
	return osUser{name, c}
}

// runAs runs the CLI as u (nil: the test's own user) and returns its
// output and exit code.
func runAs(t *testing.T, bin string, u *osUser, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if u != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("concord %v: %v", args, err)
	}
	return string(out), 0
}

// Two OS users on one node: the reader may not publish, and the refusal
// is in the audit log under its name; the analyst's show is there too;
// and one byte edited in the stored chain is found by audit verify.
func TestTwoAnalystsOneNodeAudited(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	if os.Geteuid() != 0 {
		t.Skip("creating OS users needs root: run as root to test several analysts on one node")
	}
	for _, tool := range []string{"useradd", "userdel", "groupadd", "groupdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: cannot create the test's OS users", tool)
		}
	}
	tag := strconv.Itoa(100000 + rand.IntN(900000))
	grp := "cctest" + tag
	if out, err := exec.Command("groupadd", grp).CombinedOutput(); err != nil {
		t.Fatalf("groupadd: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("groupdel", grp).Run() })
	reader, analyst := addOSUser(t, "ccread"+tag, grp), addOSUser(t, "ccanal"+tag, grp)

	// Everything the users run or read sits in a directory they may enter.
	dir, err := os.MkdirTemp("", "concord-access-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o711)
	bin := filepath.Join(dir, "concord")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building concord: %v\n%s", err, out)
	}
	os.Chmod(bin, 0o755)
	h := node.Home(filepath.Join(dir, "home"))
	d := &daemon{t: t, bin: bin, home: h}
	d.run("init", "--name", "Police nationale", "--country", "FRA", "--listen", "/ip4/127.0.0.1/tcp/0")
	cfg, err := node.LoadConfig(h.Config())
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = node.APIConfig{Group: grp, Roles: map[string][]string{"reader": {reader.name}, "analyst": {analyst.name}}}
	if err := os.WriteFile(h.Config(), cfg.Render(), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(d.kill)

	topic := jsonField(t, d.run("--json", "topic", "create", "drug-trafficking", "Access test"), "id")
	id := strings.TrimSpace(d.run("publish", topic, "--title", "Courier arrested at Roissy"))
	home := "--home=" + string(h)

	out, code := runAs(t, bin, &reader, home, "publish", topic, "--title", "Not mine to publish")
	if code != 6 || !strings.Contains(out, "publish needs role analyst") || !strings.Contains(out, reader.name) {
		t.Fatalf("reader's publish: exit %d: %s", code, out)
	}
	if out, code := runAs(t, bin, &reader, home, "audit"); code != 6 || !strings.Contains(out, "role auditor or admin") {
		t.Fatalf("reader's audit: exit %d: %s", code, out)
	}
	if out, code := runAs(t, bin, &analyst, home, "show", id); code != 0 || !strings.Contains(out, "Courier arrested") {
		t.Fatalf("analyst's show: exit %d: %s", code, out)
	}

	refused := auditLog(t, d, "--user", reader.name, "--action", "publish")
	if len(refused) != 1 || refused[0].Outcome != "refused" || refused[0].Class != "forbidden" || refused[0].Topic != topic {
		t.Fatalf("the reader's refused publish in the audit log: %+v", refused)
	}
	shown := auditLog(t, d, "--user", analyst.name, "--action", "show")
	if len(shown) != 1 || shown[0].Outcome != "ok" || shown[0].Bulletin != id || shown[0].UID != analyst.cred.Uid {
		t.Fatalf("the analyst's show in the audit log: %+v", shown)
	}
	if out := d.run("audit", "verify"); !strings.Contains(out, "audit log intact") {
		t.Fatalf("audit verify: %s", out)
	}

	// One byte of the analyst's stored entry, edited behind the daemon's back.
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.cmd.Wait()
	editAuditEntry(t, h, shown[0].Index)
	d.start()
	out, code = runAs(t, bin, nil, home, "audit", "verify")
	if want := fmt.Sprintf("entry %d: altered", shown[0].Index); code != 1 || !strings.Contains(out, want) {
		t.Fatalf("audit verify after an edit: exit %d, want 1 and %q: %s", code, want, out)
	}
}

// auditLog lists the audit entries args select, as the daemon's user.
func auditLog(t *testing.T, d *daemon, args ...string) []api.AuditEntry {
	t.Helper()
	var es []api.AuditEntry
	if err := json.Unmarshal([]byte(d.run(append([]string{"--json", "audit"}, args...)...)), &es); err != nil {
		t.Fatal(err)
	}
	return es
}

// editAuditEntry changes one byte of the user name in stored entry idx,
// through the store (the files are encrypted).
func editAuditEntry(t *testing.T, h node.Home, idx uint64) {
	t.Helper()
	_, id, err := h.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(h.DB(), id.StoreKey, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var raw []byte
	s.AuditEntries(idx, func(i uint64, b []byte) error {
		if i == idx {
			raw = b
		}
		return errors.New("done")
	})
	at := strings.Index(string(raw), `"user":"`) + len(`"user":"`)
	if raw == nil || at < len(`"user":"`) {
		t.Fatalf("entry %d not found: %q", idx, raw)
	}
	raw[at] ^= 0x01 // one letter of the user name
	if err := s.PutAudit(idx, raw); err != nil {
		t.Fatal(err)
	}
}
