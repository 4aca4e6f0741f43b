package node

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
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
	Limits  LimitsConfig  `toml:"limits"`
	Disk    DiskConfig    `toml:"disk"`
	Metrics MetricsConfig `toml:"metrics"`
	Search  SearchConfig  `toml:"search"`
	Alerts  AlertsConfig  `toml:"alerts"`
	API     APIConfig     `toml:"api"`
	Audit   AuditConfig   `toml:"audit"`
}

// MetricsConfig sets the optional Prometheus listener. The API socket
// serves /metrics whatever it says.
type MetricsConfig struct {
	// Listen is a host:port for plain HTTP serving only /metrics; "" is off.
	Listen string `toml:"listen"`
}

// LimitsConfig bounds what one author may make this node store on one
// topic (see budgets): envelopes and bytes as token buckets, and a quota.
type LimitsConfig struct {
	AuthorRate         float64 `toml:"author_rate"`
	AuthorBurst        int     `toml:"author_burst"`
	AuthorKiBPerSecond int     `toml:"author_kib_per_second"`
	AuthorBurstMiB     int     `toml:"author_burst_mib"`
	AuthorQuotaMiB     int     `toml:"author_quota_mib"`
}

// DefaultLimits are sized for people publishing, with room for bulk
// imports: 1,000 envelopes or 256 MiB at once, then one envelope a second
// and 32 KiB a second (2.6 GiB a day), and 4 GiB held per author and topic.
func DefaultLimits() LimitsConfig {
	return LimitsConfig{AuthorRate: 1, AuthorBurst: 1000, AuthorKiBPerSecond: 32, AuthorBurstMiB: 256, AuthorQuotaMiB: 4096}
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
		Limits:  DefaultLimits(),
		Disk:    DefaultDisk(),
		Search:  DefaultSearch(),
	}
}

// LoadConfig reads and validates a config file. Unknown keys are errors:
// a typo must not silently fall back to a default.
func LoadConfig(path string) (Config, error) {
	c := Config{Limits: DefaultLimits(), Disk: DefaultDisk(), Search: DefaultSearch()} // a config written before these sections existed
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
	if err := c.Metrics.validate(); err != nil {
		return err
	}
	if err := c.Disk.validate(); err != nil {
		return err
	}
	if err := c.Search.validate(c.Member.Country); err != nil {
		return err
	}
	if err := c.Alerts.validate(); err != nil {
		return err
	}
	if err := c.API.validate(); err != nil {
		return err
	}
	if err := c.Audit.validate(); err != nil {
		return err
	}
	return c.Limits.validate()
}

// hostName is a DNS name such as localhost or metrics.example.org.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// validate wants an explicit host: listening on every interface must be
// a choice (0.0.0.0:PORT), as the listener has no authentication.
func (m MetricsConfig) validate() error {
	if m.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(m.Listen)
	if err != nil {
		return fmt.Errorf("metrics.listen: %q is not host:port, e.g. \"127.0.0.1:9464\" (\"\" turns the listener off)", m.Listen)
	}
	if host == "" {
		return fmt.Errorf("metrics.listen: %q has no host; give 127.0.0.1:%s for loopback, or 0.0.0.0:%s for every interface behind a firewall", m.Listen, port, port)
	}
	if net.ParseIP(host) == nil && !hostName.MatchString(host) {
		return fmt.Errorf("metrics.listen: host %q in %q is neither an IP address nor a host name", host, m.Listen)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("metrics.listen: port %q in %q is not a number from 0 to 65535", port, m.Listen)
	}
	return nil
}

func (l LimitsConfig) validate() error {
	switch {
	case l.AuthorRate <= 0:
		return fmt.Errorf("limits.author_rate: %v must be above 0 (envelopes a second)", l.AuthorRate)
	case l.AuthorBurst < 1:
		return fmt.Errorf("limits.author_burst: %d must be at least 1", l.AuthorBurst)
	case l.AuthorKiBPerSecond < 1:
		return fmt.Errorf("limits.author_kib_per_second: %d must be at least 1", l.AuthorKiBPerSecond)
	case l.AuthorBurstMiB < 1:
		return fmt.Errorf("limits.author_burst_mib: %d must be at least 1 (an envelope may be up to 1 MiB)", l.AuthorBurstMiB)
	case l.AuthorQuotaMiB < 1:
		return fmt.Errorf("limits.author_quota_mib: %d must be at least 1", l.AuthorQuotaMiB)
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

[disk]
# Free space kept on the filesystem of the home's db/. Below reserve_mib
# MiB the node stores nothing: publishing answers "disk full", received
# bulletins wait for sync, reads go on, and writing resumes by itself once
# space is freed. The default covers what the database may still write
# after its last check (a write group, memtable flushes, compactions). Below
# warn_mib MiB the log and concord status warn.
reserve_mib = {{.Disk.ReserveMiB}}
warn_mib = {{.Disk.WarnMiB}}

[limits]
# What one member may make this node store on one topic, on gossip and
# sync alike: a burst of author_burst envelopes and author_burst_mib MiB,
# refilled at author_rate envelopes and author_kib_per_second KiB a second,
# and at most author_quota_mib MiB held. Envelopes beyond are refused and
# counted (concord_messages_rejected_total{reason="budget"}, concord status).
author_rate = {{printf "%.2f" .Limits.AuthorRate}}
author_burst = {{.Limits.AuthorBurst}}
author_kib_per_second = {{.Limits.AuthorKiBPerSecond}}
author_burst_mib = {{.Limits.AuthorBurstMiB}}
author_quota_mib = {{.Limits.AuthorQuotaMiB}}

[log]
# debug, info, warn or error.
level = {{printf "%q" .Log.Level}}
# text (key=value lines) or json (one object a line).
format = {{printf "%q" .Log.Format}}

[metrics]
# host:port of a plain-HTTP listener serving only /metrics (Prometheus text)
# for a scraper, e.g. "127.0.0.1:9464". Empty: off (the API socket serves
# /metrics anyway). It has no authentication: keep it on loopback, or
# behind the host firewall (see docs/operations.md, Monitoring).
listen = {{printf "%q" .Metrics.Listen}}

[search]
# An entity value held by more than common_threshold bulletins (a country's
# switchboard, a port's name) is too frequent to mean anything: concord
# related and alerts report how many bulletins hold it instead of listing
# them.
common_threshold = {{.Search.CommonThreshold}}
# TYPE:VALUE terms that related and alerts leave out: known noise, such as
# an agency's own hotline, e.g. ["phone:+33 1 40 97 20 00"]. A phone number
# without + is read as one of member.country.
exclude = {{list .Search.Exclude}}

[alerts]
# Where alerts (watchlist matches and entities shared with other
# originators' bulletins, see concord watchlist and concord alerts) are
# handed to the agency's own systems, one JSON object each. exec: a command
# and its arguments, run without a shell, with the alert on its stdin (at
# most 4 at once, each killed after 10 s; failures are logged). file: an
# absolute path, appended one JSON line an alert (created mode 0600).
# Empty: none; alerts are kept by the node either way.
exec = {{printf "%q" .Alerts.Exec}}
file = {{printf "%q" .Alerts.File}}

[api]
# OS group whose members may connect to the local API socket: the socket
# becomes group-owned, mode 0660, and the home group-owned, mode 0710 (to
# pass through to the socket, not to list or read it). The daemon's user
# must belong to the group. Empty: the socket is the daemon's user's
# alone (0600). Who may do what is [api.roles]; see docs/operations.md,
# Several analysts.
group = {{printf "%q" .API.Group}}

[api.roles]
# Roles by OS user name or "group:NAME", identified by the socket's peer
# credentials: reader (list, show, search, watch, alerts), analyst (also
# publish, revise, revoke, import, watchlists), admin (everything: topics,
# invitations, join, backup), auditor (the audit log, status and id).
# The daemon's own user and root are always admin; anyone else without a
# role is refused everything. Read at start: restart the daemon to apply
# changes. For example:
#   admin = ["alice"]
#   analyst = ["bob", "group:analysts"]
#   reader = ["group:concord"]
#   auditor = ["carol"]
{{range $role, $members := .API.Roles}}{{$role}} = {{list $members}}
{{end}}
[audit]
# Days the audit log (concord audit) keeps an entry; 0 keeps every entry.
# Pruning keeps the hash of the last dropped entry, so concord audit
# verify still checks the chain from there.
retention_days = {{.Audit.RetentionDays}}
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
