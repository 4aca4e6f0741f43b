// Package node is the Concord daemon: the libp2p host, GossipSub, topic
// handling and storage, and Service, the operations its local API serves.
//
// # Entry points
//
//   - A home: ResolveHome finds it, Init creates it (keys and
//     config.toml), LoadConfig reads its config. Home lists its layout.
//   - Start runs a daemon on a home and returns its Node; Close stops it.
//     It serves the local API on the home's socket: node/localapi's
//     handlers over Node.Service, which takes references as the user
//     gives them (topic names, ID prefixes, country codes) and returns
//     api views and classified errors (api.Class).
//   - The Node's own methods are for embedding and tests: CreateTopic,
//     Join, Connect, Revise, Revoke, Search, Related, Backup.
//   - Ingest and Envelopes feed and read envelopes by other means than
//     GossipSub (the benchmark, tests).
//   - Restore recreates a home from a backup file.
//
// # Dependencies
//
// protocol and crypto for every rule and key, node/store for the
// database, node/api and node/localapi for the local API, node/backup for the
// backup archive format, entity for search; libp2p, GossipSub,
// Prometheus and TOML. Nothing here is imported by protocol or crypto.
package node
