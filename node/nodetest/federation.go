package nodetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/concordnet/concord/node/api"
)

// Member is one started node, as the harness drives it.
type Member interface {
	// Client talks to the node's local API.
	Client() *api.Client
	// Close stops the node.
	Close() error
}

// Starter starts the i-th member of a federation. Start may call it from
// several goroutines at once.
type Starter func(ctx context.Context, i int) (Member, error)

// startWorkers bounds how many members start at once: each opens a
// database and a libp2p host.
const startWorkers = 4

// Federation is members started together, and the topic they share once
// CreateTopic has run.
type Federation struct {
	Members []Member
	Topic   api.Topic
}

// Start starts n members with start, a few at a time. On error it closes
// those that started.
func Start(ctx context.Context, n int, start Starter) (*Federation, error) {
	f := &Federation{Members: make([]Member, n)}
	err := Parallel(n, startWorkers, func(i int) error {
		m, err := start(ctx, i)
		if err != nil {
			return fmt.Errorf("starting member %d: %w", i, err)
		}
		f.Members[i] = m
		return nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CreateTopic has Members[owner] create a topic and every other member
// join it by invitation; it becomes f.Topic. It does not wait for the
// mesh: see WaitMesh.
func (f *Federation) CreateTopic(ctx context.Context, owner int, category, name string) (api.Topic, error) {
	o := f.Members[owner]
	t, err := o.Client().CreateTopic(ctx, api.CreateTopicRequest{Category: category, Name: name})
	if err != nil {
		return t, fmt.Errorf("creating the topic: %w", err)
	}
	for i, m := range f.Members {
		if i == owner {
			continue
		}
		if _, err := Invite(ctx, o, m, t.ID); err != nil {
			return t, fmt.Errorf("member %d: %w", i, err)
		}
	}
	f.Topic = t
	return t, nil
}

// WaitMesh waits until every member sees all of them on f.Topic.
func (f *Federation) WaitMesh(ctx context.Context) error {
	return WaitMesh(ctx, f.Members, f.Topic.ID)
}

// Close stops every member that started, all at once, and returns their
// errors joined.
func (f *Federation) Close() error {
	return Parallel(len(f.Members), len(f.Members), func(i int) error {
		if m := f.Members[i]; m != nil {
			return m.Close()
		}
		return nil
	})
}

// Joined is what an invitation gave: the owner's answer, with the token,
// and the topic as the guest holds it once joined.
type Joined struct {
	Invite api.InviteResponse
	Topic  api.Topic
}

// Invite has owner invite guest to topic with guest's card, and guest
// join with the token, each through its API.
func Invite(ctx context.Context, owner, guest Member, topic string) (Joined, error) {
	var j Joined
	id, err := guest.Client().Identity(ctx)
	if err != nil {
		return j, fmt.Errorf("reading the guest's card: %w", err)
	}
	if j.Invite, err = owner.Client().Invite(ctx, topic, api.InviteRequest{Card: id.Card}); err != nil {
		return j, fmt.Errorf("inviting: %w", err)
	}
	if j.Topic, err = guest.Client().Join(ctx, j.Invite.Token); err != nil {
		return j, fmt.Errorf("joining: %w", err)
	}
	return j, nil
}

// Parallel runs fn(0..n-1) on at most workers goroutines and returns
// every error joined.
func Parallel(n, workers int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	next := make(chan int)
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
