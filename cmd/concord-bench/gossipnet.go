package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/nodetest"
)

// gossipNet is the baseline: plain go-libp2p-pubsub GossipSub with its
// default parameters on hosts built like Concord's (node/host.go: TCP and
// QUIC transports, Noise or TLS, yamux, no relay) listening on TCP
// loopback, connected all-to-all as Concord members connect to each
// other. No validator, no storage, no encryption beyond the transport's.
// With stores it is the store-and-forward floor (floor.go): each host
// counts a message delivered once it is durably in its own Badger.
type gossipNet struct {
	listen  string          // TCP loopback unless set (un: QUIC)
	extra   []libp2p.Option // added to each host's options (un: a bandwidth counter)
	hosts   []host.Host
	stores  []*floorStore // nil: raw GossipSub
	topics  []*pubsub.Topic
	payload []byte
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

const benchTopic = "/concord-bench/1"

func newGossipNet(ctx context.Context, n int, r *router, payloadSize int, stores []*floorStore) (*gossipNet, error) {
	return (&gossipNet{listen: tcpLoopback}).open(ctx, n, r, payloadSize, stores)
}

const tcpLoopback = "/ip4/127.0.0.1/tcp/0"

// open starts n hosts on g's listen address and connects them.
func (g *gossipNet) open(ctx context.Context, n int, r *router, payloadSize int, stores []*floorStore) (_ *gossipNet, err error) {
	ctx, g.cancel = context.WithCancel(ctx)
	g.hosts, g.stores, g.topics, g.payload = make([]host.Host, n), stores, make([]*pubsub.Topic, n), make([]byte, payloadSize)
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	rand.Read(g.payload)
	for i := range n {
		if err := g.start(ctx, i, r); err != nil {
			return g, err
		}
	}
	if err := g.connectAll(ctx); err != nil {
		return g, err
	}
	return g, g.waitMesh(ctx)
}

// start builds host i with the options of node.newHost and subscribes it.
func (g *gossipNet) start(ctx context.Context, i int, r *router) error {
	h, err := newBaseHost(g.listen, g.extra...)
	if err != nil {
		return err
	}
	g.hosts[i] = h
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		return err
	}
	if g.topics[i], err = ps.Join(benchTopic); err != nil {
		return err
	}
	sub, err := g.topics[i].Subscribe()
	if err != nil {
		return err
	}
	g.wg.Go(func() { receive(ctx, sub, g.deliver(i, r)) })
	return nil
}

// deliver returns what host i does with a message: report it at once, or
// once it is durably stored.
func (g *gossipNet) deliver(i int, r *router) func(*pubsub.Message, time.Time) {
	if g.stores == nil {
		return func(msg *pubsub.Message, at time.Time) { arriveData(r, i, msg.Data, at) }
	}
	s := g.stores[i]
	return func(msg *pubsub.Message, _ time.Time) {
		s.put([]byte(msg.ID), msg.Data, func(at time.Time) { arriveData(r, i, msg.Data, at) })
	}
}

// newBaseHost builds a host with a node's transports, listening on addr.
func newBaseHost(addr string, extra ...libp2p.Option) (host.Host, error) {
	opts := append(node.TransportOptions(), libp2p.ListenAddrStrings(addr))
	return libp2p.New(append(opts, extra...)...)
}

func receive(ctx context.Context, sub *pubsub.Subscription, deliver func(*pubsub.Message, time.Time)) {
	defer sub.Cancel()
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			return
		}
		deliver(msg, time.Now())
	}
}

// arriveData reports message data, whose first 8 bytes are its run and
// index, arrived at node.
func arriveData(r *router, node int, data []byte, at time.Time) {
	if len(data) >= 8 {
		r.arrive(node, int(binary.BigEndian.Uint32(data)), int(binary.BigEndian.Uint32(data[4:])), at)
	}
}

// connectAll dials every pair once, from four hosts at a time (more time
// out QUIC handshakes at 193 hosts on 2 cores). A dial
// that times out on a busy machine is tried again, twice.
func (g *gossipNet) connectAll(ctx context.Context) error {
	return nodetest.Parallel(len(g.hosts), 4, func(i int) error {
		for _, other := range g.hosts[i+1:] {
			info := peer.AddrInfo{ID: other.ID(), Addrs: other.Addrs()}
			var err error
			for range 3 {
				if err = g.hosts[i].Connect(ctx, info); err == nil {
					break
				}
			}
			if err != nil {
				return fmt.Errorf("connecting baseline hosts: %w", err)
			}
		}
		return nil
	})
}

func (g *gossipNet) waitMesh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second+time.Duration(len(g.hosts))*time.Second)
	defer cancel()
	for i, t := range g.topics {
		if err := nodetest.Poll(ctx, pollEvery, func() (bool, error) { return len(t.ListPeers()) == len(g.hosts)-1, nil }); err != nil {
			return fmt.Errorf("baseline host %d never saw all %d peers on the topic: %w", i, len(g.hosts)-1, err)
		}
	}
	return nil
}

func (g *gossipNet) size() int { return len(g.hosts) }

// publish sends the payload with the run and index in its first 8 bytes.
func (g *gossipNet) publish(ctx context.Context, node, run, idx int) error {
	data := make([]byte, len(g.payload))
	copy(data, g.payload)
	binary.BigEndian.PutUint32(data, uint32(run))
	binary.BigEndian.PutUint32(data[4:], uint32(idx))
	return g.topics[node].Publish(ctx, data)
}

func (g *gossipNet) close() {
	g.cancel()
	for _, h := range g.hosts {
		if h != nil {
			h.Close()
		}
	}
	g.wg.Wait()
}
