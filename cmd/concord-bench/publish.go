package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/concordnet/concord/node/api"
)

// publishMany publishes n bulletins through m's API from workers
// goroutines, spread over topics, reporting progress every tenth.
func (b *bench) publishMany(ctx context.Context, m *member, topics []string, n, workers int) error {
	var next, done atomic.Int64
	body := textBody(payloadSize)
	start := time.Now()
	return parallel(workers, workers, func(int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			req := api.PublishRequest{Topic: topics[i%len(topics)], Draft: benchDraft(fmt.Sprintf("fill %d", i), body)}
			if err := m.api.Do(ctx, "POST", "/v1/publish", req, nil); err != nil {
				return fmt.Errorf("publishing bulletin %d: %w", i, err)
			}
			if d := int(done.Add(1)); n >= 1000 && d%(n/10) == 0 {
				b.progress("  %d published, %.0f/s so far", d, float64(d)/time.Since(start).Seconds())
			}
		}
	})
}

// acceptedEnvelopes reads how many envelopes a node has stored since it
// started from its Prometheus metrics: unlike GET /v1/status, which
// counts the store, it costs the node nothing while it catches up.
func acceptedEnvelopes(ctx context.Context, c *api.Client) (int, error) {
	body, err := c.Stream(ctx, "/metrics")
	if err != nil {
		return 0, err
	}
	defer body.Close()
	const metric = `concord_messages_accepted_total{kind="envelope"} `
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), metric); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, sc.Err() // no envelope accepted yet: the metric is absent
}
