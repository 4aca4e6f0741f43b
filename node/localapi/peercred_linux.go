package localapi

import (
	"net"

	"golang.org/x/sys/unix"
)

// PeerCredentials says whether this platform lets the daemon learn who
// is on the other end of the socket.
const PeerCredentials = true

// peerCred reads SO_PEERCRED: the uid, gid and pid of the process that
// connected, as the kernel recorded them at connect.
func peerCred(c *net.UnixConn) (uid, gid uint32, pid int32, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, 0, err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil {
		return 0, 0, 0, cerr
	}
	if err != nil {
		return 0, 0, 0, err
	}
	return cred.Uid, cred.Gid, cred.Pid, nil
}
