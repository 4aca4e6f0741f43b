package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/concordnet/concord/node/api"
)

// The adapters below turn a Service method into a handler: they decode
// what the route carries (nothing, a path wildcard, a query, a JSON body),
// call the method and encode its answer or its error (encode.go).

// serve answers code and what call makes of the request, or its error.
func serve[T any](code int, call func(*http.Request) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := call(r)
		answer(w, code, v, err)
	}
}

// get serves a method that takes nothing.
func get[T any](call func(context.Context) (T, error)) http.HandlerFunc {
	return serve(http.StatusOK, func(r *http.Request) (T, error) { return call(r.Context()) })
}

// on serves a method that takes the path wildcard name.
func on[T any](name string, call func(context.Context, string) (T, error)) http.HandlerFunc {
	return serve(http.StatusOK, func(r *http.Request) (T, error) { return call(r.Context(), r.PathValue(name)) })
}

// post serves a method that takes a JSON body, answering code.
func post[Req, T any](code int, call func(context.Context, Req) (T, error)) http.HandlerFunc {
	return serve(code, func(r *http.Request) (T, error) {
		return withBody(r, func(req Req) (T, error) { return call(r.Context(), req) })
	})
}

// postOn serves a method that takes the path wildcard name and a JSON body.
func postOn[Req, T any](name string, call func(context.Context, string, Req) (T, error)) http.HandlerFunc {
	return serve(http.StatusOK, func(r *http.Request) (T, error) {
		return withBody(r, func(req Req) (T, error) { return call(r.Context(), r.PathValue(name), req) })
	})
}

// query serves a method that takes the query parse decodes.
func query[Q, T any](parse func(url.Values) (Q, error), call func(context.Context, Q) (T, error)) http.HandlerFunc {
	return serve(http.StatusOK, func(r *http.Request) (T, error) {
		return withQuery(r, parse, func(q Q) (T, error) { return call(r.Context(), q) })
	})
}

// queryOn serves a method that takes the path wildcard name and a query.
func queryOn[Q, T any](name string, parse func(url.Values) (Q, error), call func(context.Context, string, Q) (T, error)) http.HandlerFunc {
	return serve(http.StatusOK, func(r *http.Request) (T, error) {
		return withQuery(r, parse, func(q Q) (T, error) { return call(r.Context(), r.PathValue(name), q) })
	})
}

// stream serves a method that sends values until the client leaves, as
// newline-delimited JSON.
func stream[Q, T any](parse func(url.Values) (Q, error), watch func(context.Context, Q, func(T) error) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parse(r.URL.Query())
		if err != nil {
			writeError(w, err)
			return
		}
		s := startStream(w)
		watch(r.Context(), q, func(v T) error { return s.send(v) })
	}
}

// withBody decodes the request's JSON body, at most maxBody bytes with
// unknown fields refused, and calls call with it.
func withBody[Req, T any](r *http.Request, call func(Req) (T, error)) (T, error) {
	var req Req
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return *new(T), api.Errorf(api.Invalid, "malformed request: %v", err)
	}
	return call(req)
}

// withQuery decodes the request's query with parse and calls call with it.
func withQuery[Q, T any](r *http.Request, parse func(url.Values) (Q, error), call func(Q) (T, error)) (T, error) {
	q, err := parse(r.URL.Query())
	if err != nil {
		return *new(T), err
	}
	return call(q)
}
