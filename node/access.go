package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/concordnet/concord/node/audit"
	"github.com/concordnet/concord/node/localapi"
)

// APIConfig sets who may use the local API socket, and as what.
type APIConfig struct {
	// Group is an OS group whose members may connect to the socket
	// (mode 0660); "": the daemon's user alone (mode 0600).
	Group string `toml:"group"`
	// Roles maps a role (reader, analyst, admin, auditor) to OS user
	// names and "group:NAME" entries.
	Roles map[string][]string `toml:"roles"`
}

// AuditConfig sets the audit log's retention.
type AuditConfig struct {
	// RetentionDays drops entries older than this many days; 0 keeps all.
	RetentionDays int `toml:"retention_days"`
}

func (a APIConfig) validate() error {
	if a.Group != "" && !localapi.PeerCredentials {
		return fmt.Errorf("api.group: opening the socket to a group needs the peer credentials of Linux, which this system lacks: leave it \"\"")
	}
	_, err := localapi.NewPolicy(a.Roles, 0)
	return err
}

func (a AuditConfig) validate() error {
	if a.RetentionDays < 0 {
		return fmt.Errorf("audit.retention_days: %d must be 0 (keep forever) or more", a.RetentionDays)
	}
	return nil
}

// AuditHead is the file holding the audit chain's head (index and hash),
// for the operator to ship elsewhere.
func (h Home) AuditHead() string { return filepath.Join(string(h), "audit.head") }

// openAccess opens the audit log in the store and the role policy.
func (n *Node) openAccess() error {
	log, err := audit.Open(n.store, n.home.AuditHead())
	if err != nil {
		return err
	}
	p, err := localapi.NewPolicy(n.cfg.API.Roles, uint32(os.Getuid()))
	if err != nil {
		return err
	}
	n.access = localapi.NewAccess(p, log, func(err error) { n.log.Error("audit entry not written", "err", err) })
	return nil
}

// connContext puts the caller's peer credentials in each connection's
// context. Where the system has none to give, the socket is the daemon
// user's alone (a group needs Linux: see APIConfig.validate), so the
// caller is that user.
func (n *Node) connContext(ctx context.Context, c net.Conn) context.Context {
	ctx = localapi.ConnContext(ctx, c)
	if _, ok := localapi.CallerOf(ctx); !ok && !localapi.PeerCredentials {
		ctx = localapi.WithCaller(ctx, localapi.ResolveCaller(uint32(os.Getuid()), uint32(os.Getgid()), 0))
	}
	return ctx
}

// openSocket gives the socket to [api] group (mode 0660) or to the
// daemon's user alone (0600). With a group, the home is made reachable
// to it too (group-owned, mode 0710: the group may pass through to the
// socket, not list or read the home).
func (n *Node) openSocket(sock string) error {
	if n.cfg.API.Group == "" {
		return os.Chmod(sock, 0o600)
	}
	g, err := user.LookupGroup(n.cfg.API.Group)
	if err != nil {
		return fmt.Errorf("api.group: %w (create the group, e.g. groupadd %s, or set api.group = \"\")", err, n.cfg.API.Group)
	}
	gid, _ := strconv.Atoi(g.Gid)
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{string(n.home), 0o710}, {sock, 0o660}} {
		if err := os.Chown(p.path, -1, gid); err != nil {
			return fmt.Errorf("api.group: giving %s to group %s: %w (the daemon's user must belong to it)", p.path, g.Name, err)
		}
		if err := os.Chmod(p.path, p.mode); err != nil {
			return err
		}
	}
	return nil
}

// auditRetentionLoop drops audit entries past [audit] retention_days.
func (n *Node) auditRetentionLoop() {
	days := n.cfg.Audit.RetentionDays
	if days == 0 {
		return
	}
	for {
		dropped, err := n.access.Log().Prune(n.now().Add(-time.Duration(days) * 24 * time.Hour))
		switch {
		case err != nil && n.ctx.Err() == nil:
			n.log.Error("audit retention", "err", err)
		case dropped > 0:
			n.log.Info("audit retention dropped old entries", "dropped", dropped, "retention_days", days)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(retentionInterval):
		}
	}
}
