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

// IsTransient reports whether a failed store call may succeed if repeated.
// Every error is transient except a missing chunk, an invalid chunk, a
// cancelled context, and errors marked [Permanent]. A timeout (an error
// matching context.DeadlineExceeded, as an HTTP client's is) is transient;
// callers stop retrying when their own context is done.
func IsTransient(err error) bool {
	var inv *chunk.InvalidError
	var perm *permanentError
	switch {
	case err == nil,
		errors.Is(err, chunk.ErrMissing),
		errors.As(err, &inv),
		errors.Is(err, context.Canceled),
		errors.As(err, &perm):
		return false
	}
	return true
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
