package backup

import (
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// ErrWrongPassphrase reports a backup encrypted with another passphrase.
var ErrWrongPassphrase = errors.New("wrong passphrase: this backup was encrypted with another one")

// ErrEmptyPassphrase refuses to encrypt a backup with nothing.
var ErrEmptyPassphrase = errors.New("the backup passphrase is empty: a backup holds the member's secret keys and must be encrypted with a real passphrase")

// Seal returns a writer that encrypts what it is given to w with age,
// under passphrase (scrypt); Close completes the file.
func Seal(w io.Writer, passphrase string) (io.WriteCloser, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	return age.Encrypt(w, r)
}

// Open decrypts a file written through Seal. The reader it returns fails
// if the file was altered or cut short.
func Open(r io.Reader, passphrase string) (io.Reader, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	out, err := age.Decrypt(r, id)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch) && len(noMatch.StanzaTypes) == 1 && noMatch.StanzaTypes[0] == "scrypt":
		return nil, ErrWrongPassphrase
	case errors.As(err, &noMatch):
		return nil, errors.New("not a concord backup: this age file is encrypted to keys, not with a passphrase")
	case err != nil:
		return nil, fmt.Errorf("not a concord backup (not an age-encrypted file): %w", err)
	}
	return out, nil
}
