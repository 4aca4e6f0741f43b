package localapi

import (
	"encoding/json"
	"net/http"
	"sync"
)

// stream writes newline-delimited JSON, one flushed line per value. The
// status is sent before the first value, so that the client knows the
// stream is open before anything happens.
type stream struct {
	mu    sync.Mutex // a Service may report from several goroutines
	enc   *json.Encoder
	flush func()
}

func startStream(w http.ResponseWriter) *stream {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s := &stream{enc: json.NewEncoder(w), flush: func() {}}
	if f, ok := w.(http.Flusher); ok {
		s.flush = f.Flush
		f.Flush()
	}
	return s
}

func (s *stream) send(v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	s.flush()
	return nil
}
