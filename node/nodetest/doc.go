// Package nodetest starts a federation of Concord nodes and drives it
// through each node's local API, for node's tests, `concord demo` and
// concord-bench.
//
// It does not import node, so that node's own tests can use it: the
// caller says how to start one member (a Starter), and nodetest does the
// rest through the typed client of node/api, as an operator's CLI would:
// a topic created by one member, every other invited with its card and
// joined with the token, then a wait until every member has every other
// as a GossipSub peer on the topic.
//
// Nothing here sleeps for a fixed time: every wait polls a condition
// (Poll) until it holds or the caller's context ends.
package nodetest
