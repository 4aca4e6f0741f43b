package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/concordnet/concord/protocol"
)

// saveAttachments writes each attachment into dir. Every attachment is
// checked before any is written, so a bad one leaves nothing behind.
func saveAttachments(dir string, atts []protocol.Attachment) error {
	if len(atts) == 0 {
		fmt.Fprintln(stderr, "this bulletin has no attachments; nothing saved")
		return nil
	}
	for _, a := range atts {
		if err := checkAttachment(dir, a); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the attachments directory: %w", err)
	}
	for _, a := range atts {
		path, err := writeAttachment(dir, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "saved %s (%d bytes, sha256 %s)\n", path, a.Size, a.SHA256)
	}
	return nil
}

// checkAttachment refuses a name that could escape dir, data that does
// not match its digest, and a file that already exists.
func checkAttachment(dir string, a protocol.Attachment) error {
	if a.Name == "" || a.Name == "." || a.Name == ".." || strings.ContainsAny(a.Name, "/\\\x00") {
		return fmt.Errorf("attachment name %q is not a plain file name: nothing saved", a.Name)
	}
	sum := sha256.Sum256(a.Data)
	if hex.EncodeToString(sum[:]) != a.SHA256 || int64(len(a.Data)) != a.Size {
		return fmt.Errorf("attachment %q does not match its size and SHA-256 %s: nothing saved (the stored bulletin is damaged; report it to the operator)", a.Name, a.SHA256)
	}
	path := filepath.Join(dir, a.Name)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: nothing saved; move it away or choose another directory", path)
	}
	return nil
}

// writeAttachment creates the file exclusively (never through an existing
// file or symlink) and removes it if it cannot be written whole.
func writeAttachment(dir string, a protocol.Attachment) (string, error) {
	path := filepath.Join(dir, a.Name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s already exists: not overwritten; move it away or choose another directory", path)
	}
	if err != nil {
		return "", fmt.Errorf("saving attachment %q: %w", a.Name, err)
	}
	_, err = f.Write(a.Data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("saving attachment %q: %w", a.Name, err)
	}
	return path, nil
}
