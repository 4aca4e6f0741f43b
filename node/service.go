package node

import (
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
