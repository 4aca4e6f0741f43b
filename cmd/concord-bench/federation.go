package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
)

// member is one in-process Concord daemon, driven through its local API
// exactly as the CLI drives it.
type member struct {
	home node.Home
	node *node.Node
	api  *api.Client
}

var countries = []string{"FRA", "NGA", "BRA", "DEU", "KEN", "IND", "JPN", "MEX", "ZAF", "CAN", "ITA", "EGY"}

// initMember creates a home listening on TCP loopback only, so that
// Concord and the baseline hosts use the same transport. Its metrics are
// served on loopback too, for the bench to follow a catch-up as
// Prometheus would.
func initMember(dir string, i int) (node.Home, error) {
	h := node.Home(filepath.Join(dir, fmt.Sprintf("n%d", i)))
	cfg := node.DefaultConfig(fmt.Sprintf("Agency %d", i), countries[i%len(countries)])
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Limits = memberLimits
	_, err := node.Init(h, cfg)
	return h, err
}

// liftedLimits replace the per-author budgets and quota by default: one
// author publishes tens of thousands of envelopes in seconds here
// (throughput, catch-up, ingest, memory), far above the budgets that
// protect a node from a hostile member. They are lifted, not removed, so
// each envelope still pays for the check. -budgets default keeps a
// node's defaults, to measure what they cap.
var (
	liftedLimits = node.LimitsConfig{AuthorRate: 1e6, AuthorBurst: 1e7, AuthorKiBPerSecond: 1 << 20, AuthorBurstMiB: 1 << 20, AuthorQuotaMiB: 1 << 30}
	memberLimits = liftedLimits
)

func startMember(h node.Home, log *slog.Logger) (*member, error) {
	n, err := node.Start(h, log)
	if err != nil {
		return nil, err
	}
	return &member{home: h, node: n, api: api.NewClient(string(h), h.Socket())}, nil
}

func newMember(dir string, i int, log *slog.Logger) (*member, error) {
	h, err := initMember(dir, i)
	if err != nil {
		return nil, err
	}
	return startMember(h, log)
}

// Client and Close make a member one of a nodetest federation.
func (m *member) Client() *api.Client { return m.api }

func (m *member) Close() error { return m.node.Close() }

// startFederation starts n members in dir, creates a topic at the first,
// has every other member join it by invitation (as in `concord demo`) and
// waits until each sees all others as GossipSub peers on the topic.
func startFederation(ctx context.Context, dir string, n int, log *slog.Logger) (_ *nodetest.Federation, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := nodetest.Start(ctx, n, func(_ context.Context, i int) (nodetest.Member, error) {
		return newMember(dir, i, log)
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if _, err = f.CreateTopic(ctx, 0, "drug-trafficking", "Benchmark topic"); err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, 60*time.Second+time.Duration(n)*time.Second)
	defer cancel()
	if err = f.WaitMesh(wait); err != nil {
		return nil, err
	}
	return f, nil
}

func createTopic(ctx context.Context, owner *member, name string) (string, error) {
	t, err := owner.api.CreateTopic(ctx, api.CreateTopicRequest{Category: "drug-trafficking", Name: name})
	return t.ID, err
}
