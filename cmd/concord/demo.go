package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/protocol"
)

// demoState is one member state of the demo federation.
type demoState struct {
	name, country string
	home          node.Home
	node          *node.Node
	api           *api.Client
}

func newDemoCmd(g *globals) *cobra.Command {
	var keep bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a three-state federation on loopback, end to end",
		Long: `Start three nodes (France, Nigeria, Brazil) in temporary homes on loopback.
France creates a drug-trafficking topic and invites the two others, who join
with their tokens; each state publishes a bulletin (Brazil's restricted to
France); then every node's view is printed. Everything goes through the same
local API the CLI uses. The homes are removed at the end unless --keep.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			return runDemo(ctx, stdout, keep)
		},
	}
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary homes and print where they are")
	c.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up if the federation has not converged by then")
	return c
}

func runDemo(ctx context.Context, w io.Writer, keep bool) error {
	dir, err := os.MkdirTemp("", "concord-demo-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(w, "homes kept under %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	states := []*demoState{
		{name: "Office anti-stupéfiants", country: "FRA"},
		{name: "National Drug Law Enforcement Agency", country: "NGA"},
		{name: "Polícia Federal", country: "BRA"},
	}
	step(w, "starting three nodes on loopback")
	fed, err := nodetest.Start(ctx, len(states), func(_ context.Context, i int) (nodetest.Member, error) {
		return states[i], states[i].start(dir)
	})
	if err != nil {
		return err
	}
	defer fed.Close()
	for _, s := range states {
		fmt.Fprintf(w, "  %s  %-38s member %s\n", s.country, s.name, s.node.MemberID())
	}
	fra, nga, bra := states[0], states[1], states[2]
	topic, err := demoTopic(ctx, w, fra, []*demoState{nga, bra})
	if err != nil {
		return err
	}
	ids, err := demoPublish(ctx, w, topic, fra, nga, bra)
	if err != nil {
		return err
	}
	step(w, "waiting until every node holds every bulletin")
	for _, s := range states {
		if err := waitBulletins(ctx, s, len(ids)); err != nil {
			return err
		}
	}
	for _, s := range states {
		if err := printView(ctx, w, s); err != nil {
			return err
		}
	}
	step(w, "done: three states shared encrypted bulletins without a central hub")
	return nil
}

func step(w io.Writer, msg string) { fmt.Fprintf(w, "\n== %s\n", msg) }

func (s *demoState) start(dir string) error {
	s.home = node.Home(filepath.Join(dir, strings.ToLower(s.country)))
	cfg := node.DefaultConfig(s.name, s.country)
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	cfg.Member.Contact = "duty-desk@" + strings.ToLower(s.country) + ".example"
	if _, err := node.Init(s.home, cfg); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Start(s.home, quiet)
	if err != nil {
		return err
	}
	s.node = n
	s.api = api.NewClient(string(s.home), s.home.Socket())
	return nil
}

// Client and Close make a state a member of the harness's federation.
func (s *demoState) Client() *api.Client { return s.api }

func (s *demoState) Close() error { return s.node.Close() }

// demoTopic creates the topic at owner and has every guest join it.
func demoTopic(ctx context.Context, w io.Writer, owner *demoState, guests []*demoState) (string, error) {
	step(w, owner.country+" creates a drug-trafficking topic")
	t, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: "drug-trafficking", Name: "West Africa cocaine route"})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "  topic %s  %s\n", t.ID[:16], t.PubSub)
	all := []nodetest.Member{owner}
	for _, g := range guests {
		j, err := nodetest.Invite(ctx, owner, g, t.ID)
		if err != nil {
			return "", fmt.Errorf("%s: %w", g.country, err)
		}
		fmt.Fprintf(w, "  %s invites %s: token %s… (%d characters)\n", owner.country, g.country, j.Invite.Token[:28], len(j.Invite.Token))
		fmt.Fprintf(w, "  %s joined at epoch %d\n", g.country, j.Topic.Epoch)
		all = append(all, g)
	}
	step(w, "waiting for the GossipSub mesh between the three members")
	if err := nodetest.WaitMesh(ctx, all, t.ID); err != nil {
		return "", fmt.Errorf("a member never saw both partners on the topic: %w", err)
	}
	fmt.Fprintln(w, "  every member sees the two others")
	return t.ID, nil
}

func demoPublish(ctx context.Context, w io.Writer, topic string, fra, nga, bra *demoState) ([]string, error) {
	step(w, "each state publishes a bulletin")
	drafts := []struct {
		from  *demoState
		draft protocol.BulletinDraft
	}{
		{fra, demoDraft("Container of cocaine expected at Le Havre", "MSC Aurora", "vessel", "AMBER", nil)},
		{nga, demoDraft("Courier network through Lagos airport", "+234 803 555 0147", "phone", "GREEN", nil)},
		{bra, demoDraft("Santos port broker under investigation", "Porto Seguro Logística Ltda", "organization", "RED",
			[]string{fra.node.MemberID()})},
	}
	var ids []string
	for _, d := range drafts {
		resp, err := d.from.api.Publish(ctx, api.PublishRequest{Topic: topic, Draft: d.draft})
		if err != nil {
			return nil, fmt.Errorf("%s publishing: %w", d.from.country, err)
		}
		to := "all members"
		if len(d.draft.Audience) > 0 {
			to = "FRA only"
		}
		fmt.Fprintf(w, "  %s published %s  %q  (to %s)\n", d.from.country, resp.ID, d.draft.Title, to)
		ids = append(ids, resp.ID)
	}
	return ids, nil
}

func demoDraft(title, entity, entityType, tlp string, audience []string) protocol.BulletinDraft {
	return protocol.BulletinDraft{
		Title: title, Summary: "Demonstration bulletin: " + strings.ToLower(title) + ".",
		Body: "## Facts\n\nSynthetic data for the Concord demo.\n", Language: "en", TLP: tlp,
		Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{{Type: entityType, Value: entity}}, Audience: audience,
	}
}

func waitBulletins(ctx context.Context, s *demoState, n int) error {
	return nodetest.Poll(ctx, 50*time.Millisecond, func() (bool, error) {
		bs, err := s.api.List(ctx, api.ListQuery{})
		return err == nil && len(bs) == n, err
	})
}

func printView(ctx context.Context, w io.Writer, s *demoState) error {
	bs, err := s.api.List(ctx, api.ListQuery{})
	if err != nil {
		return err
	}
	step(w, fmt.Sprintf("what %s (%s) sees", s.country, s.name))
	rows := make([][]any, len(bs))
	for i, b := range bs {
		if b.Sealed {
			rows[i] = []any{b.ID[:12] + "…", "-", "-", "(restricted to another member)"}
			continue
		}
		rows[i] = []any{b.ID, b.Content.TLP, b.Content.Originator.Country, b.Content.Title}
	}
	table(w, "ID\tTLP\tFROM\tTITLE", rows)
	return nil
}
