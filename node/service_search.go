package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Search searches the bulletins this node can read, with list's filters.
func (s *Service) Search(_ context.Context, q api.SearchQuery) ([]api.SearchHit, error) {
	filter, err := s.n.storeQuery(q.ListQuery)
	if err != nil {
		return nil, err
	}
	tq, err := ParseSearch(q.Q, s.n.cfg.Member.Country)
	if err != nil {
		return nil, api.Classify(api.Invalid, err)
	}
	tq.Limit, filter.Limit = filter.Limit, 0
	tq.Filter = filter
	hits, err := s.n.Search(tq)
	return hits, classify(api.Internal, err)
}

// Related returns the bulletins sharing an entity with bulletin ref, at
// most limit per entity (0: up to the common threshold).
func (s *Service) Related(_ context.Context, ref string, limit int) (api.Related, error) {
	if err := bulletinRef(ref); err != nil {
		return api.Related{}, err
	}
	rel, err := s.n.Related(ref, limit)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrAmbiguous):
		return rel, bulletinLookup(ref, err)
	case err != nil:
		return rel, classify(api.Internal, err)
	}
	return rel, nil
}

// reindexProgressEvery spaces progress reports: often enough to see the
// rebuild move, rarely enough not to slow it.
const reindexProgressEvery = 500 * time.Millisecond

// Reindex rebuilds the search indexes from the stored bulletins,
// reporting progress, the last report with Finished (or Error) set.
func (s *Service) Reindex(ctx context.Context, progress func(api.ReindexProgress)) error {
	var (
		mu          sync.Mutex // progress may be reported from the store's goroutines
		done, total int
		last        time.Time
	)
	started := time.Now()
	err := s.n.store.Reindex(ctx, func(d, t int) {
		mu.Lock()
		defer mu.Unlock()
		done, total = d, t
		if time.Since(last) >= reindexProgressEvery {
			last = time.Now()
			progress(api.ReindexProgress{Done: d, Total: t})
		}
	})
	mu.Lock()
	defer mu.Unlock()
	final := api.ReindexProgress{Done: done, Total: total, Finished: err == nil, Elapsed: time.Since(started).Round(time.Millisecond).String()}
	if err != nil {
		final.Error = "reindex: " + err.Error()
	}
	progress(final)
	return classify(api.Internal, err)
}

// Import returns the bulletin a foreign object became; NotFound when it
// was never imported here.
func (s *Service) Import(_ context.Context, source string) (api.ImportRecord, error) {
	if source == "" {
		return api.ImportRecord{}, api.Errorf(api.Invalid, "give ?source=ID: the foreign object's ID (a STIX ID or misp-event:UUID)")
	}
	id, err := s.n.store.Import(source)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return api.ImportRecord{}, api.Errorf(api.NotFound, "import source %q was never published on this node", source)
	case err != nil:
		return api.ImportRecord{}, classify(api.Internal, fmt.Errorf("reading the import ledger: %w", err))
	}
	return api.ImportRecord{Source: source, Bulletin: id}, nil
}

// AddImport records that a foreign object was published as a bulletin
// this node holds.
func (s *Service) AddImport(ctx context.Context, rec api.ImportRecord) (api.ImportRecord, error) {
	if rec.Source == "" || len(rec.Source) > store.MaxImportSource {
		return rec, api.Errorf(api.Invalid, "source must name the foreign object in 1 to %d bytes (a STIX ID or misp-event:UUID), not %d", store.MaxImportSource, len(rec.Source))
	}
	if !protocol.ValidBulletinID(rec.Bulletin) {
		return rec, api.Errorf(api.Invalid, "bulletin %q is not a bulletin ID (%d characters, as publish prints)", rec.Bulletin, protocol.BulletinIDLen)
	}
	if _, err := s.n.store.Bulletin(rec.Bulletin); err != nil {
		return rec, api.Errorf(api.NotFound, "bulletin %s is not on this node: record an import only after publishing it", rec.Bulletin)
	}
	if err := s.n.store.PutImport(ctx, rec.Source, rec.Bulletin); err != nil {
		return rec, classify(api.Internal, fmt.Errorf("recording the import: %w", err))
	}
	return rec, nil
}
