package node

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/crypto"
)

// A member's card is written by that member. A hostile one could list
// crypto.MaxCardNodes nodes of crypto.MaxNodeAddrs addresses each, aimed
// at third parties or at its partners' internal networks, and every
// partner would dial them all on every log entry and every 30 s. So only
// a few well-formed, routable addresses of a few nodes are dialed, and a
// peer that fails is retried less and less often.
const (
	maxDialNodes   = 2                // nodes dialed per member card
	maxDialAddrs   = 4                // addresses dialed per node
	dialBackoffMin = 30 * time.Second // wait after a first failure
	dialBackoffMax = 30 * time.Minute // longest wait between attempts
	// dialSlack lets the 30 s member loop retry a peer whose wait ends a
	// moment after the tick, rather than a whole period later.
	dialSlack = 2 * time.Second
)

// addrScope is where an address leads.
type addrScope int

const (
	scopeNone     addrScope = iota // never dialed: unspecified, multicast, link-local, reserved
	scopePublic                    // the Internet
	scopePrivate                   // RFC 1918, carrier-grade NAT, IPv6 unique local
	scopeLoopback                  // this machine
)

// addrScopes are the non-public scopes this node is itself reachable in:
// a node dials partners' loopback or private addresses only if it
// advertises such an address (tests on one machine, a federation on a
// private network), never from a public deployment.
type addrScopes struct{ loopback, private bool }

func (s addrScopes) allows(sc addrScope) bool {
	switch sc {
	case scopePublic:
		return true
	case scopePrivate:
		return s.private
	case scopeLoopback:
		return s.loopback
	}
	return false
}

// scopesOf collects the scopes of a node's own advertised addresses.
func scopesOf(addrs []string) addrScopes {
	var s addrScopes
	for _, a := range addrs {
		m, err := ma.NewMultiaddr(a)
		if err != nil || len(m) == 0 {
			continue
		}
		switch hostScope(m[0]) {
		case scopeLoopback:
			s.loopback = true
		case scopePrivate:
			s.private = true
		}
	}
	return s
}

var (
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

// ipScope classifies an IP address.
func ipScope(ip netip.Addr) addrScope {
	ip = ip.Unmap()
	if nat64.Contains(ip) { // the IPv4 address behind the well-known NAT64 prefix
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast(), ip.IsLinkLocalUnicast():
		return scopeNone
	case ip.Is4() && (ip.As4()[0] == 0 || ip.As4()[0] >= 240): // "this network", reserved, broadcast
		return scopeNone
	case ip.IsLoopback():
		return scopeLoopback
	case ip.IsPrivate(), cgnat.Contains(ip):
		return scopePrivate
	}
	return scopePublic
}

// hostScope classifies an address's first component. A DNS name counts
// as public until resolved (resolveAddrs), but localhost is loopback.
func hostScope(c ma.Component) addrScope {
	switch c.Code() {
	case ma.P_IP4, ma.P_IP6:
		ip, err := netip.ParseAddr(c.Value())
		if err != nil {
			return scopeNone
		}
		return ipScope(ip)
	case ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		name := strings.ToLower(strings.TrimSuffix(c.Value(), "."))
		if name == "localhost" || strings.HasSuffix(name, ".localhost") {
			return scopeLoopback
		}
		return scopePublic
	}
	return scopeNone
}

// dialableAddrs returns the addresses of a card's node worth dialing, at
// most maxDialAddrs in card order: TCP or QUIC v1 over IPv4, IPv6 or a
// DNS name, with a port, optionally ending in the node's own /p2p/ (which
// is dropped), in a scope own allows. Anything else (circuits, Unix
// sockets, WebSockets, other peers' IDs) is skipped.
func dialableAddrs(nd crypto.CardNode, own addrScopes) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range nd.Addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		if m, ok := transportAddr(m, nd.Peer); ok && own.allows(hostScope(m[0])) {
			out = append(out, m)
			if len(out) == maxDialAddrs {
				break
			}
		}
	}
	return out
}

// transportAddr checks m's shape, host/tcp/PORT or host/udp/PORT/quic-v1
// with an optional trailing /p2p/<peerID>, and returns it without /p2p/.
func transportAddr(m ma.Multiaddr, peerID string) (ma.Multiaddr, bool) {
	if n := len(m); n > 0 && m[n-1].Code() == ma.P_P2P {
		if m[n-1].Value() != peerID {
			return nil, false
		}
		m = m[:n-1]
	}
	if len(m) < 2 || hostScope(m[0]) == scopeNone || m[1].Value() == "0" {
		return nil, false
	}
	switch {
	case len(m) == 2 && m[1].Code() == ma.P_TCP,
		len(m) == 3 && m[1].Code() == ma.P_UDP && m[2].Code() == ma.P_QUIC_V1:
		return m, true
	}
	return nil, false
}

// memberDials picks what to dial of a member's card: its first
// maxDialNodes nodes that have a dialable address.
func memberDials(card *crypto.Card, own addrScopes) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, nd := range card.Nodes {
		id, err := peer.Decode(nd.Peer)
		if err != nil {
			continue
		}
		if addrs := dialableAddrs(nd, own); len(addrs) > 0 {
			out = append(out, peer.AddrInfo{ID: id, Addrs: addrs})
			if len(out) == maxDialNodes {
				break
			}
		}
	}
	return out
}

// lookupFunc resolves a host name, as net.Resolver.LookupNetIP does.
type lookupFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// resolveAddrs replaces DNS addresses by the IP addresses they resolve
// to, keeping only those in a scope own allows, at most maxDialAddrs in
// all: a name must not lead where an IP address could not. Names that
// do not resolve are skipped.
func resolveAddrs(ctx context.Context, addrs []ma.Multiaddr, own addrScopes, lookup lookupFunc) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, m := range addrs {
		network := dnsNetwork(m[0].Code())
		if network == "" {
			out = append(out, m)
			continue
		}
		ips, _ := lookup(ctx, network, m[0].Value())
		for _, ip := range ips {
			if r, ok := withIP(m, ip); ok && own.allows(ipScope(ip)) {
				out = append(out, r)
			}
		}
	}
	if len(out) > maxDialAddrs {
		out = out[:maxDialAddrs]
	}
	return out
}

// dnsNetwork is the lookup network of a DNS component, "" for an IP.
func dnsNetwork(code int) string {
	switch code {
	case ma.P_DNS:
		return "ip"
	case ma.P_DNS4:
		return "ip4"
	case ma.P_DNS6:
		return "ip6"
	}
	return ""
}

// withIP replaces m's host component by ip.
func withIP(m ma.Multiaddr, ip netip.Addr) (ma.Multiaddr, bool) {
	ip = ip.Unmap()
	proto := "ip6"
	if ip.Is4() {
		proto = "ip4"
	}
	c, err := ma.NewComponent(proto, ip.String())
	if err != nil {
		return nil, false
	}
	return append(ma.Multiaddr{*c}, m[1:]...), true
}

// systemLookup resolves with the system resolver.
func systemLookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// dialBackoff spaces out dials to peers that fail: after k consecutive
// failures a peer waits dialBackoffMin·2^(k-1), at most dialBackoffMax,
// from the start of its last attempt. A success forgets the peer. One
// dial per peer runs at a time. The zero value is ready to use.
type dialBackoff struct {
	mu    sync.Mutex
	now   func() time.Time // nil: time.Now
	peers map[peer.ID]*dialState
}

type dialState struct {
	failures int
	started  time.Time // of the last attempt
	inFlight bool
}

func (b *dialBackoff) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

// backoffDelay is the wait after that many consecutive failures.
func backoffDelay(failures int) time.Duration {
	d := dialBackoffMin
	for i := 1; i < failures && d < dialBackoffMax; i++ {
		d *= 2
	}
	return min(d, dialBackoffMax)
}

// begin reports whether p may be dialed now and, if so, marks a dial in
// flight; finish must follow.
func (b *dialBackoff) begin(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	st := b.peers[p]
	if st == nil {
		if b.peers == nil {
			b.peers = map[peer.ID]*dialState{}
		}
		st = &dialState{}
		b.peers[p] = st
	}
	if st.inFlight || st.failures > 0 && now.Add(dialSlack).Before(st.started.Add(backoffDelay(st.failures))) {
		return false
	}
	st.inFlight, st.started = true, now
	return true
}

// finish records the outcome of the dial begin allowed. A dial that
// failed for reasons of our own (shutdown, our gater) is not counted.
func (b *dialBackoff) finish(p peer.ID, ok, counted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.peers[p]
	switch {
	case st == nil:
	case ok:
		delete(b.peers, p)
	default:
		st.inFlight = false
		if counted {
			st.failures++
		}
	}
}

// connected forgets p's failures: it is reachable after all (it may have
// dialed us).
func (b *dialBackoff) connected(p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.peers[p]; st != nil && !st.inFlight {
		delete(b.peers, p)
	}
}

// prune forgets peers not attempted for twice the longest wait: members
// removed or nodes gone from their cards.
func (b *dialBackoff) prune() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	for p, st := range b.peers {
		if !st.inFlight && now.Sub(st.started) > 2*dialBackoffMax {
			delete(b.peers, p)
		}
	}
}
