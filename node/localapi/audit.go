package localapi

import (
	"context"
	"net/http"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/audit"
)

// routes are the audit log's routes, served with access control only.
func (a *Access) routes() map[string]http.Handler {
	if a == nil || a.log == nil {
		return nil
	}
	return map[string]http.Handler{
		api.RouteAudit: stream(api.ParseAuditQuery, a.entries),
		api.RouteAuditVerify: get(func(context.Context) (api.AuditReport, error) {
			r, err := a.log.Verify()
			return r, api.Classify(api.Internal, err)
		}),
	}
}

// entries sends the entries q selects.
func (a *Access) entries(ctx context.Context, q api.AuditQuery, send func(api.AuditEntry) error) error {
	return a.log.Entries(audit.Filter{Since: q.Since, User: q.User, Action: q.Action}, func(e audit.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return send(e)
	})
}
