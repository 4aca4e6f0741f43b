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
	var (
		topic  string
		alerts bool
	)
	c := &cobra.Command{
		Use:   "watch [--topic T] [--alerts]",
		Short: "Print new bulletins as they arrive, until interrupted",
		Long: `Print each bulletin this node stores from now on, published here or received
from a partner: one table line each, or with --json one JSON object a line.
With --alerts it prints instead each alert this node raises (see concord
alerts): one line each, or with --json one JSON object a line.
Runs until Ctrl-C (exit status 0).`,
		Example: `  concord watch --topic "West Africa cocaine route"
  concord watch --json | jq -r .title
  concord watch --alerts --json`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if alerts {
				return g.watchAlertsOn(ctx, topic)
			}
			return g.watch(ctx, topic)
		},
	}
	c.Flags().StringVar(&topic, "topic", "", "only this topic (ID, unique prefix or name)")
	c.Flags().BoolVar(&alerts, "alerts", false, "print alerts (watchlist matches, correlations) instead of bulletins")
	return c
}

func (g *globals) watch(ctx context.Context, topicRef string) error {
	topic, err := g.optionalTopic(ctx, topicRef)
	if err != nil {
		return err
	}
	client, err := g.client()
	if err != nil {
		return err
	}
	stream, err := client.Watch(ctx, api.WatchQuery{})
	if err != nil {
		return err
	}
	defer stream.Close()
	// Said once the stream is open: from here on nothing is missed.
	if topic.ID != "" {
		fmt.Fprintf(stderr, "watching topic %q; press Ctrl-C to stop\n", topic.Name)
	} else {
		fmt.Fprintln(stderr, "watching all topics; press Ctrl-C to stop")
	}
	return g.printStream(ctx, newDirectory(client), stream, topic.ID)
}

// printStream prints each bulletin of the stream that is on topicID (any
// topic if empty) until the stream ends or ctx is cancelled.
func (g *globals) printStream(ctx context.Context, dir *directory, stream *api.Stream[api.Bulletin], topicID string) error {
	if !g.json {
		fmt.Fprint(stdout, watchLine(strings.Split(listHeader, "\t")))
	}
	return eachStreamed(ctx, stream, topicID, func(b api.Bulletin) error {
		if g.json {
			return json.NewEncoder(stdout).Encode(b)
		}
		cells := dir.row(ctx, b)
		line := make([]string, len(cells))
		for i, cell := range cells {
			line[i] = fmt.Sprint(cell)
		}
		fmt.Fprint(stdout, watchLine(line))
		return nil
	})
}

// eachStreamed calls fn with each bulletin of the watch stream that is on
// topicID (any topic if empty) until the stream ends, ctx is cancelled
// (then it returns nil) or fn fails.
func eachStreamed(ctx context.Context, stream *api.Stream[api.Bulletin], topicID string, fn func(api.Bulletin) error) error {
	return eachStreamedOf(ctx, stream, "bulletins", func(b api.Bulletin) error {
		if topicID != "" && b.Topic != topicID {
			return nil
		}
		return fn(b)
	})
}

// eachStreamedOf calls fn with each object of a newline-delimited JSON
// stream of what (bulletins, alerts) until the stream ends, ctx is
// cancelled (then it returns nil) or fn fails.
func eachStreamedOf[T any](ctx context.Context, stream *api.Stream[T], what string, fn func(T) error) error {
	for {
		v, err := stream.Next()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil // interrupted: the normal way to stop
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return errors.New("the daemon ended the stream (was it stopped?)")
			}
			return fmt.Errorf("reading the stream of %s: %w", what, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}

// watchAlertsOn streams alerts about bulletins of topicRef (any if empty).
func (g *globals) watchAlertsOn(ctx context.Context, topicRef string) error {
	topic, err := g.optionalTopic(ctx, topicRef)
	if err != nil {
		return err
	}
	return g.watchAlerts(ctx, topic.ID)
}

// optionalTopic resolves topicRef, or is the zero topic (any) if it is empty.
func (g *globals) optionalTopic(ctx context.Context, topicRef string) (api.Topic, error) {
	if topicRef == "" {
		return api.Topic{}, nil
	}
	return g.resolveTopic(ctx, topicRef)
}

// writeJSONLine writes v as one line of JSON, for streams.
func writeJSONLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

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

// resolveTopic asks the daemon for the topic ref names: its resolver is
// the one every other command's TOPIC goes through.
func (g *globals) resolveTopic(ctx context.Context, ref string) (api.Topic, error) {
	t, err := call1(ctx, g, (*api.Client).Topic, ref)
	if api.ClassOf(err) == api.NotFound && !strings.Contains(err.Error(), "topic") {
		return t, errors.New("the daemon cannot look up a topic: it runs an older concord; restart it with this version")
	}
	return t, err
}
