package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/protocol"
)

// concordNet is a federation under load: publications go through
// POST /v1/publish, arrivals are seen on each member's /v1/watch stream,
// that is once stored durably and decrypted, as an analyst would see them.
type concordNet struct {
	fed    *nodetest.Federation
	body   string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newConcordNet(ctx context.Context, fed *nodetest.Federation, r *router, bodySize int) (*concordNet, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := &concordNet{fed: fed, body: textBody(bodySize), cancel: cancel}
	for i, m := range fed.Members {
		stream, err := m.Client().Watch(ctx, api.WatchQuery{})
		if err != nil {
			c.close()
			return nil, fmt.Errorf("watching member %d: %w", i, err)
		}
		c.wg.Go(func() { readWatch(stream, i, r) })
	}
	return c, nil
}

// readWatch decodes a watch stream until it ends, timing each bulletin as
// soon as its line is decoded.
func readWatch(stream *api.Stream[api.Bulletin], node int, r *router) {
	defer stream.Close()
	for {
		b, err := stream.Next()
		if err != nil {
			return
		}
		at := time.Now()
		var run, idx int
		if b.Content != nil {
			if _, err := fmt.Sscanf(b.Content.Title, "bench %d %d", &run, &idx); err == nil {
				r.arrive(node, run, idx, at)
			}
		}
	}
}

func (c *concordNet) size() int { return len(c.fed.Members) }

func (c *concordNet) publish(ctx context.Context, node, run, idx int) error {
	req := api.PublishRequest{Topic: c.fed.Topic.ID, Draft: benchDraft(fmt.Sprintf("bench %d %d", run, idx), c.body)}
	_, err := c.fed.Members[node].Client().Publish(ctx, req)
	return err
}

// close stops the watch streams; the federation is closed by its owner.
func (c *concordNet) close() {
	c.cancel()
	c.wg.Wait()
}

// benchDraft is a plausible bulletin whose body carries the payload.
func benchDraft(title, body string) protocol.BulletinDraft {
	return protocol.BulletinDraft{
		Title: title, Summary: "Benchmark bulletin.", Body: body, Language: "en", TLP: "AMBER",
		Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{{Type: "vessel", Value: "MV Example", Fields: map[string]string{"imo": "9999999"}}},
	}
}

// textBody is size bytes of Markdown-safe text: lines of letters, so that
// it passes body validation and JSON carries it byte for byte.
func textBody(size int) string {
	const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
	b := make([]byte, 0, size)
	for len(b) < size {
		b = append(b, line[:min(len(line), size-len(b))]...)
	}
	return string(b)
}
