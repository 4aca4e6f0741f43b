package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/localapi"
	"github.com/concordnet/concord/node/store"
	cprotocol "github.com/concordnet/concord/protocol"
)

// Node is a running daemon.
type Node struct {
	home    Home
	cfg     Config
	id      *crypto.Identity
	log     *slog.Logger
	started time.Time
	// clockOffset shifts the wall clock (clock.go); zero but in fault
	// injection.
	clockOffset time.Duration
	// restored is set while the home holds the restore marker
	// (Home.Restored): see confirmOwnSeq.
	restored atomic.Bool

	lock   *os.File
	store  *store.Store
	host   host.Host
	ps     *pubsub.PubSub
	api    *http.Server
	access *localapi.Access // roles and the audit log of the local API (access.go)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	metrics     *metrics
	requests    *requestMetrics // requests.go
	guard       *guard
	budgets     *budgets
	topicsMu    sync.RWMutex
	topics      map[[32]byte]*topic
	pubsubNames map[string]bool // GossipSub topics of our topics
	allowed     map[peer.ID]bool
	dials       dialBackoff // spaces out dials to failing member nodes (dial.go)
	mesh        meshHealer  // member nodes GossipSub lost track of (meshheal.go)
	selfwatch   selfWatch   // another node with our identity (selfwatch.go)

	purgeMu sync.Mutex // one purge of former members' envelopes at a time (former.go)

	spawnMu   sync.Mutex
	stopping  bool
	closeOnce sync.Once
	closeErr  error

	// isolated cuts the node off the network, blocked off some peers, and
	// dropGossip loses received envelopes, deafSubs peers' subscription
	// announcements: tests of partitions and loss.
	isolated   atomic.Bool
	blocked    sync.Map // peer.ID → struct{}
	dropGossip func() bool
	deafSubs   atomic.Bool

	changedMu sync.Mutex
	changed   chan struct{} // closed and replaced whenever a bulletin is stored
}

// Start opens the home, takes its lock and starts the host, GossipSub, the
// store and the local API. Close undoes it all.
func Start(h Home, log *slog.Logger) (_ *Node, err error) {
	cfg, id, err := h.Load()
	if err != nil {
		return nil, err
	}
	n := &Node{home: h, cfg: cfg, id: id, log: log, started: time.Now(),
		metrics: newMetrics(), guard: newGuard(), budgets: newBudgets(cfg.Limits), topics: map[[32]byte]*topic{}, pubsubNames: map[string]bool{},
		allowed: allowedPeers(cfg), changed: make(chan struct{})}
	n.requests = newRequestMetrics(n.metrics.registry)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if n.clockOffset, err = clockOffset(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(h.Restored()); err == nil {
		n.restored.Store(true)
		log.Warn("restored from a backup: publications wait until a member's node confirms this node's last sequence numbers")
	}
	if n.clockOffset != 0 {
		log.Warn("wall clock shifted for fault injection", "env", ClockOffsetEnv, "offset", n.clockOffset)
	}
	if n.lock, err = lockHome(h); err != nil {
		return nil, err
	}
	if err = checkDiskAtStart(h, cfg.Disk); err != nil {
		return nil, err
	}
	if n.store, err = store.Open(h.DB(), id.StoreKey, log); err != nil {
		return nil, err
	}
	n.store.SetDiskReserve(cfg.Disk.reserveBytes())
	n.store.SetAuthorQuota(uint64(cfg.Limits.AuthorQuotaMiB) << 20)
	n.store.SetBodySource(n.recordBody) // Reindex reads bodies from the envelopes
	if err = n.openAccess(); err != nil {
		return nil, err
	}
	if n.host, err = newHost(id, cfg.Network.Listen, gater{n}); err != nil {
		return nil, err
	}
	if err = listen(n.host, cfg.Network.Listen, log); err != nil {
		return nil, err
	}
	if n.ps, err = newPubSub(n.ctx, n.host, log, n.guard.appScore, pubsub.WithSubscriptionFilter(subscriptionFilter{n}), pubsub.WithRawTracer(selfTracer{n})); err != nil {
		return nil, err
	}
	n.host.SetStreamHandler(protocol.ID(cprotocol.JoinProtocol), n.tracked(n.handleJoinStream))
	n.host.SetStreamHandler(protocol.ID(cprotocol.SyncProtocol), n.tracked(n.handleSyncStream))
	n.host.Network().Notify(connNotifee{n})
	if err = n.loadTopics(); err != nil {
		return nil, err
	}
	if err = n.serveMetrics(); err != nil {
		return nil, err
	}
	if err = n.serveAPI(); err != nil {
		return nil, err
	}
	n.dialBootstrap()
	n.spawn(n.memberLoop)
	n.spawn(n.meshLoop)
	n.spawn(n.syncLoop)
	n.spawn(n.retentionLoop)
	n.spawn(n.diskLoop)
	n.spawn(n.alertLoop) // watchlists and alerts follow the change feed (alerts.go)
	n.spawn(n.auditRetentionLoop)
	// Requests for information follow it too (requests.go).
	n.spawn(n.requestLoop)
	log.Info("daemon started", "home", string(h), "member", id.MemberID(), "peer", id.PeerID().String(), "addrs", n.Addrs())
	return n, nil
}

// Close stops the daemon: API first so no new work arrives, then the
// network, then the store, so every acknowledged write is flushed.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	var errs []error
	if n.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if n.api.Shutdown(ctx) != nil {
			n.api.Close() // requests still running past the grace: cut their connections
		}
		cancel()
		os.Remove(n.home.Socket())
	}
	n.stopMetrics()
	n.spawnMu.Lock()
	n.stopping = true
	n.spawnMu.Unlock()
	n.cancel()
	if n.host != nil {
		errs = append(errs, n.host.Close())
	}
	n.wg.Wait()
	if n.store != nil {
		errs = append(errs, n.store.Close())
	}
	if n.lock != nil {
		n.lock.Close()
	}
	return errors.Join(errs...)
}

// Addrs returns the addresses partners should dial: the configured
// announce addresses, else what the host listens on, each with /p2p/.
func (n *Node) Addrs() []string {
	var addrs []string
	if len(n.cfg.Network.Announce) > 0 {
		addrs = append(addrs, n.cfg.Network.Announce...)
	} else {
		for _, a := range n.host.Addrs() {
			addrs = append(addrs, a.String())
		}
	}
	return addrs
}

// Card returns this member's card with the node's current addresses.
func (n *Node) Card() (*crypto.Card, error) {
	return crypto.NewCard(n.id, n.cfg.Member.Name, n.cfg.Member.Country, n.Addrs(), time.Now())
}

// Connect dials a peer given as a multiaddr ending in /p2p/<peer-id>.
func (n *Node) Connect(ctx context.Context, addr string) (peer.ID, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return "", api.Errorf(api.Invalid, "%q is not a multiaddr: %v", addr, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return "", api.Errorf(api.Invalid, "%q must end in /p2p/<peer-id> so the peer can be authenticated", addr)
	}
	if info.ID == n.host.ID() {
		return "", api.Errorf(api.Invalid, "that address is this node itself")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := n.host.Connect(ctx, *info); err != nil {
		return "", fmt.Errorf("connecting to %s: %w", info.ID, err)
	}
	// A peer's gater decides only once the handshake is done, which the
	// dialer may already count as a connection: a ping tells.
	if res := <-ping.Ping(ctx, n.host, info.ID); res.Error != nil {
		return "", fmt.Errorf("connecting to %s: the peer closed the connection; its node admits only members of topics it holds, invitees and peers in its network.allow (%v)", info.ID, res.Error)
	}
	return info.ID, nil
}

func (n *Node) dialBootstrap() {
	for _, addr := range n.cfg.Network.Bootstrap {
		n.spawn(func() {
			if _, err := n.Connect(n.ctx, addr); err != nil {
				n.log.Warn("bootstrap peer unreachable", "addr", addr, "err", err)
			}
		})
	}
}

// serveAPI listens on the home's Unix socket, mode 0600 (0660 for
// [api] group), and learns each caller from the socket (access.go).
func (n *Node) serveAPI() error {
	sock := n.home.Socket()
	os.Remove(sock) // stale from a crash: we hold the lock, so it is ours
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("API socket %s: %w", sock, err)
	}
	if err := n.openSocket(sock); err != nil {
		ln.Close()
		return err
	}
	n.api = &http.Server{Handler: n.trackedHTTP(n.apiHandler()), ReadHeaderTimeout: 10 * time.Second, ConnContext: n.connContext}
	n.spawn(func() {
		if err := n.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("API server stopped", "err", err)
		}
	})
	return nil
}

// notify wakes everyone waiting for new bulletins (watch).
func (n *Node) notify() {
	n.changedMu.Lock()
	close(n.changed)
	n.changed = make(chan struct{})
	n.changedMu.Unlock()
}

// changes returns a channel closed at the next stored bulletin.
func (n *Node) changes() <-chan struct{} {
	n.changedMu.Lock()
	defer n.changedMu.Unlock()
	return n.changed
}

// MemberID returns this node's member ID.
func (n *Node) MemberID() string { return n.id.MemberID() }

// spawn runs fn in a goroutine that Close waits for; once Close has begun
// it runs nothing.
func (n *Node) spawn(fn func()) {
	if !n.enter() {
		return
	}
	go func() {
		defer n.exit()
		fn()
	}()
}

// enter registers work that uses the store (a goroutine, a stream, a
// message validation, an API request): Close closes the store only once
// every such work has called exit. It fails once the node is stopping;
// the caller must then not start the work.
func (n *Node) enter() bool {
	n.spawnMu.Lock()
	defer n.spawnMu.Unlock()
	if n.stopping {
		return false
	}
	n.wg.Add(1)
	return true
}

func (n *Node) exit() { n.wg.Done() }

// tracked wraps a stream handler: libp2p runs handlers on its own
// goroutines, which closing the host does not wait for.
func (n *Node) tracked(h network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		if !n.enter() {
			s.Reset()
			return
		}
		defer n.exit()
		h(s)
	}
}
