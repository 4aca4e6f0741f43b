package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// floorStore is the store-and-forward floor's durable store on one host:
// a Badger database with the node store's options (sync writes, at-rest
// encryption, the same memory settings) and a writer goroutine that
// commits whatever messages are pending in one transaction, as the
// store's commit loop does. A message counts as delivered once its group
// is committed: what any system that keeps what it receives must pay.
// GossipSub forwards a message before it is stored, as a node may once
// the message is validated.
type floorStore struct {
	db   *badger.DB
	in   chan floorWrite
	done chan struct{}

	mu  sync.Mutex
	err error // the first failed commit, if any
}

// floorWrite is one message to store and what to do once it is durable.
type floorWrite struct {
	key, value []byte
	stored     func(at time.Time)
}

// floorGroup bounds a group as the store does (its maxGroup); 256 messages
// of 4 KiB stay far below store.MaxGroupBytes.
const floorGroup = 256

func openFloorStore(dir string) (*floorStore, error) {
	db, err := openBadger(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the floor's database in %s: %w", dir, err)
	}
	s := &floorStore{db: db, in: make(chan floorWrite, 1024), done: make(chan struct{})}
	go s.loop()
	return s, nil
}

// put queues a message; it blocks while 1024 are pending, as Update does.
func (s *floorStore) put(key, value []byte, stored func(time.Time)) {
	s.in <- floorWrite{key: key, value: value, stored: stored}
}

func (s *floorStore) loop() {
	defer close(s.done)
	for w := range s.in {
		s.commit(s.gather(w))
	}
}

// gather takes w and whatever else is already queued, up to floorGroup.
func (s *floorStore) gather(w floorWrite) []floorWrite {
	group := []floorWrite{w}
	for len(group) < floorGroup {
		select {
		case next, ok := <-s.in:
			if !ok {
				return group
			}
			group = append(group, next)
		default:
			return group
		}
	}
	return group
}

// commit writes a group in one synced transaction, then reports each
// message stored; a failed group is not delivered, and the run says so.
func (s *floorStore) commit(group []floorWrite) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	var err error
	for _, w := range group {
		if err = txn.Set(w.key, w.value); err != nil {
			break
		}
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		s.fail(err)
		return
	}
	at := time.Now()
	for _, w := range group {
		w.stored(at)
	}
}

func (s *floorStore) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *floorStore) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// close commits what is queued and closes the database; nothing may put
// after it.
func (s *floorStore) close() error {
	close(s.in)
	<-s.done
	return s.db.Close()
}

// openFloorStores opens one store per host under dir.
func openFloorStores(dir string, n int) ([]*floorStore, error) {
	stores := make([]*floorStore, 0, n)
	for i := range n {
		s, err := openFloorStore(filepath.Join(dir, fmt.Sprintf("f%d", i)))
		if err != nil {
			closeFloorStores(stores)
			return nil, err
		}
		stores = append(stores, s)
	}
	return stores, nil
}

// closeFloorStores closes every store and returns the first failure,
// commits included.
func closeFloorStores(stores []*floorStore) error {
	var first error
	for _, s := range stores {
		if err := s.failure(); err != nil && first == nil {
			first = err
		}
		if err := s.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// withFloor runs fn on a fresh floor network of n hosts, their databases
// under dir.
func withFloor(ctx context.Context, dir string, n int, fn func(network, *router) error) error {
	stores, err := openFloorStores(dir, n)
	if err != nil {
		return err
	}
	r := &router{}
	g, err := newGossipNet(ctx, n, r, payloadSize, stores)
	if err != nil {
		closeFloorStores(stores)
		return err
	}
	err = fn(g, r)
	g.close()
	if cerr := closeFloorStores(stores); err == nil && cerr != nil {
		err = fmt.Errorf("the floor's store: %w", cerr)
	}
	return err
}
