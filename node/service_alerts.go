package node

import (
	"context"
	"errors"
	"strings"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// Watchlist lists the watched terms.
func (s *Service) Watchlist(context.Context) ([]api.WatchEntry, error) {
	es, err := s.n.store.Watchlist()
	if err != nil {
		return nil, classify(api.Internal, err)
	}
	out := make([]api.WatchEntry, len(es))
	for i, e := range es {
		out[i] = watchView(e)
	}
	return out, nil
}

// AddWatch watches a term.
func (s *Service) AddWatch(ctx context.Context, req api.WatchRequest) (api.WatchEntry, error) {
	e, err := s.n.AddWatch(ctx, req.Term, req.Note)
	if err != nil {
		return api.WatchEntry{}, classify(api.Internal, err)
	}
	return watchView(e), nil
}

// RemoveWatch stops watching a term, by watch ID or term.
func (s *Service) RemoveWatch(ctx context.Context, ref string) error {
	err := s.n.store.DeleteWatch(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return api.Errorf(api.NotFound, "no watchlist entry %q (see concord watchlist list)", ref)
	}
	return classify(api.Internal, err)
}

// Alerts lists the alerts q selects, oldest first.
func (s *Service) Alerts(_ context.Context, q api.AlertQuery) ([]api.Alert, error) {
	sq := store.AlertQuery{Since: q.Since, Limit: q.Limit}
	if q.After != nil {
		sq.After = *q.After
	}
	as, err := s.n.store.Alerts(sq)
	if err != nil {
		return nil, classify(api.Internal, err)
	}
	return s.n.alertViews(as), nil
}

// WatchAlerts sends the alerts raised after q.After (nil: from now), then
// each new one, until ctx or the node ends or send fails. The alert loop
// notifies the node's changes once it recorded alerts.
func (s *Service) WatchAlerts(ctx context.Context, q api.AlertQuery, send func(api.Alert) error) error {
	n := s.n
	cursor, err := cursorOr(q.After, n.store.LastAlertSeq)
	if err != nil {
		return err
	}
	read := func(after uint64, limit int) ([]store.Alert, error) {
		return n.store.Alerts(store.AlertQuery{After: after, Limit: limit})
	}
	return follow(ctx, n, cursor, read, func(a store.Alert) (uint64, error) {
		return a.Seq, send(n.alertView(a))
	})
}

func watchView(e store.WatchEntry) api.WatchEntry {
	v := api.WatchEntry{ID: e.ID, Term: e.Term, Note: e.Note, Created: e.Created, Kind: "words", Match: strings.Join(e.Words, " ")}
	if e.Key != nil {
		v.Kind, v.Match, v.Flagged = "entity", e.Key.String(), e.Key.Flagged
	}
	return v
}
