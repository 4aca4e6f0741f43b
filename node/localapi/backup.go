package localapi

import (
	"context"
	"net/http"
)

// backup streams the archive as raw bytes. An error before the first byte
// is answered as any other; after it, the connection is cut rather than
// the answer ended: an archive that ends cleanly must be a complete one.
func backup(svc Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tw := &tarWriter{w: w}
		err := svc.Backup(r.Context(), tw)
		switch {
		case err == nil:
		case tw.started:
			panic(http.ErrAbortHandler)
		default:
			writeError(w, err)
		}
	}
}

// removeWatch answers DELETE /v1/watchlist/{id} with the ID removed.
func removeWatch(svc Service) func(context.Context, string) (map[string]string, error) {
	return func(ctx context.Context, id string) (map[string]string, error) {
		return map[string]string{"removed": id}, svc.RemoveWatch(ctx, id)
	}
}

// tarWriter sets the archive's content type on the first byte, and
// records that it went.
type tarWriter struct {
	w       http.ResponseWriter
	started bool
}

func (t *tarWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // writing nothing must not send the status
	}
	if !t.started {
		t.started = true
		t.w.Header().Set("Content-Type", "application/x-tar")
	}
	return t.w.Write(p)
}
