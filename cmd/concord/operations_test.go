package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The operator documentation and the unit it installs, from cmd/concord.
const (
	opsDoc  = "../../docs/operations.md"
	opsUnit = "../../configs/concord.service"
)

// What the documented install creates: the test refuses to run when any
// of it exists, so that it never touches a real installation.
var opsPaths = []string{
	"/var/lib/concord", "/etc/concord", "/var/log/concord", "/var/backups/concord",
	"/usr/local/bin/concord", "/usr/local/bin/concord.previous", "/usr/local/share/doc/concord",
	"/etc/systemd/system/concord.service", "/etc/systemd/system/concord-backup.service",
	"/etc/systemd/system/concord-backup.timer",
}

// opsMarker precedes a shell block the test runs: <!-- operations-test: NAME -->.
var opsMarker = regexp.MustCompile(`^<!-- operations-test: ([a-z-]+) -->$`)

// opsBlocks returns the marked ```sh blocks of docs/operations.md by name.
func opsBlocks(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(opsDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := map[string]string{}
	sc := bufio.NewScanner(f)
	name, inBlock := "", false
	var body strings.Builder
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case inBlock && text == "```":
			blocks[name], name, inBlock = body.String(), "", false
			body.Reset()
		case inBlock:
			body.WriteString(text + "\n")
		case name != "" && text == "```sh":
			inBlock = true
		case name != "":
			t.Fatalf("%s:%d: the operations-test marker for %q must be followed directly by a ```sh block", opsDoc, line-1, name)
		default:
			if m := opsMarker.FindStringSubmatch(text); m != nil {
				if _, dup := blocks[m[1]]; dup {
					t.Fatalf("%s:%d: a second block named %q", opsDoc, line, m[1])
				}
				name = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build", "install", "init", "start", "status", "stop", "backup-setup", "backup-units", "uninstall"} {
		if blocks[want] == "" {
			t.Fatalf("%s has no block marked <!-- operations-test: %s -->", opsDoc, want)
		}
	}
	return blocks
}

// TestOperationsDocFollowedLiterally installs a node the way
// docs/operations.md says, as root: the marked blocks run unchanged in
// bash, with a binary built as the doc builds it. There is no systemd in
// the test container, so the node starts with the doc's "outside systemd"
// block; the scheduled backup's commands are taken from the unit the doc
// writes and run as that unit's user.
func TestOperationsDocFollowedLiterally(t *testing.T) {
	blocks := opsBlocks(t)
	opsPreflight(t)
	dir := t.TempDir()
	version := opsBuild(t, blocks["build"], dir)
	for _, d := range []string{"configs", "docs"} {
		abs, err := filepath.Abs(filepath.Join("../..", d))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(opsCleanup(t, blocks))

	opsRun(t, dir, "install", blocks)
	opsCheckDocumentation(t)
	opsRun(t, dir, "init", blocks)
	opsCheckOwned(t, "/var/lib/concord", 0o700, true)
	opsRun(t, dir, "start", blocks)
	out := opsRun(t, dir, "status", blocks)
	for _, want := range []string{"FRA", version} {
		if !strings.Contains(out, want) {
			t.Fatalf("status printed no %q:\n%s", want, out)
		}
	}

	opsRun(t, dir, "backup-setup", blocks)
	opsCheckOwned(t, "/etc/concord/backup.pass", 0o600, false)
	opsCheckOwned(t, "/var/backups/concord/first.age", 0o600, false)
	opsRun(t, dir, "backup-units", blocks)
	opsRunUnit(t, "/etc/systemd/system/concord-backup.service")

	opsRun(t, dir, "stop", blocks)
	if _, err := os.Stat("/var/lib/concord/concord.sock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket is still there after the stop block: %v", err)
	}
	if opsLockHeld(t) {
		t.Fatal("a daemon still holds /var/lib/concord/daemon.lock after the stop block")
	}
	if log, _ := os.ReadFile("/var/log/concord/concord.log"); !strings.Contains(string(log), "stopped") {
		t.Fatalf("the daemon's log does not say it stopped cleanly:\n%s", log)
	}

	opsRun(t, dir, "uninstall", blocks)
	if _, err := user.Lookup("concord"); err == nil {
		t.Error("user concord still exists after the uninstall block")
	}
	for _, p := range opsPaths {
		if _, err := os.Lstat(p); err == nil && p != "/var/backups/concord" {
			t.Errorf("%s still exists after the uninstall block", p)
		}
	}
}

// opsPreflight skips unless this is a Linux machine, run as root, with no
// trace of a Concord installation and the tools the doc uses.
func opsPreflight(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("docs/operations.md installs a service as root on Linux: run this test as root on Linux (CI does)")
	}
	if _, err := user.Lookup("concord"); err == nil {
		t.Skip("user concord exists: this machine has a Concord installation the test must not touch")
	}
	if _, err := user.LookupGroup("concord"); err == nil {
		t.Skip("group concord exists: this machine has a Concord installation the test must not touch")
	}
	for _, p := range opsPaths {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists: this machine has a Concord installation the test must not touch", p)
		}
	}
	for _, tool := range []string{"bash", "useradd", "userdel", "runuser", "setsid", "flock", "timeout", "tail", "install", "find"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the doc's steps need it", tool)
		}
	}
	// The doc's node listens on the default port 7700, TCP and UDP.
	if l, err := net.Listen("tcp", ":7700"); err != nil {
		t.Skipf("TCP port 7700, which the documented node uses, is taken: %v", err)
	} else {
		l.Close()
	}
	if c, err := net.ListenPacket("udp", ":7700"); err != nil {
		t.Skipf("UDP port 7700, which the documented node uses, is taken: %v", err)
	} else {
		c.Close()
	}
}

// opsBuild builds concord into dir with the -ldflags of the doc's build
// block and returns the version they stamp. It leaves out -trimpath, which
// would recompile every dependency (minutes on a cold cache) where this
// build only links anew; the stamping is what the test checks.
func opsBuild(t *testing.T, block, dir string) string {
	t.Helper()
	m := regexp.MustCompile(`go build .*-ldflags "([^"]*)" -o concord \./cmd/concord`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("the build block does not build with go build -ldflags \"…\" -o concord ./cmd/concord:\n%s", block)
	}
	v := regexp.MustCompile(`-X \S+=(\S+)`).FindStringSubmatch(m[1])
	if v == nil {
		t.Fatalf("the build block's -ldflags %q stamps no version with -X", m[1])
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "concord")
	defer func(start time.Time) { t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond)) }(time.Now())
	if out, err := exec.Command(goCmd, "build", "-ldflags", m[1], "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags %q: %v\n%s", m[1], err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), v[1]) {
		t.Fatalf("a build with the doc's -ldflags %q reports version %q (%v), not %s: the -X variable is wrong", m[1], out, err, v[1])
	}
	return v[1]
}

// opsRun runs the block called name in bash, in dir, and returns its
// output. The output goes through a file rather than a pipe: the start
// block leaves a daemon behind, which must not hold the test up.
func opsRun(t *testing.T, dir, name string, blocks map[string]string) string {
	t.Helper()
	start := time.Now()
	out, err := opsBash(dir, blocks[name], time.Minute)
	if err != nil {
		t.Fatalf("docs/operations.md block %q failed: %v\n--- block\n%s--- output\n%s", name, err, blocks[name], out)
	}
	t.Logf("block %q ran in %v", name, time.Since(start).Round(time.Millisecond))
	return out
}

func opsBash(dir, script string, timeout time.Duration) (string, error) {
	f, err := os.CreateTemp("", "concord-ops-*.out")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

// opsCheckDocumentation checks that every Documentation= page of the
// installed unit was installed.
func opsCheckDocumentation(t *testing.T) {
	t.Helper()
	unit, err := os.ReadFile("/etc/systemd/system/concord.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Documentation=(.+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("the installed unit has no Documentation=")
	}
	for _, u := range strings.Fields(string(m[1])) {
		p, ok := strings.CutPrefix(u, "file://")
		if !ok {
			t.Fatalf("Documentation=%s: the test knows only file:// pages", u)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the unit's Documentation=%s was not installed by the install block: %v", u, err)
		}
	}
}

// opsCheckOwned checks that path belongs to the concord user with mode.
func opsCheckOwned(t *testing.T, path string, mode os.FileMode, dir bool) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Lookup("concord")
	if err != nil {
		t.Fatal(err)
	}
	uid := fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid)
	if fi.IsDir() != dir || fi.Mode().Perm() != mode || uid != u.Uid {
		t.Errorf("%s: mode %v owner uid %s; want mode %v (directory %v) owned by concord (uid %s)", path, fi.Mode(), uid, mode, dir, u.Uid)
	}
}

// opsRunUnit runs the ExecStart= and ExecStartPost= lines of a oneshot
// unit as its User=, unescaping what systemd unescapes ($$ and %%; the
// lines use no other specifier and quote as sh does), and checks that a
// scheduled backup appeared.
func opsRunUnit(t *testing.T, path string) {
	t.Helper()
	unit, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^User=concord$`).Match(unit) {
		t.Fatalf("%s does not run as User=concord", path)
	}
	unescape := strings.NewReplacer("$$", "$", "%%", "%")
	lines := regexp.MustCompile(`(?m)^ExecStart(?:Post)?=(.+)$`).FindAllSubmatch(unit, -1)
	if len(lines) == 0 {
		t.Fatalf("%s has no ExecStart=", path)
	}
	for _, l := range lines {
		line := unescape.Replace(string(l[1]))
		if out, err := exec.Command("runuser", "-u", "concord", "--", "/bin/sh", "-c", line).CombinedOutput(); err != nil {
			t.Fatalf("%s: %s failed: %v\n%s", path, line, err, out)
		}
	}
	got, _ := filepath.Glob("/var/backups/concord/concord-*.age")
	if len(got) != 1 {
		t.Fatalf("the scheduled backup made %d file(s) /var/backups/concord/concord-*.age, want 1: %v", len(got), got)
	}
}

// opsLockHeld reports whether a daemon holds the home's lock.
func opsLockHeld(t *testing.T) bool {
	f, err := os.Open("/var/lib/concord/daemon.lock")
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// opsCleanup returns the safety net run after the test however it ended:
// the doc's own stop and uninstall blocks, then anything they left,
// including the parent directories the install created.
func opsCleanup(t *testing.T, blocks map[string]string) func() {
	var created []string
	for _, d := range []string{"/usr/local/share/doc", "/etc/systemd/system"} {
		if _, err := os.Stat(d); err != nil {
			created = append(created, d)
		}
	}
	return func() {
		if opsLockHeld(t) {
			opsBash("/", blocks["stop"], 40*time.Second)
		}
		if opsLockHeld(t) {
			if pid, err := os.ReadFile("/var/lib/concord/daemon.lock"); err == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		if _, err := user.Lookup("concord"); err == nil {
			if out, err := opsBash("/", blocks["uninstall"], time.Minute); err != nil {
				t.Logf("cleanup: the uninstall block failed: %v\n%s", err, out)
			}
		}
		for _, p := range opsPaths {
			os.RemoveAll(p)
		}
		for _, d := range created {
			os.Remove(d) // only if the install left it empty
		}
		exec.Command("userdel", "concord").Run()
		exec.Command("groupdel", "concord").Run()
	}
}

// TestServiceUnitStepsMatchOperationsDoc keeps the install summary in the
// unit's header comment to commands docs/operations.md gives (`"..."`
// stands for any quoted value).
func TestServiceUnitStepsMatchOperationsDoc(t *testing.T) {
	unit, err := os.ReadFile(opsUnit)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(opsDoc)
	if err != nil {
		t.Fatal(err)
	}
	steps := regexp.MustCompile(`(?m)^#   (\S.*)$`).FindAllSubmatch(unit, -1)
	if len(steps) < 5 {
		t.Fatalf("%s: found %d install steps in the header comment; want the whole install", opsUnit, len(steps))
	}
	for _, s := range steps {
		cmd, _, _ := strings.Cut(string(s[1]), "   #") // drop a trailing comment
		pattern := strings.ReplaceAll(regexp.QuoteMeta(strings.TrimSpace(cmd)), `"\.\.\."`, `"[^"]+"`)
		for _, part := range strings.Split(pattern, ` && `) {
			if !regexp.MustCompile(`(?m)^` + part + `$`).Match(doc) {
				t.Errorf("%s: install step %q is not a line of %s", opsUnit, part, opsDoc)
			}
		}
	}
}
