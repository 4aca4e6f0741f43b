package api

import (
	"context"
	"net/url"
	"time"

	"github.com/concordnet/concord/node/audit"
)

// AuditEntry is one audit log entry, with its hashes (node/audit).
type AuditEntry = audit.Entry

// AuditReport is what GET /v1/audit/verify found.
type AuditReport = audit.Report

// AuditQuery selects audit entries (GET /v1/audit).
type AuditQuery struct {
	Since  time.Time // at or after; zero: from the oldest kept
	User   string    // OS user name; "": everyone
	Action string    // e.g. show, publish; "": every action
}

// Values encodes q as URL query parameters.
func (q AuditQuery) Values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if q.User != "" {
		v.Set("user", q.User)
	}
	if q.Action != "" {
		v.Set("action", q.Action)
	}
	return v
}

// ParseAuditQuery decodes GET /v1/audit's query.
func ParseAuditQuery(v url.Values) (AuditQuery, error) {
	since, err := parseTime(v, "since")
	return AuditQuery{Since: since, User: v.Get("user"), Action: v.Get("action")}, err
}

// Audit streams the audit entries q selects, oldest first, as stored
// (with index, prev and hash).
func (c *Client) Audit(ctx context.Context, q AuditQuery) (*Stream[AuditEntry], error) {
	return newStream[AuditEntry](c.stream(ctx, RouteAudit, q.Values()))
}

// AuditVerify walks the audit chain on the daemon.
func (c *Client) AuditVerify(ctx context.Context) (AuditReport, error) {
	return get[AuditReport](ctx, c, RouteAuditVerify, nil, nil)
}
