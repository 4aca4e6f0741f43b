// Package canon holds the one CBOR dialect that every signed Concord
// structure uses: RFC 8949 core deterministic encoding, decoded strictly.
//
// Signatures always cover the exact bytes that travel, so nothing is ever
// re-encoded before verification. Unmarshal still re-encodes what it
// decoded and compares: a structure that is not in canonical form is
// refused, so one logical value has exactly one encoding (and one hash).
//
// Marshal and Unmarshal are its whole API; it depends on fxamacker/cbor
// only.
package canon
