// Package node is the Concord daemon: the libp2p host, GossipSub, topic
// handling, storage and the local API that the CLI talks to.
//
// # Entry points
//
//   - A home: ResolveHome finds it, Init creates it (keys and
//     config.toml), LoadConfig reads its config. Home lists its layout.
//   - Start runs a daemon on a home and returns its Node; Close stops it.
//     The Node's methods are what the local API serves: topics and
//     membership (CreateTopic, Invite, Join, Remove, Leave…), bulletins
//     (Publish, Revise, Revoke), search, watchlists, Backup.
//   - Ingest and Envelopes feed and read envelopes by other means than
//     GossipSub (the benchmark, tests).
//   - Restore recreates a home from a backup file.
//
// # Dependencies
//
// protocol and crypto for every rule and key, node/store for the
// database, node/api for the local API's types, node/backup for the
// backup archive format, entity for search; libp2p, GossipSub,
// Prometheus and TOML. Nothing here is imported by protocol or crypto.
package node
