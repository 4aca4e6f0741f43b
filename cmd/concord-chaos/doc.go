// Command concord-chaos runs real `concord daemon` processes over a real
// network, injects faults into them while analysts publish, revise and
// revoke, heals everything, waits for convergence and checks invariants
// through each node's local API (see docs/reliability.md).
//
// Usage (as root, on Linux with network namespaces):
//
//	go run ./cmd/concord-chaos [-nodes 5] [-duration 60s] [-seed N] [-faults kill,pause,...] [-removals=false] [-dir DIR] [-keep]
//
// Each node runs in its own network namespace, joined by a veth pair to a
// bridge in a namespace of the run's own; its home is on a size-limited
// tmpfs under the work directory. Every name the run creates starts with
// cch<pid>, and everything is removed on exit, also on failure and SIGINT.
// The seed is printed first: -seed replays the same choices of operations
// and faults (timing still varies). On failure the work directory is kept
// (history.jsonl, each daemon's log) and the exit code is 1; without root
// or network namespaces the run says why and exits 0.
package main
