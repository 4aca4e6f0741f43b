package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
)

// client returns an API client for the selected home.
func (g *globals) client() (*api.Client, error) {
	h, err := node.ResolveHome(g.home)
	if err != nil {
		return nil, err
	}
	return api.NewClient(string(h), h.Socket()), nil
}

// call sends one request to the daemon.
func (g *globals) call(ctx context.Context, method, path string, in, out any) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	return c.Do(ctx, method, path, in, out)
}

// printJSON writes v indented, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
func table(w io.Writer, header string, rows [][]any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		for i, cell := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

var stdout io.Writer = os.Stdout

func nodeVersion() string { return node.Version() }
