package nodetest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/concordnet/concord/node"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/protocol"
)

// member is an in-process node.
type member struct {
	*node.Node
	api *api.Client
}

func (m member) Client() *api.Client { return m.api }

// starter starts nodes in homes under dir, on TCP loopback.
func starter(dir string) nodetest.Starter {
	return func(_ context.Context, i int) (nodetest.Member, error) {
		h := node.Home(filepath.Join(dir, fmt.Sprint(i)))
		cfg := node.DefaultConfig(fmt.Sprintf("Agency %d", i), "FRA")
		cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		if _, err := node.Init(h, cfg); err != nil {
			return nil, err
		}
		n, err := node.Start(h, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return nil, err
		}
		return member{n, api.NewClient(string(h), h.Socket())}, nil
	}
}

// Three members end up on one topic, each seeing the two others, and a
// bulletin one publishes reaches the others.
func TestFederation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := nodetest.Start(ctx, 3, starter(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	topic, err := f.CreateTopic(ctx, 1, "corruption", "Harness topic")
	if err != nil {
		t.Fatal(err)
	}
	if f.Topic.ID != topic.ID || topic.ID == "" {
		t.Fatalf("f.Topic = %+v, want the topic created, %s", f.Topic, topic.ID)
	}
	if err := f.WaitMesh(ctx); err != nil {
		t.Fatal(err)
	}
	for i, m := range f.Members {
		got, err := m.Client().Topic(ctx, topic.ID)
		if err != nil || got.Members != 3 || got.Peers != 2 {
			t.Fatalf("member %d sees %+v (%v), want 3 members and 2 peers", i, got, err)
		}
	}
	pub, err := f.Members[0].Client().Publish(ctx, api.PublishRequest{Topic: topic.ID, Draft: draft()})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range f.Members {
		err := nodetest.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
			b, err := m.Client().Bulletin(ctx, pub.ID)
			return err == nil && b.Content != nil, err
		})
		if err != nil {
			t.Fatalf("member %d never read the bulletin: %v", i, err)
		}
	}
}

// A member that fails to start fails Start, which closes the others.
func TestStartFails(t *testing.T) {
	start := starter(t.TempDir())
	var started []nodetest.Member
	_, err := nodetest.Start(context.Background(), 2, func(ctx context.Context, i int) (nodetest.Member, error) {
		if i == 1 {
			return nil, fmt.Errorf("no home")
		}
		m, err := start(ctx, i)
		if m != nil {
			started = append(started, m)
		}
		return m, err
	})
	if err == nil {
		t.Fatal("Start succeeded with a member that could not start")
	}
	for _, m := range started {
		if _, err := m.Client().Status(context.Background()); err == nil {
			t.Fatal("a started member still answers after Start failed")
		}
	}
}

func draft() protocol.BulletinDraft {
	return protocol.BulletinDraft{
		Title: "Harness bulletin", Summary: "A bulletin.", Body: "Body.", Language: "en", TLP: "AMBER",
		Handling: protocol.Handling{Code: "H2"}, SourceReliability: "B", InfoReliability: "2",
		Entities: []protocol.Entity{{Type: "vessel", Value: "MV Example"}},
	}
}
