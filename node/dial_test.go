package node

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/crypto"
)

func testPeerID(t *testing.T) string {
	t.Helper()
	k, _, err := lcrypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func strs(addrs []ma.Multiaddr) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

// Which card addresses are dialed, by a public node, one on loopback and
// one on a private network.
func TestDialableAddrsFilter(t *testing.T) {
	self, other := testPeerID(t), testPeerID(t)
	publicOnly, onLoopback, onPrivate := addrScopes{}, addrScopes{loopback: true}, addrScopes{private: true}
	for _, tc := range []struct {
		addr                      string
		public, loopback, private bool   // kept by each node
		want                      string // when kept, if not addr
	}{
		{addr: "/ip4/203.0.113.7/tcp/7700", public: true, loopback: true, private: true},
		{addr: "/ip4/8.8.8.8/udp/7700/quic-v1", public: true, loopback: true, private: true},
		{addr: "/ip6/2001:db8::1/tcp/7700", public: true, loopback: true, private: true},
		{addr: "/dns4/concord.police.example/tcp/7700", public: true, loopback: true, private: true},
		{addr: "/dns/concord.police.example/udp/7700/quic-v1", public: true, loopback: true, private: true},
		{addr: "/ip4/1.2.3.4/tcp/7700/p2p/" + self, public: true, loopback: true, private: true, want: "/ip4/1.2.3.4/tcp/7700"},
		// Another peer's ID, other transports and shapes.
		{addr: "/ip4/1.2.3.4/tcp/7700/p2p/" + other},
		{addr: "/ip4/1.2.3.4/udp/7700/quic"},
		{addr: "/ip4/1.2.3.4/udp/7700"},
		{addr: "/ip4/1.2.3.4/tcp/7700/ws"},
		{addr: "/ip4/1.2.3.4/udp/7700/quic-v1/webtransport"},
		{addr: "/ip4/1.2.3.4/tcp/0"},
		{addr: "/ip4/1.2.3.4"},
		{addr: "/unix/tmp/concord.sock"},
		{addr: "/ip4/1.2.3.4/tcp/7700/p2p/" + other + "/p2p-circuit/p2p/" + self},
		{addr: "/p2p/" + self},
		{addr: "not a multiaddr"},
		// Never dialable, whatever the node's own scopes.
		{addr: "/ip4/0.0.0.0/tcp/7700"},
		{addr: "/ip6/::/tcp/7700"},
		{addr: "/ip4/0.1.2.3/tcp/7700"},
		{addr: "/ip4/224.0.0.1/tcp/7700"},
		{addr: "/ip6/ff02::1/udp/7700/quic-v1"},
		{addr: "/ip4/255.255.255.255/tcp/7700"},
		{addr: "/ip4/240.0.0.1/tcp/7700"},
		{addr: "/ip4/169.254.169.254/tcp/80"},
		{addr: "/ip6/fe80::1/tcp/7700"},
		{addr: "/ip6zone/eth0/ip6/fe80::1/tcp/7700"},
		// Loopback and private only from a node that is reachable there.
		{addr: "/ip4/127.0.0.1/tcp/7700", loopback: true},
		{addr: "/ip6/::1/udp/7700/quic-v1", loopback: true},
		{addr: "/dns/localhost/tcp/7700", loopback: true},
		{addr: "/ip4/10.1.2.3/tcp/7700", private: true},
		{addr: "/ip4/192.168.1.20/tcp/7700", private: true},
		{addr: "/ip4/100.64.0.1/tcp/7700", private: true},
		{addr: "/ip6/fd00::1/tcp/7700", private: true},
		{addr: "/ip6/::ffff:10.0.0.1/tcp/7700", private: true},
		{addr: "/ip6/64:ff9b::a00:1/tcp/7700", private: true},
	} {
		want := tc.addr
		if tc.want != "" {
			want = tc.want
		}
		for _, c := range []struct {
			name string
			own  addrScopes
			kept bool
		}{{"public", publicOnly, tc.public}, {"loopback", onLoopback, tc.loopback}, {"private", onPrivate, tc.private}} {
			got := strs(dialableAddrs(crypto.CardNode{Peer: self, Addrs: []string{tc.addr}}, c.own))
			if c.kept && !slices.Equal(got, []string{want}) || !c.kept && len(got) > 0 {
				t.Errorf("%s node, %s: dialed %v, want kept=%v", c.name, tc.addr, got, c.kept)
			}
		}
	}
}

// A hostile card dials at most maxDialNodes nodes of maxDialAddrs
// addresses each, skipping nodes with nothing dialable.
func TestMemberDialsAreBounded(t *testing.T) {
	card := &crypto.Card{}
	card.Nodes = append(card.Nodes, crypto.CardNode{Peer: testPeerID(t), Addrs: []string{"/ip4/10.0.0.1/tcp/1", "/unix/x"}})
	for range crypto.MaxCardNodes - 1 {
		nd := crypto.CardNode{Peer: testPeerID(t)}
		for i := range crypto.MaxNodeAddrs {
			nd.Addrs = append(nd.Addrs, fmt.Sprintf("/ip4/198.51.100.%d/tcp/7700", i+1))
		}
		card.Nodes = append(card.Nodes, nd)
	}
	got := memberDials(card, addrScopes{})
	if len(got) != maxDialNodes || maxDialNodes != 2 || maxDialAddrs != 4 {
		t.Fatalf("dialed %d nodes, want %d (limits %d nodes, %d addresses)", len(got), maxDialNodes, maxDialNodes, maxDialAddrs)
	}
	for i, info := range got {
		if info.ID.String() != card.Nodes[i+1].Peer {
			t.Errorf("node %d: dialed %s, want the card's node %d", i, info.ID, i+1)
		}
		if want := card.Nodes[i+1].Addrs[:maxDialAddrs]; !slices.Equal(strs(info.Addrs), want) {
			t.Errorf("node %d: dialed %v, want %v", i, strs(info.Addrs), want)
		}
	}
}

// A DNS name leads only where an IP address could: its resolved
// addresses are filtered like the card's.
func TestDialResolvesNamesIntoAllowedScopes(t *testing.T) {
	lookup := func(_ context.Context, network, host string) ([]netip.Addr, error) {
		switch host {
		case "rebind.example":
			return []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.0.2.1")}, nil
		case "many.example":
			var out []netip.Addr
			for i := range 10 {
				out = append(out, netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}))
			}
			return out, nil
		}
		return nil, fmt.Errorf("%s: no such host", host)
	}
	addrs := func(ss ...string) []ma.Multiaddr {
		var out []ma.Multiaddr
		for _, s := range ss {
			out = append(out, ma.StringCast(s))
		}
		return out
	}
	for _, tc := range []struct {
		own  addrScopes
		in   []ma.Multiaddr
		want []string
	}{
		{addrScopes{}, addrs("/dns4/rebind.example/tcp/7700", "/dns4/nowhere.example/tcp/7700", "/ip4/192.0.2.9/udp/7700/quic-v1"),
			[]string{"/ip4/192.0.2.1/tcp/7700", "/ip4/192.0.2.9/udp/7700/quic-v1"}},
		{addrScopes{private: true}, addrs("/dns4/rebind.example/tcp/7700"),
			[]string{"/ip4/10.0.0.5/tcp/7700", "/ip4/192.0.2.1/tcp/7700"}},
		{addrScopes{}, addrs("/dns/many.example/udp/1/quic-v1"),
			[]string{"/ip4/198.51.100.1/udp/1/quic-v1", "/ip4/198.51.100.2/udp/1/quic-v1", "/ip4/198.51.100.3/udp/1/quic-v1", "/ip4/198.51.100.4/udp/1/quic-v1"}},
	} {
		if got := strs(resolveAddrs(context.Background(), tc.in, tc.own, lookup)); !slices.Equal(got, tc.want) {
			t.Errorf("own %+v, %v: resolved to %v, want %v", tc.own, strs(tc.in), got, tc.want)
		}
	}
}

func TestOwnScopes(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		want  addrScopes
	}{
		{[]string{"/ip4/127.0.0.1/tcp/40001"}, addrScopes{loopback: true}},
		{[]string{"/ip4/203.0.113.7/tcp/7700", "/dns4/concord.police.example/tcp/7700"}, addrScopes{}},
		{[]string{"/ip4/127.0.0.1/tcp/7700", "/ip4/10.0.0.2/udp/7700/quic-v1", "/ip4/203.0.113.7/tcp/7700"}, addrScopes{loopback: true, private: true}},
		{[]string{"garbage", "/ip4/0.0.0.0/tcp/7700"}, addrScopes{}},
	} {
		if got := scopesOf(tc.addrs); got != tc.want {
			t.Errorf("scopesOf(%v) = %+v, want %+v", tc.addrs, got, tc.want)
		}
	}
}

// A failing peer waits 30 s, then twice as long after each failure, up to
// 30 min; a success or an inbound connection resets it.
func TestDialBackoffSchedule(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	b := &dialBackoff{now: func() time.Time { return now }}
	p := peer.ID("member-node")
	if !b.begin(p) {
		t.Fatal("first dial refused")
	}
	if b.begin(p) {
		t.Fatal("second dial allowed while the first is in flight")
	}
	b.finish(p, false, true)
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute} {
		start := now
		now = start.Add(wait - dialSlack - time.Millisecond)
		if b.begin(p) {
			t.Fatalf("after failure %d: dialed after %s, want a wait of %s", i+1, now.Sub(start), wait)
		}
		now = start.Add(wait - dialSlack)
		if !b.begin(p) {
			t.Fatalf("after failure %d: not dialed after %s", i+1, now.Sub(start))
		}
		b.finish(p, false, true)
	}

	// Our own failures do not count; a success resets.
	now = now.Add(30 * time.Minute)
	b.begin(p)
	b.finish(p, false, false)
	if b.begin(p) {
		t.Fatal("a failure not counted shortened the wait")
	}
	now = now.Add(30 * time.Minute)
	b.begin(p)
	b.finish(p, true, true)
	if !b.begin(p) {
		t.Fatal("not dialed again right after a success")
	}
	b.finish(p, false, true)
	if b.begin(p) {
		t.Fatal("one failure after a success: dialed again at once, want 30 s")
	}
	b.connected(p)
	if !b.begin(p) {
		t.Fatal("a peer connected to us still backs off")
	}
	b.finish(p, false, true)

	// Peers not tried for an hour are forgotten.
	now = now.Add(2*dialBackoffMax + time.Second)
	b.prune()
	if len(b.peers) != 0 {
		t.Fatalf("%d peers kept after pruning", len(b.peers))
	}
}
