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
// Concord and the baseline hosts use the same transport.
func initMember(dir string, i int) (node.Home, error) {
	h := node.Home(filepath.Join(dir, fmt.Sprintf("n%d", i)))
	cfg := node.DefaultConfig(fmt.Sprintf("Agency %d", i), countries[i%len(countries)])
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
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

// federation is n members of one topic owned by the first.
type federation struct {
	members []*member
	topic   string
}

// startFederation starts n members in dir, creates a topic at the first,
// has every other member join it by invitation (as in `concord demo`) and
// waits until each sees all others as GossipSub peers on the topic.
func startFederation(ctx context.Context, dir string, n int, log *slog.Logger) (_ *federation, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := &federation{members: make([]*member, n)}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	err = parallel(n, 4, func(i int) error {
		var err error
		f.members[i], err = newMember(dir, i, log)
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.topic, err = createTopic(ctx, f.members[0], "Benchmark topic"); err != nil {
		return nil, err
	}
	for _, m := range f.members[1:] {
		if err = invite(ctx, f.members[0], m, f.topic); err != nil {
			return nil, err
		}
	}
	if err = f.waitMesh(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

func createTopic(ctx context.Context, owner *member, name string) (string, error) {
	var t api.Topic
	err := owner.api.Do(ctx, "POST", "/v1/topics", api.CreateTopicRequest{Category: "drug-trafficking", Name: name}, &t)
	return t.ID, err
}

// invite has owner invite guest's card to topic and guest join with the
// token, through their APIs.
func invite(ctx context.Context, owner, guest *member, topic string) error {
	var id api.Identity
	if err := guest.api.Do(ctx, "GET", "/v1/id", nil, &id); err != nil {
		return err
	}
	var inv api.InviteResponse
	if err := owner.api.Do(ctx, "POST", "/v1/topics/"+topic+"/invite", api.InviteRequest{Card: id.Card}, &inv); err != nil {
		return fmt.Errorf("inviting: %w", err)
	}
	var joined api.Topic
	if err := guest.api.Do(ctx, "POST", "/v1/join", api.JoinRequest{Token: inv.Token}, &joined); err != nil {
		return fmt.Errorf("joining: %w", err)
	}
	return nil
}

// waitMesh waits until every member holds the whole membership and has
// every other member as a GossipSub peer on the topic.
func (f *federation) waitMesh(ctx context.Context) error {
	want := len(f.members)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second+time.Duration(want)*time.Second)
	defer cancel()
	for i, m := range f.members {
		err := poll(ctx, func() bool {
			var ts []api.Topic
			err := m.api.Do(ctx, "GET", "/v1/topics", nil, &ts)
			return err == nil && len(ts) == 1 && ts[0].Members == want && ts[0].Peers == want-1
		})
		if err != nil {
			return fmt.Errorf("member %d never saw all %d members on the topic: %w", i, want, err)
		}
	}
	return nil
}

func (f *federation) close() {
	parallel(len(f.members), len(f.members), func(i int) error {
		if m := f.members[i]; m != nil {
			m.node.Close()
		}
		return nil
	})
}

// poll calls cond every 20 ms until it holds or ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
