package crypto

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/concordnet/concord/internal/canon"
)

// Domain separates the signatures of different structures, so a signature
// made for one can never be replayed as another. The signed message is the
// domain's ASCII bytes, one 0x00 byte, then the body.
type Domain string

// The signature domains of protocol version 1.
const (
	DomainCard       Domain = "concord/card/v1"
	DomainInvitation Domain = "concord/invitation/v1"
	DomainJoin       Domain = "concord/join/v1"
	DomainLogEntry   Domain = "concord/log-entry/v1"
	DomainEnvelope   Domain = "concord/envelope/v1"
	DomainBulletin   Domain = "concord/bulletin/v1"
)

func (d Domain) message(body []byte) []byte {
	m := make([]byte, 0, len(d)+1+len(body))
	m = append(m, d...)
	m = append(m, 0)
	return append(m, body...)
}

// Sign signs body under domain d.
func Sign(key ed25519.PrivateKey, d Domain, body []byte) []byte {
	return ed25519.Sign(key, d.message(body))
}

// ErrBadSignature reports a signature that does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks a signature made by Sign.
func Verify(pub ed25519.PublicKey, d Domain, body, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("signing key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if !ed25519.Verify(pub, d.message(body), sig) {
		return ErrBadSignature
	}
	return nil
}

// Signed is the container of every signed structure: the exact body bytes
// (canonical CBOR) and an Ed25519 signature over them. It travels as the
// CBOR array [body, sig].
type Signed struct {
	_    struct{} `cbor:",toarray"`
	Body []byte
	Sig  []byte
}

// Seal encodes v canonically, signs it under d and returns the container
// bytes together with the body bytes.
func Seal(key ed25519.PrivateKey, d Domain, v any) (container, body []byte, err error) {
	body, err = canon.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	container, err = canon.Marshal(Signed{Body: body, Sig: Sign(key, d, body)})
	return container, body, err
}

// Open decodes a container without checking its signature; the caller
// verifies it once it knows which key must have signed.
func Open(data []byte) (Signed, error) {
	var s Signed
	if err := canon.Unmarshal(data, &s); err != nil {
		return s, err
	}
	if len(s.Sig) != ed25519.SignatureSize {
		return s, fmt.Errorf("signature is %d bytes, want %d", len(s.Sig), ed25519.SignatureSize)
	}
	return s, nil
}
