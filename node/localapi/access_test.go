package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/audit"
)

// Every route the handler serves has a rule: a route added without one
// would be admin-only, which the table must say on purpose.
func TestEveryRouteHasARule(t *testing.T) {
	a := NewAccess(&Policy{}, mustLog(t), nil)
	for route := range routes(&fake{}) {
		if _, ok := RuleOf(route); !ok {
			t.Errorf("route %q has no access rule in rules (access.go)", route)
		}
	}
	for route := range a.routes() {
		if _, ok := RuleOf(route); !ok {
			t.Errorf("audit route %q has no access rule", route)
		}
	}
	if r, ok := RuleOf("POST /v1/something-new"); ok || r.Role != RoleAdmin {
		t.Fatalf("a route without a rule = %+v, %v; want admin-only", r, ok)
	}
}

func mustLog(t *testing.T) *audit.Log {
	t.Helper()
	l, err := audit.Open(audit.NewMemory(), "")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// guarded serves svc with access control for callers set by as.
func guarded(t *testing.T, svc Service, roles map[string][]string) (*Access, func(c *Caller, method, path, body string) *httptest.ResponseRecorder) {
	t.Helper()
	p, err := NewPolicy(roles, 1000)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccess(p, mustLog(t), func(err error) { t.Errorf("audit: %v", err) })
	h := Handler(svc, WithAccess(a))
	return a, func(c *Caller, method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if c != nil {
			r = r.WithContext(WithCaller(r.Context(), *c))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
}

func entries(t *testing.T, a *Access) []audit.Entry {
	var out []audit.Entry
	a.Log().Entries(audit.Filter{}, func(e audit.Entry) error { out = append(out, e); return nil })
	return out
}

var (
	daemonUser = &Caller{UID: 1000, User: "concord", Groups: []string{"concord"}}
	bob        = &Caller{UID: 1001, User: "bob", Groups: []string{"bob", "concord"}}
	alice      = &Caller{UID: 1002, User: "alice", Groups: []string{"alice", "analysts"}}
	carol      = &Caller{UID: 1003, User: "carol", Groups: []string{"carol"}}
	eve        = &Caller{UID: 1004, User: "eve", Groups: []string{"eve"}}
)

var testRoles = map[string][]string{"reader": {"group:concord"}, "analyst": {"group:analysts"}, "auditor": {"carol"}}

func TestRolesAndRefusals(t *testing.T) {
	f := &fake{}
	a, call := guarded(t, f, testRoles)
	publish := `{"topic":"t1","draft":{}}`
	for _, c := range []struct {
		who          *Caller
		method, path string
		body         string
		code         int
		msg          string
	}{
		{bob, "GET", "/v1/bulletins?topic=t1", "", 200, ""},
		{bob, "POST", "/v1/publish", publish, 403, `publish needs role analyst; user "bob" has role reader (ask an admin to grant it in [api.roles] of config.toml)`},
		{alice, "POST", "/v1/publish", publish, 201, ""},
		{alice, "POST", "/v1/topics", `{}`, 403, `topic-admin needs role admin; user "alice" has role analyst`},
		{carol, "GET", "/v1/bulletins", "", 403, `list needs role reader; user "carol" has role auditor`},
		{carol, "GET", "/v1/audit/verify", "", 200, ""},
		{bob, "GET", "/v1/audit", "", 403, `audit needs role auditor or admin; user "bob" has role reader`},
		{eve, "GET", "/v1/topics/t1", "", 403, `topic needs role reader; user "eve" has no role`},
		{eve, "GET", "/v1/status", "", 403, `this call needs a role; user "eve" has no role`},
		{nil, "GET", "/v1/topics/t1", "", 403, "could not read who is calling"},
		{daemonUser, "GET", "/v1/topics/t1", "", 200, ""},
		{&Caller{UID: 0, User: "root"}, "GET", "/v1/audit/verify", "", 200, ""},
	} {
		w := call(c.who, c.method, c.path, c.body)
		var e api.Error
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%v %s %s = %d %s; want %d %q", c.who, c.method, c.path, w.Code, w.Body, c.code, c.msg)
		}
		if c.code == 403 && api.ClassOfStatus(w.Code) != api.Forbidden {
			t.Errorf("refusal status %d is not forbidden", w.Code)
		}
	}
	got := entries(t, a)
	want := []struct{ user, action, outcome, topic, bulletin string }{
		{"bob", "list", audit.OK, "t1", ""},
		{"bob", "publish", audit.Refused, "t1", ""}, // the topic from the body
		{"alice", "publish", audit.OK, "t1", "new"}, // the ID from the answer
		{"alice", "topic-admin", audit.Refused, "", ""},
		{"carol", "list", audit.Refused, "", ""},
		{"carol", "audit-verify", audit.OK, "", ""},
		{"bob", "audit", audit.Refused, "", ""},
		{"eve", "topic", audit.Refused, "t1", ""},
		// eve's status and the call without credentials record nothing
		{"concord", "topic", audit.OK, "t1", ""},
		{"root", "audit-verify", audit.OK, "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("audit has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.User != w.user || g.Action != w.action || g.Outcome != w.outcome || g.Topic != w.topic || g.Bulletin != w.bulletin {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
	if got[1].Class != "forbidden" || got[0].Detail != "topic=t1" {
		t.Errorf("refusal class %q, list detail %q", got[1].Class, got[0].Detail)
	}
}

// A call the node fails is recorded as an error with its class, the
// bulletin from the path.
func TestAuditRecordsErrors(t *testing.T) {
	f := &fake{err: api.Errorf(api.NotFound, "no such topic")}
	a, call := guarded(t, f, testRoles)
	if w := call(bob, "GET", "/v1/topics/zz", ""); w.Code != 404 {
		t.Fatalf("status %d", w.Code)
	}
	got := entries(t, a)
	if len(got) != 1 || got[0].Outcome != audit.Error || got[0].Class != "not-found" || got[0].Topic != "zz" {
		t.Fatalf("entries %+v", got)
	}
}

// The audit routes stream entries with their hashes, filtered.
func TestAuditRoute(t *testing.T) {
	_, call := guarded(t, &fake{}, testRoles)
	call(bob, "GET", "/v1/bulletins", "")
	call(bob, "POST", "/v1/publish", `{}`)
	w := call(carol, "GET", "/v1/audit?user=bob&action=publish", "")
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if w.Code != 200 || len(lines) != 1 || !strings.Contains(lines[0], `"outcome":"refused"`) || !strings.Contains(lines[0], `"hash":"`) {
		t.Fatalf("audit = %d %s", w.Code, w.Body)
	}
	if w := call(carol, "GET", "/v1/audit?since=yesterday", ""); w.Code != 400 {
		t.Fatalf("bad since = %d", w.Code)
	}
}

// A new policy applies to the next call.
func TestSetPolicy(t *testing.T) {
	a, call := guarded(t, &fake{}, testRoles)
	p, _ := NewPolicy(map[string][]string{"analyst": {"bob"}}, 1000)
	a.SetPolicy(p)
	if w := call(bob, "POST", "/v1/publish", `{"topic":"t"}`); w.Code != 201 {
		t.Fatalf("publish after the policy changed = %d %s", w.Code, w.Body)
	}
}

func TestNewPolicyRefusesMistakes(t *testing.T) {
	for _, roles := range []map[string][]string{
		{"superuser": {"bob"}},
		{"reader": {"group:"}},
		{"reader": {""}},
		{"reader": {"bob smith"}},
	} {
		if _, err := NewPolicy(roles, 1000); err == nil || !strings.Contains(err.Error(), "api.roles") {
			t.Errorf("NewPolicy(%v) = %v", roles, err)
		}
	}
}

// Without WithAccess nothing changes: no caller needed.
func TestNoAccessServesAll(t *testing.T) {
	w := httptest.NewRecorder()
	Handler(&fake{}).ServeHTTP(w, httptest.NewRequest("GET", "/v1/topics/t", nil).WithContext(context.Background()))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
}

func FuzzParseAuditQuery(f *testing.F) {
	f.Add("since=2026-01-01T00:00:00Z&user=bob&action=show")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := urlParse(raw)
		if err != nil {
			return
		}
		q, err := api.ParseAuditQuery(v)
		if err != nil {
			return
		}
		if q2, err := api.ParseAuditQuery(q.Values()); err != nil || q2.User != q.User || q2.Action != q.Action || !q2.Since.Equal(q.Since) {
			t.Fatalf("%q: round trip %+v → %+v, %v", raw, q, q2, err)
		}
	})
}

func urlParse(s string) (url.Values, error) { return url.ParseQuery(s) }

// An invitation's history override is in its audit entry: which history
// was granted, and by whom.
func TestAuditRecordsTheHistoryGranted(t *testing.T) {
	a, call := guarded(t, &inviteFake{}, testRoles)
	call(daemonUser, "POST", "/v1/topics/t1/invite", `{"card":"x","history":"all"}`)
	got := entries(t, a)
	if len(got) != 1 || got[0].Action != "invite" || got[0].Topic != "t1" || got[0].Detail != "history=all" {
		t.Fatalf("audit = %+v; want one invite of t1 with detail history=all", got)
	}
}

type inviteFake struct{ fake }

func (*inviteFake) Invite(context.Context, string, api.InviteRequest) (api.InviteResponse, error) {
	return api.InviteResponse{}, nil
}
