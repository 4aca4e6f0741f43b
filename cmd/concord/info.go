package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
)

func newIDCmd(g *globals) *cobra.Command {
	var card, addrs bool
	c := &cobra.Command{
		Use:   "id [--card | --addrs]",
		Short: "Show this member's identity, or print its signed member card",
		Long: `Show the member ID, peer ID, age recipient, name, country and addresses.
--card prints the signed member card to hand to a topic admin (it survives
email and copy-paste); --addrs prints one dialable address a line.`,
		Example: "  concord id --card > fra.card",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if card && addrs {
				return usageError{errors.New("--card and --addrs cannot be used together: --card prints the signed member card (which already holds the addresses), --addrs only the addresses, one a line; give one of them")}
			}
			id, err := g.identity(c.Context())
			if err != nil {
				return err
			}
			switch {
			case g.json:
				return printJSON(stdout, id)
			case card:
				fmt.Fprint(stdout, id.Card)
			case addrs:
				for _, a := range id.Addrs {
					fmt.Fprintf(stdout, "%s/p2p/%s\n", a, id.PeerID)
				}
			default:
				table(stdout, "FIELD\tVALUE", [][]any{
					{"member", id.MemberID}, {"name", id.Name}, {"country", id.Country},
					{"peer", id.PeerID}, {"recipient", abbreviate(id.Recipient)},
					{"addrs", strings.Join(id.Addrs, " ")},
				})
			}
			return nil
		},
	}
	c.Flags().BoolVar(&card, "card", false, "print the signed member card")
	c.Flags().BoolVar(&addrs, "addrs", false, "print dialable multiaddrs, one a line")
	return c
}

// abbreviate shortens a post-quantum recipient (about 2,000 characters).
func abbreviate(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:24] + "…" + s[len(s)-12:]
}

func newStatusCmd(g *globals) *cobra.Command {
	var wait time.Duration
	c := &cobra.Command{
		Use:   "status [--wait DURATION]",
		Short: "Show the daemon's status",
		Long: `Show the daemon's identity, addresses, version and uptime, and how many
peers are connected, topics joined and bulletins stored (see concord topic
list and concord list for those). With --wait, keep trying until the daemon
answers or the duration runs out (for scripts and service managers that
start the daemon and then use it).`,
		Example: `  concord status
  concord daemon & concord status --wait 30s`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			client, err := g.client()
			if err != nil {
				return err
			}
			st, err := statusWithWait(c.Context(), client, wait)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, st)
			}
			table(stdout, "FIELD\tVALUE", [][]any{
				{"member", st.MemberID}, {"name", st.Name}, {"country", st.Country},
				{"peer", st.PeerID}, {"addrs", strings.Join(st.Addrs, " ")},
				{"version", st.Version}, {"uptime", st.Uptime}, {"peers", st.Peers},
				{"topics", st.Topics}, {"bulletins", st.Bulletins},
				{"equivocations", len(st.Equivocations)},
			})
			printSync(st.Sync)
			if d := st.Disk; d != nil && d.Low {
				fmt.Fprintf(stdout, "\nWARNING: disk: %.1f MiB free at %s (warn below %d MiB)\n", float64(d.FreeBytes)/(1<<20), d.Path, d.WarnBytes>>20)
				if d.Full {
					fmt.Fprintf(stdout, "WARNING: disk full: nothing is stored below %d MiB free; free space or move the home\n", d.ReserveBytes>>20)
				}
			}
			if len(st.Equivocations) > 0 {
				fmt.Fprintf(stdout, "\nWARNING: %d equivocation(s): an author signed two different envelopes with one sequence number\n(a cloned or malicious node; the second envelope is kept as evidence, not shown):\n", len(st.Equivocations))
				rows := make([][]any, len(st.Equivocations))
				for i, e := range st.Equivocations {
					rows[i] = []any{e.Topic[:12], e.Author, e.Seq, e.Envelope[:16]}
				}
				table(stdout, "TOPIC\tAUTHOR\tSEQ\tEVIDENCE", rows)
			}
			return nil
		},
	}
	c.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the daemon to answer")
	return c
}

// statusWithWait asks for the status until the daemon answers or wait
// runs out.
func statusWithWait(ctx context.Context, c *api.Client, wait time.Duration) (api.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := c.Status(ctx)
		if err == nil || !errors.Is(err, api.ErrNoDaemon) || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func newPeersCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connected peers",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			peers, err := call(c.Context(), g, (*api.Client).Peers)
			if err != nil {
				return err
			}
			return printList(g, peers, "PEER\tMEMBER\tDIRECTION\tADDRS", func(p api.Peer) []any { return []any{p.PeerID, p.Member, p.Direction, strings.Join(p.Addrs, " ")} })
		},
	}
}

func newConnectCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "connect MULTIADDR",
		Short:   "Connect to a peer",
		Long:    "Dial a peer at a multiaddr that ends in /p2p/<peer-id> (see `concord id --addrs` on the peer).",
		Example: "  concord connect /ip4/192.0.2.10/tcp/7700/p2p/12D3KooW...",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			resp, err := call1(c.Context(), g, (*api.Client).Connect, args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, resp)
			}
			fmt.Fprintf(stdout, "connected to %s\n", resp.PeerID)
			return nil
		},
	}
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, protocol version and Go version",
		Long: `Print this binary's version, the protocol version of its wire formats and
the Go toolchain that built it. A release build shows its tag (stamped at link
time, or the module version of go install); a build from a checkout shows
dev with its commit, and "modified" when the checkout had uncommitted changes.
Nodes interoperate when their protocol versions are equal. Needs no daemon.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			b := node.Build()
			if g.json {
				return printJSON(stdout, b)
			}
			fmt.Fprintf(stdout, "concord   %s\nprotocol  %d\ngo        %s %s\n", b.Version, b.Protocol, b.Go, b.Platform)
			return nil
		},
	}
}

// identity asks the daemon, which knows the addresses it really listens
// on; with no daemon it builds the card from the home alone.
func (g *globals) identity(ctx context.Context) (api.Identity, error) {
	c, err := g.client()
	if err != nil {
		return api.Identity{}, err
	}
	id, err := c.Identity(ctx)
	if !errors.Is(err, api.ErrNoDaemon) {
		return id, err
	}
	h, herr := node.ResolveHome(g.home)
	if herr != nil {
		return id, herr
	}
	card, cerr := h.OfflineCard()
	if cerr != nil {
		return id, cerr
	}
	id = node.IdentityOf(card)
	if len(id.Addrs) == 0 {
		fmt.Fprintf(stderr, "warning: no address a partner could dial is known without the daemon (a listen port is chosen at start, "+
			"or no interface matches network.listen): start it (`concord daemon --home %s`) and ask again, or set network.announce in the config\n", shellQuote(string(h)))
	}
	return id, nil
}

// printSync shows, per topic, the version vector, gaps and last syncs.
func printSync(topics []api.TopicSync) {
	for _, ts := range topics {
		fmt.Fprintf(stdout, "\ntopic %s (%s)\n", ts.Name, ts.Topic[:12])
		authors := make([]string, 0, len(ts.VersionVector))
		for a := range ts.VersionVector {
			authors = append(authors, a)
		}
		for a := range ts.Gaps {
			if _, ok := ts.VersionVector[a]; !ok {
				authors = append(authors, a)
			}
		}
		slices.Sort(authors)
		rows := make([][]any, len(authors))
		for i, a := range authors {
			gap := "-"
			if h, ok := ts.Gaps[a]; ok {
				gap = fmt.Sprintf("missing %d..%d", ts.VersionVector[a]+1, h-1)
			}
			rows[i] = []any{a, ts.VersionVector[a], gap}
		}
		table(stdout, "  AUTHOR\tHELD UP TO SEQ\tGAPS", indent(rows))
		for _, p := range ts.LastSync {
			status := fmt.Sprintf("fetched %d", p.Fetched)
			if p.Error != "" {
				status = "error: " + p.Error
			}
			fmt.Fprintf(stdout, "  last sync with %s: %s, %s\n", short(p.Peer), p.At.Format("2006-01-02 15:04:05Z"), status)
		}
		for _, a := range slices.Sorted(maps.Keys(ts.OverBudget)) {
			fmt.Fprintf(stdout, "  WARNING: %d envelope(s) of %s refused: over its budget ([limits] in the config)\n", ts.OverBudget[a], a)
		}
	}
}

func indent(rows [][]any) [][]any {
	for _, r := range rows {
		r[0] = fmt.Sprint("  ", r[0])
	}
	return rows
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
