package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// Errors of Decrypt, distinguished so that a node can count why an item
// could not be read: an item for other members is normal, a corrupted one
// is not.
var (
	// ErrNotForUs reports a ciphertext that none of our keys opens: it was
	// encrypted to other members, or to an epoch key we do not hold.
	//
	// The hybrid (ML-KEM) recipients reject wrong keys implicitly, so a
	// recipient stanza that was damaged in transit is also reported as
	// ErrNotForUs: age cannot tell the two apart.
	ErrNotForUs = errors.New("not encrypted to any of our keys")
	// ErrCiphertextCorrupted reports a ciphertext that is not valid age
	// data, or whose payload fails authentication.
	ErrCiphertextCorrupted = errors.New("ciphertext is corrupted")
	// ErrPlaintextTooLarge reports a plaintext larger than the caller allows.
	ErrPlaintextTooLarge = errors.New("plaintext is larger than allowed")
)

// Encrypt encrypts plaintext to recipients in age's binary format (no
// armor). age refuses to mix post-quantum and classic recipients, so a
// ciphertext to hybrid recipients stays post-quantum secure.
func Encrypt(plaintext []byte, recipients ...age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("encrypt: no recipients given: the data would be readable by no one")
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

// Decrypt decrypts an age ciphertext with the first of identities that
// opens it. It reads at most maxPlaintext+1 bytes of plaintext, so a
// ciphertext can never make it hold more than the caller allows. Errors
// wrap ErrNotForUs, ErrCiphertextCorrupted or ErrPlaintextTooLarge.
func Decrypt(ciphertext []byte, maxPlaintext int, identities ...age.Identity) ([]byte, error) {
	if len(identities) == 0 {
		return nil, errors.New("decrypt: no identities given: pass the keys that may open the data")
	}
	if maxPlaintext < 0 {
		return nil, fmt.Errorf("decrypt: plaintext limit %d is negative", maxPlaintext)
	}
	r, err := age.Decrypt(bytes.NewReader(ciphertext), identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, fmt.Errorf("decrypt: %w (tried %d of our keys against %d recipients)", ErrNotForUs, len(identities), len(noMatch.StanzaTypes))
		}
		return nil, fmt.Errorf("decrypt: %w: %v", ErrCiphertextCorrupted, err)
	}
	plaintext, err := readBounded(r, min(len(ciphertext), maxPlaintext+1), maxPlaintext)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w: %v", ErrCiphertextCorrupted, err)
	}
	if len(plaintext) > maxPlaintext {
		return nil, fmt.Errorf("decrypt: %w: more than %d bytes", ErrPlaintextTooLarge, maxPlaintext)
	}
	return plaintext, nil
}

// readBounded reads r to its end into a buffer of capacity size, which
// a plaintext never outgrows (it is shorter than its ciphertext), and
// stops after limit+1 bytes. Unlike io.ReadAll, it allocates once.
func readBounded(r io.Reader, size, limit int) ([]byte, error) {
	out := make([]byte, 0, size+1)
	for len(out) <= limit {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := r.Read(out[len(out):min(cap(out), limit+1)])
		out = out[:len(out)+n]
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
