package localapi

import (
	"context"
	"net/http"
	"net/url"
)

// exportOn serves a finite export on the path wildcard name as
// newline-delimited JSON. Unlike stream, an error before the first value
// (a topic not found, a bad query) is answered with its status; an error
// after it ends the stream with a last line made by fail, so that the
// client knows the export is incomplete.
func exportOn[Q, T any](name string, parse func(url.Values) (Q, error),
	export func(context.Context, string, Q, func(T) error) error, fail func(error) T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parse(r.URL.Query())
		if err != nil {
			writeError(w, err)
			return
		}
		var s *ndjson
		err = export(r.Context(), r.PathValue(name), q, func(v T) error {
			if s == nil {
				s = startStream(w)
			}
			return s.send(v)
		})
		switch {
		case err == nil && s == nil:
			startStream(w) // nothing to export: an empty stream
		case err != nil && s == nil:
			writeError(w, err)
		case err != nil && r.Context().Err() == nil:
			s.send(fail(err))
		}
	}
}

// noQuery is the query of an export that takes none.
func noQuery(url.Values) (struct{}, error) { return struct{}{}, nil }

// ignoreQuery adapts an export that takes no query to exportOn.
func ignoreQuery[T any](export func(context.Context, string, func(T) error) error) func(context.Context, string, struct{}, func(T) error) error {
	return func(ctx context.Context, ref string, _ struct{}, send func(T) error) error {
		return export(ctx, ref, send)
	}
}
