package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/concordnet/concord/node/api"
)

// Outcomes of an operation.
const (
	ok      = "ok"      // acknowledged: the API answered success
	failed  = "failed"  // the API answered an error, or the daemon was not there: not done
	unknown = "unknown" // timeout or cut connection: may or may not have happened
)

// op is one operation of the history.
type op struct {
	N        int       `json:"n"`
	Node     int       `json:"node"`
	Kind     string    `json:"kind"` // publish, revise, revoke, invite, remove, backup, read
	Topic    string    `json:"topic,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Outcome  string    `json:"outcome"`
	Class    string    `json:"class,omitempty"`
	Err      string    `json:"error,omitempty"`
	ID       string    `json:"id,omitempty"`       // bulletin ID (publish: returned; revise, revoke: target)
	Envelope string    `json:"envelope,omitempty"` // envelope ID returned
	Version  int       `json:"version,omitempty"`
	Target   int       `json:"target,omitempty"`   // invite, remove: the node
	Audience []int     `json:"audience,omitempty"` // restricted publish: the nodes
	Origin   int       `json:"origin,omitempty"`   // revise, revoke: the publish op
}

// fault is one injected fault.
type fault struct {
	N     int       `json:"n"`
	Kind  string    `json:"kind"`
	Nodes []int     `json:"nodes,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Note  string    `json:"note,omitempty"`
}

// history records operations and faults, in memory and as JSON lines.
type history struct {
	mu     sync.Mutex
	ops    []*op
	faults []*fault
	file   io.WriteCloser
	out    io.Writer
	t0     time.Time
}

func newHistory(path string, out io.Writer) (*history, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &history{file: f, out: out, t0: time.Now()}, nil
}

// begin numbers a new operation; done records its end.
func (h *history) begin(o *op) *op {
	h.mu.Lock()
	defer h.mu.Unlock()
	o.N = len(h.ops) + 1
	o.Start = time.Now()
	h.ops = append(h.ops, o)
	return o
}

// done records how o ended, from err: nil acknowledged; an answered
// error or no daemon, failed; a transport error or a timeout, unknown.
func (h *history) done(o *op, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o.End = time.Now()
	o.Outcome = outcome(err)
	if err != nil {
		o.Class, o.Err = string(api.ClassOf(err)), err.Error()
		if errors.Is(err, api.ErrNoDaemon) {
			o.Class = "no-daemon"
		}
	}
	h.write(map[string]any{"op": o})
}

func outcome(err error) string {
	var ue *url.Error
	switch {
	case err == nil:
		return ok
	case errors.Is(err, api.ErrNoDaemon):
		return failed // nothing reached a daemon
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &ue):
		return unknown
	}
	return failed
}

// startFault records a fault's start; endFault its end.
func (h *history) startFault(kind string, nodes []int, note string) *fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := &fault{N: len(h.faults) + 1, Kind: kind, Nodes: nodes, Start: time.Now(), Note: note}
	h.faults = append(h.faults, f)
	fmt.Fprintf(h.out, "%7s fault %d %s nodes %v %s\n", h.since(f.Start), f.N, kind, nodes, note)
	return f
}

func (h *history) endFault(f *fault, note string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.End = time.Now()
	if note != "" {
		f.Note += "; " + note
	}
	fmt.Fprintf(h.out, "%7s fault %d %s ended %s\n", h.since(f.End), f.N, f.Kind, note)
	h.write(map[string]any{"fault": f})
}

// logf prints a progress line.
func (h *history) logf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, "%7s %s\n", h.since(time.Now()), fmt.Sprintf(format, args...))
}

func (h *history) since(t time.Time) string {
	return t.Sub(h.t0).Truncate(100 * time.Millisecond).String()
}

func (h *history) write(v any) {
	b, _ := json.Marshal(v)
	h.file.Write(append(b, '\n'))
}

// snapshot copies the records, for the checker.
func (h *history) snapshot() ([]op, []fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops := make([]op, len(h.ops))
	for i, o := range h.ops {
		ops[i] = *o
	}
	fs := make([]fault, len(h.faults))
	for i, f := range h.faults {
		fs[i] = *f
	}
	return ops, fs
}

func (h *history) close() error { return h.file.Close() }
