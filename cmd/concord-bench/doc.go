// Command concord-bench measures Concord against the libraries it stands
// on, side by side in one run: delivery latency, throughput and CPU
// against plain GossipSub and against the store-and-forward floor
// (GossipSub whose receivers durably store each message), ingest against a plain Badger batch, the per-bulletin
// crypto against plain age, and a daemon's memory. It prints a Markdown
// table and writes a JSON report whose shape is fixed so that runs can be
// compared over time (see docs/benchmarks.md).
//
//	go run ./cmd/concord-bench [-quick] [-out report.json] [-nodes 10,25,50]
//
// # Layout
//
// main.go runs the scenarios one group at a time; each measurement has
// its file (latency.go, throughput.go, floor.go, missed.go, search.go, interop.go,
// crypto.go, rss.go…), and report.go holds the report's shape.
//
// # Dependencies
//
// node (in-process daemons, fed through Node.Ingest), node/store,
// protocol, crypto, entity and interop, against plain libp2p, GossipSub,
// Badger and age.
package main
