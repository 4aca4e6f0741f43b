package crypto

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// The epoch stanza wraps an envelope's age file key under a symmetric key
// derived from the epoch secret, so that publishing and reading an
// envelope costs an AEAD over 16 bytes instead of an ML-KEM-768+X25519
// encapsulation and decapsulation. Every member of the epoch holds its
// secret anyway; the secret itself only travels wrapped by the hybrid
// recipients (WrapEpochKey). See docs/protocol.md, "Encryption".
const (
	// EpochStanzaType is the age stanza type of an envelope wrapped
	// under an epoch secret.
	EpochStanzaType = "concord-epoch"
	// MaxEpochStanzas bounds the stanzas of an envelope to an epoch: an
	// honest one has exactly one, and each hybrid stanza we would try
	// costs a decapsulation.
	MaxEpochStanzas = 4

	epochStanzaInfo  = "concord/epoch-stanza/v1"
	epochStanzaBody  = chacha20poly1305.NonceSizeX + fileKeySize + chacha20poly1305.Overhead
	fileKeySize      = 16
	topicIDSize      = 32
	hybridStanzaType = "mlkem768x25519"
)

// b64 is age's encoding of stanza arguments: standard base64, unpadded.
var b64 = base64.RawStdEncoding.Strict()

// EpochRecipient wraps envelopes' file keys in an epoch stanza for one
// topic's epoch.
type EpochRecipient struct{ s epochStanzaKey }

// EpochIdentity opens the envelopes of one topic's epoch: their epoch
// stanza, or the hybrid stanza to the epoch's recipient that envelopes
// carried before epoch stanzas existed.
type EpochIdentity struct {
	s      epochStanzaKey
	hybrid *age.HybridIdentity
}

var (
	_ age.RecipientWithLabels = (*EpochRecipient)(nil)
	_ age.Identity            = (*EpochIdentity)(nil)
)

// epochStanzaKey is the AEAD key of one topic's epoch, and what its
// stanzas are bound to.
type epochStanzaKey struct {
	topic [topicIDSize]byte
	epoch uint64
	key   []byte
	err   error // why there is no key
}

// EnvelopeRecipient returns the recipient that envelopes of topic at this
// epoch are encrypted to.
func (k *EpochKey) EnvelopeRecipient(topic [32]byte) *EpochRecipient {
	return &EpochRecipient{s: k.stanzaKey(topic)}
}

// EnvelopeIdentity returns the identity that opens envelopes of topic at
// this epoch, whichever of the two stanzas they carry.
func (k *EpochKey) EnvelopeIdentity(topic [32]byte) *EpochIdentity {
	id := &EpochIdentity{s: k.stanzaKey(topic)}
	if k != nil {
		id.hybrid = k.Identity
	}
	return id
}

// stanzaKey derives the AEAD key: HKDF-SHA-256 of the epoch secret,
// salted with the topic and epoch. A failure (no key) is kept for Wrap
// and Unwrap to report, so that callers need not check twice.
func (k *EpochKey) stanzaKey(topic [32]byte) epochStanzaKey {
	s := epochStanzaKey{topic: topic}
	if k == nil || k.Identity == nil {
		s.err = errors.New("epoch stanza: the epoch key is missing")
		return s
	}
	s.epoch = k.Epoch
	secret, err := hybridSeed(k.Identity)
	if err == nil {
		s.key, err = hkdf.Key(sha256.New, secret, s.bound(), epochStanzaInfo, chacha20poly1305.KeySize)
	}
	if err != nil {
		s.err = fmt.Errorf("epoch stanza of epoch %d: %w", k.Epoch, err)
	}
	return s
}

// bound is what a stanza is bound to, the HKDF salt and the AEAD's
// associated data: topic ID (32 bytes) ‖ epoch (8 bytes, big-endian).
func (s epochStanzaKey) bound() []byte {
	return binary.BigEndian.AppendUint64(s.topic[:], s.epoch)
}

func (s epochStanzaKey) aead() (cipher.AEAD, error) {
	if s.err != nil {
		return nil, s.err
	}
	return chacha20poly1305.NewX(s.key)
}

func (s epochStanzaKey) args() []string {
	return []string{b64.EncodeToString(s.topic[:]), strconv.FormatUint(s.epoch, 10)}
}

// Wrap implements age.Recipient.
func (r *EpochRecipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	st, _, err := r.WrapWithLabels(fileKey)
	return st, err
}

// WrapWithLabels implements age.RecipientWithLabels with the
// "postquantum" label: the stanza is as strong as the hybrid recipients
// that carry the epoch secret, and age refuses to mix it with classic
// recipients.
func (r *EpochRecipient) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	if len(fileKey) != fileKeySize {
		return nil, nil, fmt.Errorf("epoch stanza: file key is %d bytes, want %d", len(fileKey), fileKeySize)
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	rand.Read(nonce) // never fails (crypto/rand)
	st, err := r.s.wrap(fileKey, nonce)
	if err != nil {
		return nil, nil, err
	}
	return []*age.Stanza{st}, []string{"postquantum"}, nil
}

// wrap seals fileKey with nonce into a stanza.
func (s epochStanzaKey) wrap(fileKey, nonce []byte) (*age.Stanza, error) {
	aead, err := s.aead()
	if err != nil {
		return nil, err
	}
	body := aead.Seal(nonce[:len(nonce):len(nonce)], nonce, fileKey, s.bound())
	return &age.Stanza{Type: EpochStanzaType, Args: s.args(), Body: body}, nil
}

// Unwrap implements age.Identity. Epoch stanzas of another topic or epoch,
// or sealed under another secret, are not ours (age.ErrIncorrectIdentity);
// a malformed one, or more than MaxEpochStanzas stanzas, is an error.
func (id *EpochIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) > MaxEpochStanzas {
		return nil, fmt.Errorf("envelope to an epoch has %d recipient stanzas, more than the %d allowed", len(stanzas), MaxEpochStanzas)
	}
	for _, st := range stanzas {
		var fileKey []byte
		var err error
		switch st.Type {
		case EpochStanzaType:
			fileKey, err = id.s.unwrap(st)
		case hybridStanzaType:
			if id.hybrid == nil {
				continue
			}
			fileKey, err = id.hybrid.Unwrap([]*age.Stanza{st})
		default:
			continue
		}
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return fileKey, err
	}
	return nil, age.ErrIncorrectIdentity
}

func (s epochStanzaKey) unwrap(st *age.Stanza) ([]byte, error) {
	topic, epoch, err := parseEpochArgs(st.Args)
	if err != nil {
		return nil, err
	}
	if topic != s.topic || epoch != s.epoch {
		return nil, age.ErrIncorrectIdentity
	}
	if len(st.Body) != epochStanzaBody {
		return nil, fmt.Errorf("invalid %s stanza: body is %d bytes, want %d", EpochStanzaType, len(st.Body), epochStanzaBody)
	}
	aead, err := s.aead()
	if err != nil {
		return nil, err
	}
	nonce, sealed := st.Body[:chacha20poly1305.NonceSizeX], st.Body[chacha20poly1305.NonceSizeX:]
	fileKey, err := aead.Open(nil, nonce, sealed, s.bound())
	if err != nil {
		// Another secret for the same epoch (a forked log) or damage:
		// like age's own recipients, we cannot tell them apart.
		return nil, age.ErrIncorrectIdentity
	}
	return fileKey, nil
}

// parseEpochArgs reads an epoch stanza's arguments: the topic ID in
// unpadded standard base64, and the epoch in decimal, each in its one
// canonical form.
func parseEpochArgs(args []string) (topic [topicIDSize]byte, epoch uint64, err error) {
	if len(args) != 2 {
		return topic, 0, fmt.Errorf("invalid %s stanza: %d arguments, want 2 (topic, epoch)", EpochStanzaType, len(args))
	}
	t, err := b64.DecodeString(args[0])
	if err != nil || len(t) != topicIDSize {
		return topic, 0, fmt.Errorf("invalid %s stanza: topic argument is not %d bytes of unpadded base64", EpochStanzaType, topicIDSize)
	}
	epoch, err = strconv.ParseUint(args[1], 10, 64)
	if err != nil || strconv.FormatUint(epoch, 10) != args[1] {
		return topic, 0, fmt.Errorf("invalid %s stanza: epoch argument %.24q is not a canonical decimal number", EpochStanzaType, args[1])
	}
	return [topicIDSize]byte(t), epoch, nil
}
