package catar

import (
	"errors"
	"fmt"
	"io"
)

// Unwrap returns the cause of a FormatError (io.ErrUnexpectedEOF for a
// truncated archive), so errors.Is works through it.
func (e *FormatError) Unwrap() error { return e.Err }

// truncatedErr is the FormatError of an archive that ends inside a record.
func truncatedErr(off int64, path, what string) error {
	return &FormatError{Offset: off, Path: path, Msg: fmt.Sprintf("truncated archive: stream ends inside %s", what), Err: io.ErrUnexpectedEOF}
}

// readErr turns an error of the underlying reader into a FormatError: an
// early end becomes io.ErrUnexpectedEOF, anything else is kept as the cause.
func readErr(err error, off int64, path, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return truncatedErr(off, path, what)
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return &FormatError{Offset: off, Path: path, Msg: fmt.Sprintf("reading %s: %v", what, err), Err: err}
}
