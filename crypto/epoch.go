package crypto

import (
	"errors"
	"fmt"

	"filippo.io/age"
)

// maxWrappedEpochKey bounds the plaintext of a wrapped epoch key. The
// string form of a hybrid identity is about 90 characters; the margin only
// keeps a hostile wrap from making us allocate.
const maxWrappedEpochKey = 256

// EpochKey is the key of one topic epoch. Bulletins of the epoch carry
// one epoch stanza (EnvelopeRecipient), whatever the number of members; a
// rotate entry of the topic log hands the identity to each member wrapped
// to its own hybrid recipient, the only way the secret travels.
type EpochKey struct {
	Epoch    uint64
	Identity *age.HybridIdentity
}

// GenerateEpochKey creates a fresh key for epoch.
func GenerateEpochKey(epoch uint64) (*EpochKey, error) {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return nil, fmt.Errorf("generating the key of epoch %d: %w", epoch, err)
	}
	return &EpochKey{Epoch: epoch, Identity: id}, nil
}

// Recipient returns the epoch's public key: the log's rotate entry names
// it, and envelopes sealed before epoch stanzas were encrypted to it.
func (k *EpochKey) Recipient() *age.HybridRecipient { return k.Identity.Recipient() }

// String returns the secret key in age's text form
// (AGE-SECRET-KEY-PQ-1…), for storage. It is a secret: never log it.
func (k *EpochKey) String() string { return k.Identity.String() }

// ParseEpochKey reads the form written by String. The epoch number is
// stored beside it (typically in the storage key), not inside it.
func ParseEpochKey(epoch uint64, s string) (*EpochKey, error) {
	id, err := age.ParseHybridIdentity(s)
	if err != nil {
		return nil, fmt.Errorf("key of epoch %d is not an age post-quantum secret key (AGE-SECRET-KEY-PQ-1…): %w", epoch, err)
	}
	return &EpochKey{Epoch: epoch, Identity: id}, nil
}

// WrapEpochKey encrypts the epoch key to one member's recipient. The
// result is age binary data whose plaintext is the key's String form; it is
// authenticated by the signature of the log entry that carries it.
func WrapEpochKey(k *EpochKey, to *age.HybridRecipient) ([]byte, error) {
	if k == nil || k.Identity == nil || to == nil {
		return nil, errors.New("wrapping an epoch key: key and recipient are required")
	}
	wrapped, err := Encrypt([]byte(k.String()), to)
	if err != nil {
		return nil, fmt.Errorf("wrapping the key of epoch %d: %w", k.Epoch, err)
	}
	return wrapped, nil
}

// UnwrapEpochKey decrypts a key wrapped by WrapEpochKey with the member's
// own identity. Errors wrap ErrNotForUs when the key was wrapped to
// another member.
func UnwrapEpochKey(epoch uint64, wrapped []byte, self *age.HybridIdentity) (*EpochKey, error) {
	if self == nil {
		return nil, errors.New("unwrapping an epoch key: our age identity is required")
	}
	plain, err := Decrypt(wrapped, maxWrappedEpochKey, self)
	if err != nil {
		return nil, fmt.Errorf("unwrapping the key of epoch %d: %w", epoch, err)
	}
	return ParseEpochKey(epoch, string(plain))
}
