// Package api is the contract of the daemon's local API (HTTP+JSON over
// the home's Unix socket): what the CLI, concord demo, the benchmark and
// tests use to drive a node.
//
// # What it holds
//
//   - Routes: one constant per route, "METHOD PATTERN" as http.ServeMux
//     takes it (routes.go); the server (node/localapi) registers them and
//     the client builds its paths from them.
//   - Types: the request and response bodies, and the query types with
//     their URL encoding (ListQuery, SearchQuery, AlertQuery, WatchQuery).
//   - Errors: every refusal has a Class (invalid, not-found, forbidden,
//     conflict, unavailable, internal); an *Error travels as
//     {"error": message, "class": class} with the class's HTTP status.
//   - Client: one method per route; streams (watch, alerts, reindex) as
//     a Stream of typed values.
//
// # Dependencies
//
// The standard library, and protocol for the bulletin types a draft and
// a bulletin's content are made of. The server side is node/localapi.
package api
