package catar

import "fmt"

// FormatError reports a malformed archive: the byte offset of the offending
// record in the archive stream, the entry it belongs to when known, and what
// is wrong.
type FormatError struct {
	Offset int64  // byte offset in the archive stream
	Path   string // the entry being read or written, when known ("" is the root)
	Msg    string
	Err    error // underlying cause (io.ErrUnexpectedEOF for a truncated stream), or nil
}

func (e *FormatError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("archive: offset %d (entry %q): %s", e.Offset, e.Path, e.Msg)
	}
	return fmt.Sprintf("archive: offset %d: %s", e.Offset, e.Msg)
}

func formatErr(off int64, path, format string, a ...any) error {
	return &FormatError{Offset: off, Path: path, Msg: fmt.Sprintf(format, a...)}
}
