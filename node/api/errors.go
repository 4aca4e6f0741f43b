package api

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNoDaemon reports that no daemon answers on the home's socket.
var ErrNoDaemon = errors.New("no daemon running")

// Class says whose move an error is, the same way on every layer: the
// node returns it, the local API maps it to an HTTP status (Status), the
// client maps the status back (ClassOfStatus) and the CLI to an exit code.
type Class string

// The classes of error.
const (
	Invalid     Class = "invalid"     // the request is malformed or names something wrongly: fix it
	NotFound    Class = "not-found"   // no such topic, member, bulletin or watch on this node
	Forbidden   Class = "forbidden"   // this member may not do that (role, originator, sealed)
	Conflict    Class = "conflict"    // the node's state refuses it now (already a member, revoked, …)
	Unavailable Class = "unavailable" // the disk, the network or a peer: retry once it passes
	Internal    Class = "internal"    // the node failed: see its log
)

// Error is an error with its class. As JSON it is the body of every
// non-2xx answer: {"error": message, "class": class}.
type Error struct {
	Class   Class  `json:"class"`
	Message string `json:"error"`
	err     error  // the cause, on the side that made it
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.err }

// Errorf returns an error of class c; %w wraps a cause as fmt.Errorf does.
func Errorf(c Class, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Class: c, Message: err.Error(), err: errors.Unwrap(err)}
}

// Classify gives err class c unless it already has one.
func Classify(c Class, err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return &Error{Class: c, Message: err.Error(), err: err}
}

// ClassOf returns err's class: Internal when it has none.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) && e.Class != "" {
		return e.Class
	}
	return Internal
}

// Status is the HTTP status the local API answers for class c.
func (c Class) Status() int {
	switch c {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Forbidden:
		return http.StatusForbidden
	case Conflict:
		return http.StatusConflict
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ClassOfStatus is the class of an HTTP status, for answers whose body
// names none (a daemon of an older version, or a proxy).
func ClassOfStatus(code int) Class {
	for _, c := range []Class{Invalid, NotFound, Forbidden, Conflict, Unavailable} {
		if c.Status() == code {
			return c
		}
	}
	switch {
	case code == http.StatusMethodNotAllowed:
		return NotFound // a route this daemon does not serve
	case code/100 == 4:
		return Invalid
	}
	return Internal
}
