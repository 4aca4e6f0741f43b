package crypto

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentitySaveLoad(t *testing.T) {
	id := newIdentity(t)
	dir := filepath.Join(t.TempDir(), "keys")
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
	for _, name := range []string{MemberKeyFile, AgeKeyFile, PeerKeyFile, StoreKeyFile} {
		assertMode(t, filepath.Join(dir, name), 0o600)
	}
	got, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberID() != id.MemberID() {
		t.Errorf("member ID %s, want %s", got.MemberID(), id.MemberID())
	}
	if got.PeerID() != id.PeerID() {
		t.Errorf("peer ID %s, want %s", got.PeerID(), id.PeerID())
	}
	if got.Age.Recipient().String() != id.Age.Recipient().String() {
		t.Error("age recipient changed")
	}
	if !bytes.Equal(got.StoreKey, id.StoreKey) || !got.Signing.Equal(id.Signing) {
		t.Error("store key or signing key changed")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func TestIdentitySaveRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	first := newIdentity(t)
	if err := first.Save(dir); err != nil {
		t.Fatal(err)
	}
	err := newIdentity(t).Save(dir)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second Save: got %v, want an 'already exists' error", err)
	}
	got, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberID() != first.MemberID() {
		t.Fatal("keys were overwritten")
	}
}

// A single existing key file must stop Save before it writes anything, or
// the home would hold a mix of two identities.
func TestIdentitySaveWritesNothingIfAnyFileExists(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, StoreKeyFile)
	if err := os.WriteFile(existing, make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	err := newIdentity(t).Save(dir)
	if err == nil || !strings.Contains(err.Error(), existing) {
		t.Fatalf("got %v, want an error naming %s", err, existing)
	}
	if _, err := os.Stat(filepath.Join(dir, MemberKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("%s was written although Save failed", MemberKeyFile)
	}
}

func TestLoadIdentityMissingFile(t *testing.T) {
	dir := t.TempDir()
	if err := newIdentity(t).Save(dir); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, AgeKeyFile)
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	_, err := LoadIdentity(dir)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("got %v, want an error naming %s", err, missing)
	}
}

func TestLoadIdentityBadStoreKey(t *testing.T) {
	dir := t.TempDir()
	if err := newIdentity(t).Save(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StoreKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadIdentity(dir)
	if err == nil || !strings.Contains(err.Error(), StoreKeyFile) {
		t.Fatalf("got %v, want an error naming %s", err, StoreKeyFile)
	}
}

func TestMemberID(t *testing.T) {
	id := newIdentity(t)
	m := id.MemberID()
	if len(m) != MemberIDLen || !ValidMemberID(m) {
		t.Fatalf("member ID %q is not valid", m)
	}
	for _, bad := range []string{"", strings.ToUpper(m), m[:MemberIDLen-1], m + "a", m[:MemberIDLen-1] + "1"} {
		if ValidMemberID(bad) {
			t.Errorf("ValidMemberID(%q) = true", bad)
		}
	}
}
