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
	"os"
	"syscall"
)

// ErrNoDaemon reports that no daemon answers on the home's socket.
var ErrNoDaemon = errors.New("no daemon running")

// Client talks to a daemon over its Unix socket.
type Client struct {
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

// Do sends a request with an optional JSON body and decodes the JSON
// answer into out (when out is not nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://concord"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%w for home %s; start it with `concord daemon`", ErrNoDaemon, c.home)
		}
		return fmt.Errorf("talking to the daemon at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e Error
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
			return &StatusError{Code: resp.StatusCode, Message: e.Error}
		}
		return &StatusError{Code: resp.StatusCode, Message: resp.Status}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Stream opens a streaming GET; the caller reads newline-delimited JSON
// from the body and closes it.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.openStream(ctx, http.MethodGet, path)
}

// PostStream sends a POST without a body and returns the streamed answer
// (newline-delimited JSON) for the caller to read and close: for actions
// that report progress while they run, such as reindex.
func (c *Client) PostStream(ctx context.Context, path string) (io.ReadCloser, error) {
	return c.openStream(ctx, http.MethodPost, path)
}

func (c *Client) openStream(ctx context.Context, method, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://concord"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w for home %s; start it with `concord daemon`", ErrNoDaemon, c.home)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e Error
		if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		return nil, &StatusError{Code: resp.StatusCode, Message: e.Error}
	}
	return resp.Body, nil
}

// StatusError is an error answered by the daemon.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return e.Message }
