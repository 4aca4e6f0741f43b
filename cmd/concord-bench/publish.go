package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// publishMany publishes n bulletins through m's API from workers
// goroutines, spread over topics, reporting progress every tenth.
func (b *bench) publishMany(ctx context.Context, m *member, topics []string, n, workers int) error {
	var next, done atomic.Int64
	body := textBody(payloadSize)
	start := time.Now()
	return nodetest.Parallel(workers, workers, func(int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			req := api.PublishRequest{Topic: topics[i%len(topics)], Draft: benchDraft(fmt.Sprintf("fill %d", i), body)}
			if _, err := m.api.Publish(ctx, req); err != nil {
				return fmt.Errorf("publishing bulletin %d: %w", i, err)
			}
			if d := int(done.Add(1)); n >= 1000 && d%(n/10) == 0 {
				b.progress("  %d published, %.0f/s so far", d, float64(d)/time.Since(start).Seconds())
			}
		}
	})
}

// acceptedEnvelopes reads how many envelopes a node has stored since it
// started from the Prometheus metrics it serves on addr ([metrics]
// listen): unlike GET /v1/status, which counts the store, it costs the
// node nothing while it catches up.
func acceptedEnvelopes(ctx context.Context, addr string) (int, error) {
	if addr == "" {
		return 0, errors.New("the node serves no metrics: set [metrics] listen")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: %s", resp.Status)
	}
	const metric = `concord_messages_accepted_total{kind="envelope"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), metric); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, sc.Err() // no envelope accepted yet: the metric is absent
}
