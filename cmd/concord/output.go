package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
)

// client returns an API client for the selected home; when no daemon
// answers, its error says why (diagnoseHome).
func (g *globals) client() (*api.Client, error) {
	h, err := node.ResolveHome(g.home)
	if err != nil {
		return nil, err
	}
	c := api.NewClient(string(h), h.Socket())
	c.NoDaemon = func() error { return diagnoseHome(h) }
	return c, nil
}

// call, call1 and call2 call a typed client method of the selected
// home's daemon, given as a method expression ((*api.Client).Peers), with
// none, one or two arguments after the context.
func call[T any](ctx context.Context, g *globals, m func(*api.Client, context.Context) (T, error)) (T, error) {
	c, err := g.client()
	if err != nil {
		return *new(T), err
	}
	return m(c, ctx)
}

func call1[A, T any](ctx context.Context, g *globals, m func(*api.Client, context.Context, A) (T, error), a A) (T, error) {
	return call(ctx, g, func(c *api.Client, ctx context.Context) (T, error) { return m(c, ctx, a) })
}

func call2[A, B, T any](ctx context.Context, g *globals, m func(*api.Client, context.Context, A, B) (T, error), a A, b B) (T, error) {
	return call(ctx, g, func(c *api.Client, ctx context.Context) (T, error) { return m(c, ctx, a, b) })
}

// printJSON writes v indented, for --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printList prints items as JSON (--json), else as a table of row(item)
// under header.
func printList[T any](g *globals, items []T, header string, row func(T) []any) error {
	if g.json {
		return printJSON(stdout, items)
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = row(it)
	}
	table(stdout, header, rows)
	return nil
}

// table writes aligned columns, under header unless it is empty, without
// the spaces tabwriter pads an empty last cell with.
func table(w io.Writer, header string, rows [][]any) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	if header != "" {
		fmt.Fprintln(tw, header)
	}
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
	for line := range bytes.Lines(buf.Bytes()) {
		fmt.Fprintf(w, "%s\n", bytes.TrimRight(line, " \n"))
	}
}

// The standard streams, as variables so that tests could swap them.
var (
	stdin  io.Reader = os.Stdin
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

// maxInputBytes bounds what a command reads from a file or stdin: no
// input a command takes (card, token, body, attachment) is near this big.
const maxInputBytes = 4 << 20

// readInput reads the file at path, or stdin when path is "-".
func readInput(path string) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", inputName(path), maxInputBytes)
	}
	return data, nil
}

// inputName names an input path in messages.
func inputName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// truncate shortens s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// shortID abbreviates a 64-character hex topic or envelope ID; any unique
// prefix of 4 or more characters is accepted back.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12]
}

// minuteUTC formats a time for tables.
func minuteUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
