package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
)

func newWatchCmd(g *globals) *cobra.Command {
	var topic string
	c := &cobra.Command{
		Use:   "watch [--topic T]",
		Short: "Print new bulletins as they arrive, until interrupted",
		Long: `Print each bulletin this node stores from now on, published here or received
from a partner: one table line each, or with --json one JSON object a line.
Runs until Ctrl-C (exit status 0).`,
		Example: `  concord watch --topic "West Africa cocaine route"
  concord watch --json | jq -r .title`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return g.watch(ctx, topic)
		},
	}
	c.Flags().StringVar(&topic, "topic", "", "only this topic (ID, unique prefix or name)")
	return c
}

func (g *globals) watch(ctx context.Context, topicRef string) error {
	var topic api.Topic
	if topicRef != "" {
		var err error
		if topic, err = g.resolveTopic(ctx, topicRef); err != nil {
			return err
		}
	}
	client, err := g.client()
	if err != nil {
		return err
	}
	body, err := client.Stream(ctx, "/v1/watch")
	if err != nil {
		return err
	}
	defer body.Close()
	// Said once the stream is open: from here on nothing is missed.
	if topic.ID != "" {
		fmt.Fprintf(stderr, "watching topic %q; press Ctrl-C to stop\n", topic.Name)
	} else {
		fmt.Fprintln(stderr, "watching all topics; press Ctrl-C to stop")
	}
	return g.printStream(ctx, body, topic.ID)
}

// printStream prints each bulletin of the stream that is on topicID (any
// topic if empty) until the stream ends or ctx is cancelled.
func (g *globals) printStream(ctx context.Context, body io.Reader, topicID string) error {
	dir := newDirectory(g)
	if !g.json {
		fmt.Fprint(stdout, watchLine(strings.Split(listHeader, "\t")))
	}
	dec := json.NewDecoder(body)
	for {
		var b api.Bulletin
		if err := dec.Decode(&b); err != nil {
			switch {
			case ctx.Err() != nil:
				return nil // interrupted: the normal way to stop
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return errors.New("the daemon ended the stream (was it stopped?)")
			}
			return fmt.Errorf("reading the stream of bulletins: %w", err)
		}
		if topicID != "" && b.Topic != topicID {
			continue
		}
		if g.json {
			if err := json.NewEncoder(stdout).Encode(b); err != nil {
				return err
			}
			continue
		}
		cells := dir.row(ctx, b)
		line := make([]string, len(cells))
		for i, cell := range cells {
			line[i] = fmt.Sprint(cell)
		}
		fmt.Fprint(stdout, watchLine(line))
	}
}

// watchLine lays out one line in fixed columns: a stream cannot be
// aligned after the fact as list's table is.
func watchLine(cells []string) string {
	widths := []int{26, 3, 16, 26, 12, 30}
	var b strings.Builder
	for i, cell := range cells {
		if i < len(widths) {
			cell = truncate(cell, widths[i])
			// Pad by characters, not bytes: names are rarely ASCII only.
			b.WriteString(cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
		} else {
			b.WriteString(cell)
		}
	}
	return strings.TrimRight(b.String(), " ") + "\n"
}

// resolveTopic finds one of this node's topics by ID, unique ID prefix (4
// characters or more) or exact name, as the daemon does for TOPIC.
func (g *globals) resolveTopic(ctx context.Context, ref string) (api.Topic, error) {
	var topics []api.Topic
	if err := g.call(ctx, "GET", "/v1/topics", nil, &topics); err != nil {
		return api.Topic{}, err
	}
	var matches []api.Topic
	for _, t := range topics {
		if t.ID == ref {
			return t, nil
		}
		if t.Name == ref || (len(ref) >= 4 && strings.HasPrefix(t.ID, strings.ToLower(ref))) {
			matches = append(matches, t)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return api.Topic{}, fmt.Errorf("no such topic %q: give a topic ID, a unique ID prefix or a topic name (see `concord topic list`)", ref)
	}
	return api.Topic{}, fmt.Errorf("topic %q is ambiguous: it matches %d topics; give more of the ID", ref, len(matches))
}
