// Package localapi serves the daemon's local HTTP+JSON API on its Unix
// socket. It holds the handlers only, as one table of routes (handler.go)
// built from a few generic adapters (adapt.go): each decodes a request (path
// wildcards, query with the api.Parse* functions, a JSON body bounded to
// 4 MiB with unknown fields refused), calls the Service and encodes the
// answer. The work is the Service's (package node implements it); the
// types and the client are package api's.
//
// Routes (api.Route*), with the status of a success:
//
//	GET    /v1/status                   200 api.Status
//	GET    /v1/id                       200 api.Identity
//	GET    /v1/peers                    200 []api.Peer
//	POST   /v1/connect                  200 api.ConnectResponse
//	GET    /v1/backup                   200 the archive, raw bytes
//	GET    /v1/categories               200 []api.Category
//	GET    /v1/topics                   200 []api.Topic
//	POST   /v1/topics                   201 api.Topic
//	GET    /v1/topics/{topic}           200 api.Topic
//	GET    /v1/topics/{topic}/members   200 []api.Member
//	POST   /v1/topics/{topic}/invite    200 api.InviteResponse
//	POST   /v1/topics/{topic}/remove    200 api.LogChange (also rotate,
//	                                        role, uninvite, leave)
//	POST   /v1/join                     200 api.Topic
//	POST   /v1/publish                  201 api.PublishResponse
//	GET    /v1/bulletins                200 []api.Bulletin
//	GET    /v1/bulletins/{id}           200 api.Bulletin
//	POST   /v1/bulletins/{id}/revise    200 api.PublishResponse (also revoke)
//	GET    /v1/bulletins/{id}/related   200 api.Related
//	GET    /v1/watch                    200 api.Bulletin lines
//	GET    /v1/search                   200 []api.SearchHit
//	POST   /v1/reindex                  200 api.ReindexProgress lines
//	GET    /v1/imports                  200 api.ImportRecord
//	POST   /v1/imports                  201 api.ImportRecord
//	GET    /v1/watchlist                200 []api.WatchEntry
//	POST   /v1/watchlist                201 api.WatchEntry
//	DELETE /v1/watchlist/{id}           200 {"removed": id}
//	GET    /v1/alerts                   200 []api.Alert
//	GET    /v1/alerts/watch             200 api.Alert lines
//	GET    /v1/topics/{topic}/log       200 api.LogEntry lines (raw export)
//	GET    /v1/topics/{topic}/envelopes 200 api.RawEnvelope lines (raw export)
//	POST   /v1/topics/{topic}/policy    200 api.LogChange
//	GET    /v1/requests                 200 []api.Request
//	POST   /v1/requests                 201 api.PublishResponse
//	POST   /v1/requests/{id}/ack        200 api.Receipt (also decline)
//	POST   /v1/requests/{id}/reply      200 api.PublishResponse
//	GET    /v1/audit                    200 api.AuditEntry lines
//	GET    /v1/audit/verify             200 api.AuditReport
//
// With WithAccess, every route first meets the access table (access.go):
// the caller's roles, from its socket peer credentials, must grant the
// route's, and the call is recorded in the audit log.
//
// GET /metrics and the profiles are the node's handlers, passed with
// WithHandler.
//
// Errors are mapped in one place (writeError): the status is
// api.ClassOf(err).Status() and the body api.Error, {"error", "class"}:
//
//	invalid 400, not-found 404, forbidden 403, conflict 409,
//	unavailable 503, internal 500 (any error without a class)
//
// Streams (watch, alerts/watch, reindex) are newline-delimited JSON, one
// flushed line per value, their 200 sent before the first: an error once
// a stream is open can only end it. A backup that fails after its first
// byte cuts the connection, so that an archive ending cleanly is a whole
// one.
package localapi
