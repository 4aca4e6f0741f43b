package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/concordnet/concord/crypto"
)

// Home is a node's directory. It holds:
//
//	config.toml   the configuration (0600)
//	keys/         member, age, peer and store keys (0700, files 0600)
//	db/           the Badger database
//	daemon.lock   held by the running daemon
//	concord.sock  the local API socket (0600, 0660 for [api] group) while the daemon runs
//	audit.head    the audit chain's head, index and hash (0600; access.go)
type Home string

// Paths inside a home.
func (h Home) Config() string { return filepath.Join(string(h), "config.toml") }
func (h Home) Keys() string   { return filepath.Join(string(h), "keys") }
func (h Home) DB() string     { return filepath.Join(string(h), "db") }
func (h Home) Lock() string   { return filepath.Join(string(h), "daemon.lock") }
func (h Home) Socket() string { return filepath.Join(string(h), "concord.sock") }

// Restored is the marker a restore leaves: until another member's node
// confirms this node's last sequence number on each topic, the node
// publishes nothing, since its backup may predate envelopes it signed
// (see Node.confirmOwnSeq).
func (h Home) Restored() string { return filepath.Join(string(h), "restored") }

// ResolveHome picks the home: the flag, else $CONCORD_HOME, else ~/.concord.
func ResolveHome(flag string) (Home, error) {
	dir := flag
	if dir == "" {
		dir = os.Getenv("CONCORD_HOME")
	}
	if dir == "" {
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --home given, $CONCORD_HOME unset, and no user home: %w", err)
		}
		dir = filepath.Join(userHome, ".concord")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return Home(abs), nil
}

// ErrNotInitialized reports a home without a config.
var ErrNotInitialized = errors.New("not initialized")

// Init creates a new home with fresh keys and a config. It refuses a home
// that already holds a config or keys, and changes nothing then.
func Init(h Home, cfg Config) (*crypto.Identity, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, p := range []string{h.Config(), h.Keys()} {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("%s is already initialized (%s exists); use another --home or remove it first", h, p)
		}
	}
	if err := os.MkdirAll(string(h), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(string(h), 0o700); err != nil {
		return nil, err
	}
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return nil, err
	}
	if err := id.Save(h.Keys()); err != nil {
		return nil, err
	}
	if err := writeConfig(h.Config(), cfg); err != nil {
		return nil, err
	}
	return id, nil
}

// Load reads a home's config and keys.
func (h Home) Load() (Config, *crypto.Identity, error) {
	if _, err := os.Stat(h.Config()); errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, fmt.Errorf("%s is %w: run `concord init --name NAME --country ISO3` first", h, ErrNotInitialized)
	}
	cfg, err := LoadConfig(h.Config())
	if err != nil {
		return cfg, nil, err
	}
	id, err := crypto.LoadIdentity(h.Keys())
	return cfg, id, err
}

// OfflineCard builds the member card from the home alone, for when no
// daemon runs: its addresses are the configured announce addresses, else
// the listen addresses a partner could dial (see dialable), possibly none.
func (h Home) OfflineCard() (*crypto.Card, error) {
	cfg, id, err := h.Load()
	if err != nil {
		return nil, err
	}
	addrs := cfg.Network.Announce
	if len(addrs) == 0 {
		if addrs, err = dialable(cfg.Network.Listen); err != nil {
			return nil, err
		}
	}
	return crypto.NewCard(id, cfg.Member.Name, cfg.Member.Country, addrs, time.Now())
}

// dialable turns listen addresses into addresses a partner could dial, as
// the daemon's host does: an unspecified IP (0.0.0.0, ::) becomes each of
// this machine's interface addresses but link-local ones; a port 0, chosen
// only when the daemon starts, cannot be known and is left out. At most
// crypto.MaxNodeAddrs are returned.
func dialable(listen []string) ([]string, error) {
	ifaces, err := manet.InterfaceMultiaddrs()
	if err != nil {
		return nil, fmt.Errorf("listing this machine's network interfaces: %w", err)
	}
	ifaces = slices.DeleteFunc(ifaces, manet.IsIP6LinkLocal)
	var out []string
	for _, s := range listen {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("network.listen: %q is not a valid multiaddr: %v", s, err)
		}
		tcp, _ := m.ValueForProtocol(ma.P_TCP)
		udp, _ := m.ValueForProtocol(ma.P_UDP)
		if tcp == "0" || udp == "0" {
			continue
		}
		resolved, err := manet.ResolveUnspecifiedAddress(m, ifaces)
		if err != nil {
			return nil, fmt.Errorf("network.listen: resolving %s: %w", s, err)
		}
		for _, r := range resolved {
			out = append(out, r.String())
		}
	}
	return out[:min(len(out), crypto.MaxNodeAddrs)], nil
}
