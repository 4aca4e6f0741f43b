// Package crypto holds a member's keys and the signed structures built
// from them: member cards, and the domain-separated Ed25519 signatures that
// every other signed Concord structure uses.
//
// # Contents
//
//   - Identity: the member's four keys (Ed25519 signing key, age hybrid
//     identity, libp2p peer key, store key), GenerateIdentity,
//     LoadIdentity and Save, and the member ID derived from the signing key.
//   - Signatures: Sign, Verify and the [body, sig] container (Seal, Open),
//     each under a Domain so that no signature is valid in two places.
//   - Member cards (NewCard, ParseCard, ParseArmoredCard) and the checks
//     of their fields (names, ISO 3166-1 countries, peer IDs, multiaddrs).
//   - Epoch keys: GenerateEpochKey, WrapEpochKey and UnwrapEpochKey, and
//     age encryption to members (Encrypt, Decrypt).
//   - The concord-epoch age stanza: envelopes to an epoch wrap their file
//     key under the epoch secret (EpochKey.EnvelopeRecipient), and
//     EpochKey.EnvelopeIdentity opens it and the older hybrid stanza.
//   - Invitations and their tokens (NewInvitation, ParseToken), and the
//     join signature (SignJoin, VerifyJoin).
//
// # Dependencies
//
// filippo.io/age, golang.org/x/crypto/chacha20poly1305, libp2p's key and
// peer ID types, internal/canon and internal/fsutil (key files are
// written 0600, never over another). It imports nothing else of Concord.
package crypto
