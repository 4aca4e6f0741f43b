package localapi

import (
	"net/http"
)

// backup streams the archive as raw bytes. An error before the first byte
// is answered as any other; after it, the connection is cut rather than
// the answer ended: an archive that ends cleanly must be a complete one.
func (h handlers) backup(w http.ResponseWriter, r *http.Request) {
	tw := &tarWriter{w: w}
	err := h.svc.Backup(r.Context(), tw)
	switch {
	case err == nil:
	case tw.started:
		panic(http.ErrAbortHandler)
	default:
		writeError(w, err)
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
