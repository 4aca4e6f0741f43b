package node

import (
	"context"
	"errors"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/localapi"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Service is the node's operations as the local API calls them: it takes
// references as the user gives them, resolves them, and returns api views
// and errors with their api.Class.
type Service struct {
	n *Node
}

var _ localapi.Service = (*Service)(nil)

// Service returns the node's operations for the local API.
func (n *Node) Service() *Service { return &Service{n: n} }

// classify gives err the class its cause implies (the disk, a missing
// record, a malformed bulletin), else c. An error with a class keeps it.
func classify(c api.Class, err error) error {
	var field *protocol.FieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDiskFull):
		c = api.Unavailable // nobody's fault but the disk's, and it passes
	case errors.Is(err, store.ErrNotFound):
		c = api.NotFound
	case errors.Is(err, store.ErrAmbiguous), errors.As(err, &field):
		c = api.Invalid
	case errors.Is(err, store.ErrNotOriginator), errors.Is(err, ErrSealed):
		c = api.Forbidden
	case errors.Is(err, ErrTombstone):
		c = api.Conflict
	}
	return api.Classify(c, err)
}

// minBulletinRef is the shortest bulletin ID prefix taken.
const minBulletinRef = 4

// bulletinRef checks a bulletin reference's length.
func bulletinRef(ref string) error {
	if len(ref) < minBulletinRef {
		return api.Errorf(api.Invalid, "bulletin ID %q is too short: give the ID or a prefix of 4 characters or more", ref)
	}
	return nil
}

// bulletinLookup classifies a store error looking up bulletin ref.
func bulletinLookup(ref string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return api.Errorf(api.NotFound, "no bulletin %q on this node (see `concord list`)", ref)
	case errors.Is(err, store.ErrAmbiguous):
		return api.Errorf(api.Invalid, "%v; give more of the ID", err)
	}
	return classify(api.Internal, err)
}

// followBatch is how many values a watch reads at a time.
const followBatch = 100

// follow feeds send the values read after cursor, then each new one as
// the node notifies a change, until ctx or the node ends or send fails.
// read returns at most limit values after a cursor; send returns the
// value's own cursor.
func follow[T any](ctx context.Context, n *Node, cursor uint64, read func(after uint64, limit int) ([]T, error), send func(T) (uint64, error)) error {
	for {
		wake := n.changes()
		vs, err := read(cursor, followBatch)
		if err != nil {
			return classify(api.Internal, err)
		}
		for _, v := range vs {
			var err error
			if cursor, err = send(v); err != nil {
				return err
			}
		}
		if len(vs) == followBatch {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil
		case <-n.ctx.Done():
			return nil
		}
	}
}

// cursorOr is *after, or where the watched sequence is now.
func cursorOr(after *uint64, now func() (uint64, error)) (uint64, error) {
	if after != nil {
		return *after, nil
	}
	c, err := now()
	return c, classify(api.Internal, err)
}
