package localapi

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Role is what a local user may do through the API (docs/security.md,
// Local access).
type Role string

// The roles, and roleAny: what every caller holding some role may do.
const (
	RoleReader  Role = "reader"  // reads: list, show, search, watch, alerts
	RoleAnalyst Role = "analyst" // reader, and publishing, importing, watchlists
	RoleAdmin   Role = "admin"   // everything
	RoleAuditor Role = "auditor" // the audit log (and status, id)
	roleAny     Role = "any"
)

// Roles lists the configurable roles.
var Roles = []Role{RoleReader, RoleAnalyst, RoleAdmin, RoleAuditor}

// grants says which held roles satisfy a needed one.
var grants = map[Role][]Role{
	roleAny:     Roles,
	RoleReader:  {RoleReader, RoleAnalyst, RoleAdmin},
	RoleAnalyst: {RoleAnalyst, RoleAdmin},
	RoleAdmin:   {RoleAdmin},
	RoleAuditor: {RoleAuditor, RoleAdmin},
}

// Policy maps OS users and groups to roles. The zero Policy grants
// nothing; NewPolicy makes the daemon's own user and root admins.
type Policy struct {
	users  map[string][]Role
	groups map[string][]Role
	admins map[uint32]bool
}

// NewPolicy reads the [api.roles] table: role → members, each an OS
// user name or "group:NAME". daemonUID and root are admins whatever it
// says.
func NewPolicy(roles map[string][]string, daemonUID uint32) (*Policy, error) {
	p := &Policy{users: map[string][]Role{}, groups: map[string][]Role{}, admins: map[uint32]bool{0: true, daemonUID: true}}
	for name, members := range roles {
		r := Role(name)
		if !slices.Contains(Roles, r) {
			return nil, fmt.Errorf("api.roles: %q is not a role: use reader, analyst, admin or auditor", name)
		}
		for _, m := range members {
			if g, ok := strings.CutPrefix(m, "group:"); ok {
				if g == "" {
					return nil, fmt.Errorf("api.roles.%s: %q names no group: write group:NAME", name, m)
				}
				p.groups[g] = append(p.groups[g], r)
				continue
			}
			if m == "" || strings.ContainsAny(m, ": \t") {
				return nil, fmt.Errorf("api.roles.%s: %q is not an OS user name (or group:NAME)", name, m)
			}
			p.users[m] = append(p.users[m], r)
		}
	}
	return p, nil
}

// RolesOf returns the roles c holds, sorted.
func (p *Policy) RolesOf(c Caller) []Role {
	if p == nil {
		return nil
	}
	set := map[Role]bool{}
	if p.admins[c.UID] {
		set[RoleAdmin] = true
	}
	for _, r := range p.users[c.User] {
		set[r] = true
	}
	for _, g := range c.Groups {
		for _, r := range p.groups[g] {
			set[r] = true
		}
	}
	out := make([]Role, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// allows says whether holding roles satisfies need.
func allows(held []Role, need Role) bool {
	for _, r := range held {
		if slices.Contains(grants[need], r) {
			return true
		}
	}
	return false
}

// refusal is the message of a refused call.
func refusal(action string, need Role, c Caller, held []Role) string {
	has := "no role"
	if len(held) > 0 {
		names := make([]string, len(held))
		for i, r := range held {
			names[i] = string(r)
		}
		has = "role " + strings.Join(names, ", ")
	}
	needs := "role " + string(need)
	switch need {
	case roleAny:
		needs = "a role"
	case RoleAuditor:
		needs = "role auditor or admin"
	}
	return fmt.Sprintf("%s needs %s; user %q has %s (ask an admin to grant it in [api.roles] of config.toml)", action, needs, c.User, has)
}
