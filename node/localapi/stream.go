package localapi

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/concordnet/concord/node/api"
)

// ndjson writes newline-delimited JSON, one flushed line per value. The
// status is sent before the first value, so that the client knows the
// stream is open before anything happens.
type ndjson struct {
	mu    sync.Mutex // a Service may report from several goroutines
	enc   *json.Encoder
	flush func()
}

func startStream(w http.ResponseWriter) *ndjson {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s := &ndjson{enc: json.NewEncoder(w), flush: func() {}}
	if f, ok := w.(http.Flusher); ok {
		s.flush = f.Flush
		f.Flush()
	}
	return s
}

func (s *ndjson) send(v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	s.flush()
	return nil
}

// reindex streams the Service's progress; an error it returned without
// reporting it ends the stream as its last line.
func reindex(svc Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := startStream(w)
		var (
			mu   sync.Mutex // progress may come from several goroutines
			last api.ReindexProgress
		)
		err := svc.Reindex(r.Context(), func(p api.ReindexProgress) {
			mu.Lock()
			defer mu.Unlock()
			last = p
			s.send(p)
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !last.Finished && last.Error == "" {
			s.send(api.ReindexProgress{Done: last.Done, Total: last.Total, Error: "reindex: " + err.Error()})
		}
	}
}
