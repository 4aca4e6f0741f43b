package localapi

import (
	"context"
	"fmt"
	"net"
	"os/user"
	"strconv"
)

// Caller is who is on the other end of the socket, from the kernel's
// peer credentials (SO_PEERCRED) taken when the connection was accepted:
// never from anything the caller sends.
type Caller struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	PID    int32    `json:"pid"`
	User   string   `json:"user"`   // the OS user name, else "uid:N"
	Groups []string `json:"groups"` // names of the primary and supplementary groups
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerOf returns the caller ctx carries.
func CallerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// ConnContext is for http.Server.ConnContext: it puts the peer
// credentials of a Unix socket connection into the connection's context.
// A connection whose credentials cannot be read carries none, and
// Access refuses its every call.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	uid, gid, pid, err := peerCred(uc)
	if err != nil {
		return ctx
	}
	return WithCaller(ctx, ResolveCaller(uid, gid, pid))
}

// ResolveCaller names uid and its groups from the system's user database:
// the primary group gid and every group that lists the user.
func ResolveCaller(uid, gid uint32, pid int32) Caller {
	c := Caller{UID: uid, GID: gid, PID: pid, User: fmt.Sprintf("uid:%d", uid)}
	gids := []string{strconv.FormatUint(uint64(gid), 10)}
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		c.User = u.Username
		if more, err := u.GroupIds(); err == nil {
			gids = append(gids, more...)
		}
	}
	seen := map[string]bool{}
	for _, id := range gids {
		name := "gid:" + id
		if g, err := user.LookupGroupId(id); err == nil {
			name = g.Name
		}
		if !seen[name] {
			seen[name] = true
			c.Groups = append(c.Groups, name)
		}
	}
	return c
}
