// Command concord is the Concord daemon and the analysts' CLI in one
// binary: `concord daemon` runs a node; every other command talks to the
// local daemon over its Unix socket.
//
// # Layout
//
// main.go builds the cobra command tree; each command, or family of
// commands, has its file (init.go, daemon.go, topic.go, publish.go,
// backup.go, search.go…). docs/cli.md is the reference.
//
// # Dependencies
//
// node/api's client for everything the daemon does; node itself only to
// find the home and for init, daemon, demo, restore, version and the
// offline fallback of id, which read the home or run a node; node/backup
// to seal and check a backup as it arrives; interop, interop/stix and
// interop/misp for export and import; cobra.
package main
