package node

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
)

// DefaultListen is where a node listens unless told otherwise: TCP and
// QUIC on every interface.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/7700", "/ip4/0.0.0.0/udp/7700/quic-v1"}

// Config is a node's config.toml.
type Config struct {
	Member  MemberConfig  `toml:"member"`
	Network NetworkConfig `toml:"network"`
	Log     LogConfig     `toml:"log"`
}

// MemberConfig describes the agency that runs the node.
type MemberConfig struct {
	Name    string `toml:"name"`
	Country string `toml:"country"`
	Contact string `toml:"contact"`
}

// NetworkConfig says where the node listens and whom it dials.
type NetworkConfig struct {
	Listen    []string `toml:"listen"`
	Announce  []string `toml:"announce"`
	Bootstrap []string `toml:"bootstrap"`
	Allow     []string `toml:"allow"`
}

// LogConfig sets the daemon's structured logs.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// DefaultConfig returns a config with every default filled in.
func DefaultConfig(name, country string) Config {
	return Config{
		Member:  MemberConfig{Name: name, Country: country},
		Network: NetworkConfig{Listen: DefaultListen, Announce: []string{}, Bootstrap: []string{}, Allow: []string{}},
		Log:     LogConfig{Level: "info", Format: "text"},
	}
}

// LoadConfig reads and validates a config file. Unknown keys are errors:
// a typo must not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.String()
		}
		return c, fmt.Errorf("config %s: unknown key %s (see configs/concord.example.toml for the valid keys)", path, strings.Join(names, ", "))
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Validate checks every field and names the first bad one.
func (c Config) Validate() error {
	if err := crypto.CheckName(c.Member.Name); err != nil {
		return fmt.Errorf("member.name %w", err)
	}
	if err := crypto.CheckCountry(c.Member.Country); err != nil {
		return fmt.Errorf("member.country: %w", err)
	}
	if len(c.Network.Listen) == 0 {
		return errors.New("network.listen: at least one address is needed")
	}
	for _, list := range []struct {
		key   string
		addrs []string
	}{{"network.listen", c.Network.Listen}, {"network.announce", c.Network.Announce}} {
		for _, a := range list.addrs {
			if err := crypto.CheckMultiaddr(a); err != nil {
				return fmt.Errorf("%s: %w", list.key, err)
			}
		}
	}
	for _, b := range c.Network.Bootstrap {
		if _, err := peer.AddrInfoFromString(b); err != nil {
			return fmt.Errorf("network.bootstrap: %q is not a multiaddr ending in /p2p/<peer-id>: %v", b, err)
		}
	}
	for _, a := range c.Network.Allow {
		if _, err := peer.Decode(a); err != nil {
			return fmt.Errorf("network.allow: %q is not a libp2p peer ID: %v", a, err)
		}
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	return nil
}

// ParseLogLevel maps a level name to slog.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// configTemplate writes every key with its default and what it means.
var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{"list": tomlList}).Parse(
	`# Concord node configuration. Every key is shown with its value; edit and
# restart the daemon (concord daemon) for changes to take effect.

[member]
# Display name of the agency, shown to partners on its member card.
name = {{printf "%q" .Member.Name}}
# ISO 3166-1 alpha-3 code of the Member State (e.g. FRA, NGA, BRA).
country = {{printf "%q" .Member.Country}}
# Point of contact printed on every bulletin this node publishes (a duty
# desk's e-mail or phone). Empty: none.
contact = {{printf "%q" .Member.Contact}}

[network]
# libp2p multiaddrs to listen on: TCP and QUIC on every interface by default.
listen = {{list .Network.Listen}}
# Addresses written into the member card for partners to dial. Empty: the
# addresses the node actually listens on.
announce = {{list .Network.Announce}}
# Peers to dial at start, as /ip4/…/tcp/…/p2p/<peer-id>. They are always
# admitted by the connection gater.
bootstrap = {{list .Network.Bootstrap}}
# Peer IDs admitted even when they share no topic with this node. Inbound
# connections from anyone else who is not a topic member's node or a
# pending invitee are refused.
allow = {{list .Network.Allow}}

[log]
# debug, info, warn or error.
level = {{printf "%q" .Log.Level}}
# text (key=value lines) or json (one object a line).
format = {{printf "%q" .Log.Format}}
`))

func tomlList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Render returns the commented TOML text of c.
func (c Config) Render() []byte {
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, c); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// writeConfig writes c to path, refusing to overwrite.
func writeConfig(path string, c Config) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(c.Render()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
