package localapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/audit"
)

// Rule is what a route needs: the role, and the action name the audit
// log records it under ("" records nothing: pure liveness).
type Rule struct {
	Role   Role
	Action string
	// ResultID takes the bulletin ID from the answer (a new bulletin).
	ResultID bool
}

// rules is the access table, by route pattern. A route missing from it
// needs admin (RuleOf): a new route is closed until someone decides.
var rules = map[string]Rule{
	api.RouteStatus:            {Role: roleAny},
	api.RouteID:                {roleAny, "id", false},
	api.RoutePeers:             {RoleReader, "peers", false},
	api.RouteConnect:           {RoleAdmin, "connect", false},
	api.RouteBackup:            {RoleAdmin, "backup", false},
	api.RouteMetrics:           {RoleAdmin, "metrics", false},
	"GET /debug/pprof/":        {RoleAdmin, "pprof", false},
	"GET /debug/pprof/profile": {RoleAdmin, "pprof", false},
	api.RouteCategories:        {RoleReader, "categories", false},
	api.RouteTopics:            {RoleReader, "topics", false},
	api.RouteCreateTopic:       {RoleAdmin, "topic-admin", false},
	api.RouteTopic:             {RoleReader, "topic", false},
	api.RouteMembers:           {RoleReader, "members", false},
	api.RouteInvite:            {RoleAdmin, "invite", false},
	api.RouteRemove:            {RoleAdmin, "topic-admin", false},
	api.RouteRotate:            {RoleAdmin, "topic-admin", false},
	api.RouteRole:              {RoleAdmin, "topic-admin", false},
	api.RouteUninvite:          {RoleAdmin, "topic-admin", false},
	api.RouteLeave:             {RoleAdmin, "topic-admin", false},
	api.RouteJoin:              {RoleAdmin, "join", false},
	api.RoutePublish:           {RoleAnalyst, "publish", true},
	api.RouteList:              {RoleReader, "list", false},
	api.RouteBulletin:          {RoleReader, "show", false},
	api.RouteRevise:            {RoleAnalyst, "revise", true},
	api.RouteRevoke:            {RoleAnalyst, "revoke", true},
	api.RouteRelated:           {RoleReader, "related", false},
	api.RouteWatch:             {RoleReader, "watch", false},
	api.RouteSearch:            {RoleReader, "search", false},
	api.RouteReindex:           {RoleAdmin, "reindex", false},
	api.RouteImport:            {RoleReader, "imports", false},
	api.RouteAddImport:         {RoleAnalyst, "import", true},
	api.RouteWatchlist:         {RoleReader, "watchlist", false},
	api.RouteAddWatch:          {RoleAnalyst, "watchlist", false},
	api.RouteRemoveWatch:       {RoleAnalyst, "watchlist", false},
	api.RouteAlerts:            {RoleReader, "alerts", false},
	api.RouteWatchAlerts:       {RoleReader, "alerts", false},
	api.RouteAudit:             {RoleAuditor, "audit", false},
	api.RouteAuditVerify:       {RoleAuditor, "audit-verify", false},
	api.RouteTopicLog:          {RoleAuditor, "raw-log", false},
	api.RouteEnvelopes:         {RoleAuditor, "raw-envelopes", false},
	api.RoutePolicy:            {RoleAdmin, "topic-admin", false},
	api.RouteRequests:          {RoleReader, "requests", false},
	api.RouteCreateRequest:     {RoleAnalyst, "request", true},
	api.RouteAck:               {RoleAnalyst, "ack", false},
	api.RouteDecline:           {RoleAnalyst, "decline", false},
	api.RouteReply:             {RoleAnalyst, "reply", true},
}

// RuleOf returns the rule of a route pattern; ok false (and admin) for
// a route the table lacks.
func RuleOf(pattern string) (r Rule, ok bool) {
	if r, ok = rules[pattern]; ok {
		return r, true
	}
	return Rule{Role: RoleAdmin, Action: pattern}, false
}

// Access is the local API's access control and audit: it holds the role
// policy (replaceable while serving) and the audit log.
type Access struct {
	policy atomic.Pointer[Policy]
	log    *audit.Log
	// failed is told when an entry cannot be recorded; the call it
	// records has happened already.
	failed func(error)
}

// NewAccess returns access control by p, recording to log (nil: no
// audit); failed (nil: ignored) hears of entries that could not be
// written.
func NewAccess(p *Policy, log *audit.Log, failed func(error)) *Access {
	a := &Access{log: log, failed: failed}
	a.policy.Store(p)
	return a
}

// SetPolicy replaces the policy, for calls that start after it.
func (a *Access) SetPolicy(p *Policy) { a.policy.Store(p) }

// Log returns the audit log.
func (a *Access) Log() *audit.Log { return a.log }

// WithAccess checks every call against a's policy and records it in a's
// audit log, and serves the audit routes.
func WithAccess(a *Access) Option { return func(o *options) { o.access = a } }

// guard wraps the handler of pattern with its rule; a nil Access serves
// h as it is.
func (a *Access) guard(pattern string, h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	rule, _ := RuleOf(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, known := CallerOf(r.Context())
		if !known {
			writeError(w, api.Errorf(api.Forbidden, "the daemon could not read who is calling (socket peer credentials): nothing is served without them"))
			return
		}
		held := a.policy.Load().RolesOf(c)
		e := audit.Entry{User: c.User, UID: c.UID, Action: rule.Action, Topic: objectOf(r, api.PathTopic, "topic"), Bulletin: objectOf(r, api.PathID, "")}
		if pattern == api.RouteRemoveWatch {
			e.Bulletin, e.Detail = "", "watch "+r.PathValue(api.PathID)
		} else if q := r.URL.RawQuery; q != "" {
			e.Detail = clip(q, 512)
		}
		if r.Method == http.MethodPost {
			topic, history := peekBody(r)
			if e.Topic == "" {
				e.Topic = topic
			}
			if history != "" { // an invitation's or a topic's history policy: who was granted what
				e.Detail = strings.TrimPrefix(e.Detail+" history="+history, " ")
			}
		}
		if !allows(held, rule.Role) {
			writeError(w, api.Errorf(api.Forbidden, "%s", refusal(actionName(rule), rule.Role, c, held)))
			e.Outcome, e.Class = audit.Refused, string(api.Forbidden)
			a.record(rule, e)
			return
		}
		rec := &recorder{ResponseWriter: w, keep: rule.ResultID}
		h.ServeHTTP(rec, r)
		rec.finish(&e)
		a.record(rule, e)
	})
}

func actionName(r Rule) string {
	if r.Action == "" {
		return "this call"
	}
	return r.Action
}

// objectOf is path wildcard name, else query parameter q.
func objectOf(r *http.Request, name, q string) string {
	if v := r.PathValue(name); v != "" {
		return clip(v, 128)
	}
	if q != "" {
		return clip(r.URL.Query().Get(q), 128)
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// peekBody reads the "topic" (publish names its topic there) and the
// "history" (an invitation's or a topic's history policy) of a JSON
// request body, and leaves the body to be read again.
func peekBody(r *http.Request) (topic, history string) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil {
		return "", ""
	}
	var v struct {
		Topic   string `json:"topic"`
		History string `json:"history"`
	}
	if json.Unmarshal(b, &v) != nil {
		return "", ""
	}
	return clip(v.Topic, 128), clip(v.History, 32)
}

// record appends e unless the rule records nothing.
func (a *Access) record(rule Rule, e audit.Entry) {
	if a.log == nil || rule.Action == "" {
		return
	}
	if _, err := a.log.Append(e); err != nil && a.failed != nil {
		a.failed(err)
	}
}

// recorder notes the status of an answer and, when keep is set, the
// start of its body (to take a new bulletin's ID from it).
type recorder struct {
	http.ResponseWriter
	status int
	keep   bool
	body   bytes.Buffer
}

// maxKept bounds the answer bytes a recorder keeps.
const maxKept = 4096

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.keep || r.status >= 300 {
		r.body.Write(b[:min(len(b), max(0, maxKept-r.body.Len()))])
	}
	return r.ResponseWriter.Write(b)
}

// Flush keeps streams (watch, backup) flowing through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// finish sets e's outcome from the answer.
func (r *recorder) finish(e *audit.Entry) {
	if r.status == 0 || r.status < 300 {
		e.Outcome = audit.OK
		var v struct {
			ID    string `json:"id"`
			Topic string `json:"topic"`
		}
		if !r.keep || json.Unmarshal(r.body.Bytes(), &v) != nil {
			return
		}
		if v.ID != "" && e.Bulletin == "" {
			e.Bulletin = clip(v.ID, 128)
		}
		if len(v.Topic) == 64 { // the resolved topic ID, over the reference asked
			e.Topic = v.Topic
		}
		return
	}
	e.Outcome, e.Class = audit.Error, string(api.ClassOfStatus(r.status))
	var ae api.Error
	if json.Unmarshal(r.body.Bytes(), &ae) == nil && ae.Class != "" {
		e.Class = string(ae.Class)
	}
}
