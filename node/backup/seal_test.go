package backup

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

const testPassphrase = "correct horse battery staple"

func seal(t *testing.T, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := Seal(&buf, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// verifySealed opens a sealed archive and verifies it.
func verifySealed(file []byte, passphrase string) error {
	plain, err := Open(bytes.NewReader(file), passphrase)
	if err != nil {
		return err
	}
	_, _, err = Verify(plain, "test")
	return err
}

func TestSealAndOpen(t *testing.T) {
	plain := archive(t, []byte("a small database"))
	good := seal(t, plain)
	if err := verifySealed(good, testPassphrase); err != nil {
		t.Fatal(err)
	}
	if _, err := Seal(io.Discard, ""); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("sealing with no passphrase: %v", err)
	}
	if err := verifySealed(good, ""); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("opening with no passphrase: %v", err)
	}
	if err := verifySealed(good, "wrong "+testPassphrase); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("opening with a wrong passphrase: %v", err)
	}
}

// A sealed file altered, cut short, or not sealed with a passphrase is
// refused with a reason.
func TestOpenRefusesDamagedFiles(t *testing.T) {
	plain := archive(t, make([]byte, 3*64<<10))
	good := seal(t, plain)
	altered := bytes.Clone(good)
	altered[len(altered)/2] ^= 1
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var toKey bytes.Buffer
	w, _ := age.Encrypt(&toKey, id.Recipient())
	w.Write(plain)
	w.Close()
	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"truncated", "truncated", good[:len(good)*2/3]},
		{"altered", "altered", altered},
		{"not age", "not an age-encrypted file", plain},
		{"encrypted to a key", "encrypted to keys, not with a passphrase", toKey.Bytes()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := verifySealed(c.file, testPassphrase); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
