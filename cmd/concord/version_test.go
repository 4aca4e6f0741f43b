package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildConcord builds the binary with extra go build flags.
func buildConcord(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "concord")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}

func versionOf(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("concord version: %v", err)
	}
	return string(out)
}

// A release build is stamped at link time, as docs/operations.md says.
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildConcord(t, "-ldflags", "-X github.com/concordnet/concord/node.version=v9.8.7")
	if out := versionOf(t, bin); !strings.HasPrefix(out, "concord   v9.8.7\nprotocol  1\n") {
		t.Fatalf("a stamped build prints:\n%s", out)
	}
}

// A build from a git checkout names its commit, and whether it was modified.
func TestVersionFromCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout with git installed: no commit to show")
	}
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err != nil {
		t.Skip("git status fails here")
	}
	out := versionOf(t, buildConcord(t, "-buildvcs=true"))
	want := "concord   dev (" + string(rev[:7])
	if len(status) > 0 {
		want += ", modified"
	}
	// A clean checkout of a release tag shows the tag instead.
	if !strings.HasPrefix(out, want+")\n") && !regexp.MustCompile(`^concord   v\d+\.\d+\.\d+\S*\n`).MatchString(out) {
		t.Fatalf("built from commit %.7s (modified: %v), concord version prints:\n%s\nwant it to start with %q", rev, len(status) > 0, out, want+")")
	}
}
