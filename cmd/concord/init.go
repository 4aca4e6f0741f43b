package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node"
)

func newInitCmd(g *globals) *cobra.Command {
	var name, country string
	var listen, allow []string
	c := &cobra.Command{
		Use:   "init --name NAME --country ISO3 [--listen MULTIADDR ...]",
		Short: "Create a node home: keys, identity and config",
		Long: `Create a new node home with a fresh member signing key (Ed25519), an age
post-quantum encryption identity, a libp2p peer key, a store encryption key,
and config.toml with every default written out. Refuses a home that is
already initialized.`,
		Example: `  concord init --name "Police nationale" --country FRA
  concord --home /srv/concord init --name "NCA" --country GBR --listen /ip4/0.0.0.0/tcp/7700`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			h, err := node.ResolveHome(g.home)
			if err != nil {
				return err
			}
			// Country codes are upper case on cards; accept "fra" for FRA.
			cfg := node.DefaultConfig(name, strings.ToUpper(strings.TrimSpace(country)))
			if len(listen) > 0 {
				cfg.Network.Listen = listen
			}
			cfg.Network.Allow = append(cfg.Network.Allow, allow...)
			if name == "" || country == "" {
				return usageError{fmt.Errorf("init needs --name and --country (an ISO 3166-1 alpha-3 code such as FRA)")}
			}
			id, err := node.Init(h, cfg)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, map[string]string{"home": string(h), "member_id": id.MemberID(), "peer_id": id.PeerID().String()})
			}
			fmt.Fprintf(stdout, "initialized %s\nmember ID  %s\npeer ID    %s\nnext: start the node with `concord daemon --home %s`\n", h, id.MemberID(), id.PeerID(), shellQuote(string(h)))
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "display name of the agency")
	c.Flags().StringVar(&country, "country", "", "ISO 3166-1 alpha-3 country code, e.g. FRA")
	c.Flags().StringArrayVar(&listen, "listen", nil, "listen multiaddr (repeatable; default TCP and QUIC on port 7700, all interfaces)")
	c.Flags().StringArrayVar(&allow, "allow", nil, "peer ID admitted even without a shared topic (repeatable)")
	return c
}
