package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Client talks to a daemon over its Unix socket: one method per route.
// Errors the daemon answers are *Error, with their Class.
type Client struct {
	// NoDaemon, when set, says why no daemon answers (the CLI diagnoses
	// the home); its error should wrap ErrNoDaemon.
	NoDaemon func() error

	socket string
	home   string
	http   *http.Client
}

// NewClient returns a client for the daemon of home, whose socket is at
// socket.
func NewClient(home, socket string) *Client {
	return &Client{
		socket: socket,
		home:   home,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		}},
	}
}

// call sends one request on route (its wildcards filled with args, in
// order) with an optional JSON body, and decodes the JSON answer into out
// when out is not nil.
func (c *Client) call(ctx context.Context, route string, query url.Values, in, out any, args ...string) error {
	resp, err := c.send(ctx, route, query, in, args)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the daemon's answer to %s: %w", route, err)
	}
	return nil
}

// get calls route and decodes its answer as a T.
func get[T any](ctx context.Context, c *Client, route string, query url.Values, in any, args ...string) (T, error) {
	var out T
	err := c.call(ctx, route, query, in, &out, args...)
	return out, err
}

// list calls route and decodes its answer as a list, empty rather than nil.
func list[T any](ctx context.Context, c *Client, route string, query url.Values, in any, args ...string) ([]T, error) {
	out, err := get[[]T](ctx, c, route, query, in, args...)
	if out == nil && err == nil {
		out = []T{}
	}
	return out, err
}

// send makes the request and returns a 2xx answer, or the error answered.
func (c *Client) send(ctx context.Context, route string, query url.Values, in any, args []string) (*http.Response, error) {
	method, path := routePath(route, args)
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://concord"+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			if c.NoDaemon != nil {
				return nil, c.NoDaemon()
			}
			return nil, fmt.Errorf("%w for home %s; start it with `concord daemon`", ErrNoDaemon, c.home)
		}
		return nil, Errorf(Unavailable, "talking to the daemon at %s: %w", c.socket, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, answeredError(resp)
	}
	return resp, nil
}

// answeredError decodes a non-2xx answer.
func answeredError(resp *http.Response) error {
	var e Error
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e) != nil || e.Message == "" {
		e.Message = resp.Status
	}
	if e.Class == "" {
		e.Class = ClassOfStatus(resp.StatusCode)
	}
	return &e
}

// routePath splits route into its method and path, filling the path's
// wildcards with args, escaped.
func routePath(route string, args []string) (method, path string) {
	method, path, _ = strings.Cut(route, " ")
	for _, a := range args {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		if i < 0 || j < i {
			panic("api: more arguments than wildcards in " + route)
		}
		path = path[:i] + url.PathEscape(a) + path[j+1:]
	}
	if strings.Contains(path, "{") {
		panic("api: a wildcard without argument in " + route)
	}
	return method, path
}

// Stream reads a newline-delimited JSON answer, one T at a time.
type Stream[T any] struct {
	body io.ReadCloser
	dec  *json.Decoder
}

func (c *Client) stream(ctx context.Context, route string, query url.Values, args ...string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, route, query, nil, args)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func newStream[T any](body io.ReadCloser, err error) (*Stream[T], error) {
	if err != nil {
		return nil, err
	}
	return &Stream[T]{body: body, dec: json.NewDecoder(body)}, nil
}

// Next returns the next value; io.EOF when the daemon ended the stream.
func (s *Stream[T]) Next() (T, error) {
	var v T
	err := s.dec.Decode(&v)
	return v, err
}

// Close ends the stream.
func (s *Stream[T]) Close() error { return s.body.Close() }
