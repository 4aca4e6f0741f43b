package node

import (
	"context"

	"github.com/concordnet/concord/node/api"
)

// SetPolicy changes a topic's history policy.
func (s *Service) SetPolicy(ctx context.Context, ref string, req api.PolicyRequest) (api.LogChange, error) {
	return s.logChange(ref, func(t *topic) (string, error) {
		_, err := s.n.setHistory(ctx, t, req.History)
		return "", err
	})
}
