package chunk

import (
	"errors"
	"fmt"
)

// ErrMissing is matched (errors.Is) by every error that means "this store does
// not have the chunk": routers fall through to the next store on it, and it is
// never retried.
var ErrMissing = errors.New("chunk missing")

// MissingError reports a chunk a store does not hold.
type MissingError struct {
	ID    ID
	Store string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("chunk %s missing from store %s", e.ID, e.Store)
}

// Is makes errors.Is(err, ErrMissing) true.
func (e *MissingError) Is(target error) bool { return target == ErrMissing }

// InvalidError reports a chunk whose content does not match its ID: it does
// not decode, is too large, or hashes to Sum instead of ID. Invalid chunks are
// never retried; a repairing cache treats them as missing.
type InvalidError struct {
	ID    ID
	Sum   ID     // the digest of what was read; zero when it could not be decoded
	Store string // where it was read from, if known
	Err   error  // the decoding error, if any
}

func (e *InvalidError) Error() string {
	where := ""
	if e.Store != "" {
		where = " in store " + e.Store
	}
	if e.Err != nil {
		return fmt.Sprintf("invalid chunk %s%s: %v", e.ID, where, e.Err)
	}
	return fmt.Sprintf("invalid chunk %s%s: content hashes to %s", e.ID, where, e.Sum)
}

func (e *InvalidError) Unwrap() error { return e.Err }
