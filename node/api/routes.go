package api

// Routes of the local API, as "METHOD PATTERN" for http.ServeMux. The
// client builds its paths from the same patterns (see path).
const (
	RouteStatus      = "GET /v1/status"
	RouteID          = "GET /v1/id"
	RoutePeers       = "GET /v1/peers"
	RouteConnect     = "POST /v1/connect"
	RouteBackup      = "GET /v1/backup"
	RouteMetrics     = "GET /metrics"
	RouteCategories  = "GET /v1/categories"
	RouteTopics      = "GET /v1/topics"
	RouteCreateTopic = "POST /v1/topics"
	RouteTopic       = "GET /v1/topics/{topic}"
	RouteMembers     = "GET /v1/topics/{topic}/members"
	RouteInvite      = "POST /v1/topics/{topic}/invite"
	RouteRemove      = "POST /v1/topics/{topic}/remove"
	RouteRotate      = "POST /v1/topics/{topic}/rotate"
	RouteRole        = "POST /v1/topics/{topic}/role"
	RouteUninvite    = "POST /v1/topics/{topic}/uninvite"
	RouteLeave       = "POST /v1/topics/{topic}/leave"
	RouteJoin        = "POST /v1/join"
	RoutePublish     = "POST /v1/publish"
	RouteList        = "GET /v1/bulletins"
	RouteBulletin    = "GET /v1/bulletins/{id}"
	RouteRevise      = "POST /v1/bulletins/{id}/revise"
	RouteRevoke      = "POST /v1/bulletins/{id}/revoke"
	RouteRelated     = "GET /v1/bulletins/{id}/related"
	RouteWatch       = "GET /v1/watch"
	RouteSearch      = "GET /v1/search"
	RouteReindex     = "POST /v1/reindex"
	RouteImport      = "GET /v1/imports"
	RouteAddImport   = "POST /v1/imports"
	RouteWatchlist   = "GET /v1/watchlist"
	RouteAddWatch    = "POST /v1/watchlist"
	RouteRemoveWatch = "DELETE /v1/watchlist/{id}"
	RouteAlerts      = "GET /v1/alerts"
	RouteWatchAlerts = "GET /v1/alerts/watch"
	RouteAudit       = "GET /v1/audit"
	RouteAuditVerify = "GET /v1/audit/verify"

	// Raw exports for auditors (ndjson streams).
	RouteTopicLog  = "GET /v1/topics/{topic}/log"
	RouteEnvelopes = "GET /v1/topics/{topic}/envelopes"

	// The history policy of a topic (admins).
	RoutePolicy = "POST /v1/topics/{topic}/policy"
)

// Routes of requests for information (requests.go).
const (
	RouteRequests      = "GET /v1/requests"
	RouteCreateRequest = "POST /v1/requests"
	RouteAck           = "POST /v1/requests/{id}/ack"
	RouteDecline       = "POST /v1/requests/{id}/decline"
	RouteReply         = "POST /v1/requests/{id}/reply"
)

// Path wildcards of the routes.
const (
	PathTopic = "topic"
	PathID    = "id"
)
