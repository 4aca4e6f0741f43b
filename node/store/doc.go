// Package store keeps a node's data in one Badger database: envelopes as
// received, topic logs, epoch keys and the indexes behind listing.
//
// Every write goes through a group committer: writes that arrive together
// are applied in one transaction with a single sync, and each caller is
// answered only after that sync. This keeps "acknowledged means durable"
// without paying one fsync per bulletin.
//
// # Entry points
//
// Open opens (or creates) a database encrypted at rest with the store key;
// the Store's methods write envelopes (PutEnvelope), topics and pending
// invitations, list and search bulletins (List, Search), keep watchlists
// and alerts, expire old bulletins (Expire), and take a consistent
// snapshot (Backup) that Restore loads into a new database. keys.go holds
// the key schema.
//
// # Dependencies
//
// Badger, protocol (the records it indexes) and entity (the keys of the
// search index). It knows nothing of the network.
package store
