package storage

import (
	"context"
	"errors"
	"strings"

	"github.com/folbricht/desync/chunk"
)

// Permanent marks err as one that repeating the call cannot fix (a refused
// credential, a malformed request), so [Retry] gives up at once. Backends
// wrap such errors; errors.Is and errors.As still see the original.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Transient marks err as one that repeating the call may fix (a 5xx
// response, a reset connection), so [Retry] repeats it. Backends wrap such
// errors; errors.Is and errors.As still see the original. An error of any
// type can say so itself with a method Transient() bool.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

type transientError struct{ err error }

func (e *transientError) Error() string   { return e.err.Error() }
func (e *transientError) Unwrap() error   { return e.err }
func (e *transientError) Transient() bool { return true }

// IsTransient reports whether a failed store call may succeed if repeated:
// only if the backend said so. That is an error in err's chain with a
// method Transient() bool that returns true (as [Transient] marks them),
// or a timeout (an error matching context.DeadlineExceeded, as an HTTP
// client's is; callers stop retrying when their own context is done).
// Never a missing or invalid chunk, a cancelled context, or an error
// marked [Permanent] (that mark wins over any other). An error nobody
// classified is not transient: retrying a refused credential only delays
// the failure.
func IsTransient(err error) bool {
	var inv *chunk.InvalidError
	switch {
	case err == nil,
		errors.Is(err, chunk.ErrMissing),
		errors.As(err, &inv),
		errors.Is(err, context.Canceled):
		return false
	}
	if errors.As(err, new(*permanentError)) {
		return false
	}
	var t interface{ Transient() bool }
	if errors.As(err, &t) && t.Transient() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// GroupError is the failure of every member of a store group (a
// [Failover]); it names the group and unwraps to each member's error.
type GroupError struct {
	Group string
	Errs  []error
}

func (e *GroupError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "every store of failover group " + e.Group + " failed: " + strings.Join(msgs, "; ")
}

func (e *GroupError) Unwrap() []error { return e.Errs }

// IsPermanent reports whether err is marked [Permanent].
func IsPermanent(err error) bool { return errors.As(err, new(*permanentError)) }
