// Package api is the daemon's local HTTP+JSON API: the request and
// response types, and the client the CLI uses. The server lives in node.
package api
