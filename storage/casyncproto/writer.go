package casyncproto

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/folbricht/desync/chunk"
)

// Writer encodes messages into a buffer; Flush sends what is buffered.
// It is not safe for concurrent use.
type Writer struct {
	w   *bufio.Writer
	hdr [HeaderSize + 8]byte
}

// NewWriter returns a writer of messages to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 64<<10)} }

// Flush sends the buffered messages.
func (w *Writer) Flush() error { return w.w.Flush() }

// header writes a message header for a body of n bytes, plus an le64 word
// (the flags or errno) if withWord is set.
func (w *Writer) header(t Type, n int, word uint64, withWord bool) error {
	size := HeaderSize + n
	k := HeaderSize
	if withWord {
		size += 8
		binary.LittleEndian.PutUint64(w.hdr[16:], word)
		k += 8
	}
	if size > MaxMessageSize {
		return fmt.Errorf("casync protocol: %s message of %d bytes is larger than %d", t, size, MaxMessageSize)
	}
	binary.LittleEndian.PutUint64(w.hdr[0:], uint64(size))
	binary.LittleEndian.PutUint64(w.hdr[8:], uint64(t))
	_, err := w.w.Write(w.hdr[:k])
	return err
}

// Hello writes a HELLO with feature flags f.
func (w *Writer) Hello(f uint64) error {
	if err := checkFeatures(f); err != nil {
		return fmt.Errorf("casync protocol: HELLO: %w", err)
	}
	return w.header(Hello, 0, f, true)
}

// Request writes REQUESTs for ids with flags (0 or [HighPriority]): one
// message per [MaxRequestIDs] IDs. No IDs, no message.
func (w *Writer) Request(flags uint64, ids []chunk.ID) error {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), MaxRequestIDs)]
		ids = ids[len(batch):]
		if err := w.header(Request, 32*len(batch), flags, true); err != nil {
			return err
		}
		for i := range batch {
			if _, err := w.w.Write(batch[i][:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Chunk writes a CHUNK: flags [Compressed] if data is the chunk's .cacnk
// form, 0 if it is the plain chunk. data must not be empty.
func (w *Writer) Chunk(flags uint64, id chunk.ID, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("casync protocol: CHUNK %s without data", id)
	}
	if err := w.header(Chunk, 32+len(data), flags, true); err != nil {
		return fmt.Errorf("chunk %s: %w", id, err)
	}
	if _, err := w.w.Write(id[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}

// Missing writes a MISSING for id.
func (w *Writer) Missing(id chunk.ID) error {
	if err := w.header(Missing, 32, 0, false); err != nil {
		return err
	}
	_, err := w.w.Write(id[:])
	return err
}

// Goodbye writes a GOODBYE.
func (w *Writer) Goodbye() error { return w.header(Goodbye, 0, 0, false) }

// Abort writes an ABORT with errno and reason; characters a reader would
// refuse are replaced by '?', and a reason too long for a message is cut.
func (w *Writer) Abort(errno uint64, reason string) error {
	if errno >= maxErrno {
		errno = 0
	}
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(reason, "?"))
	if max := MaxMessageSize - HeaderSize - 9; len(reason) > max {
		reason = strings.ToValidUTF8(reason[:max], "")
	}
	if err := w.header(Abort, len(reason)+1, errno, true); err != nil {
		return err
	}
	if _, err := w.w.WriteString(reason); err != nil {
		return err
	}
	return w.w.WriteByte(0)
}

// File writes the bytes of r as INDEX (or ARCHIVE, if t is [Archive])
// messages of up to [MaxFileData] bytes each, then INDEX_EOF
// (ARCHIVE_EOF).
func (w *Writer) File(t Type, r io.Reader) error {
	eof := IndexEOF
	switch t {
	case Index:
	case Archive:
		eof = ArchiveEOF
	default:
		return fmt.Errorf("casync protocol: %s is not a file message", t)
	}
	buf := make([]byte, MaxFileData)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := w.header(t, n, 0, false); err != nil {
				return err
			}
			if _, err := w.w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return w.header(eof, 0, 0, false)
}

// WriteMessage writes m as it is (an INDEX or ARCHIVE message of
// m.Data, whatever its length; see [Writer.File] for a whole file).
func (w *Writer) WriteMessage(m *Message) error {
	switch m.Type {
	case Hello:
		return w.Hello(m.Flags)
	case Request:
		if len(m.IDs) == 0 {
			return fmt.Errorf("casync protocol: REQUEST without IDs")
		}
		return w.Request(m.Flags, m.IDs)
	case Chunk:
		return w.Chunk(m.Flags, m.ID, m.Data)
	case Missing:
		return w.Missing(m.ID)
	case Abort:
		return w.Abort(m.Errno, m.Reason)
	case Index, Archive:
		if len(m.Data) == 0 {
			return fmt.Errorf("casync protocol: %s without data", m.Type)
		}
		if err := w.header(m.Type, len(m.Data), 0, false); err != nil {
			return err
		}
		_, err := w.w.Write(m.Data)
		return err
	case IndexEOF, ArchiveEOF, Goodbye:
		return w.header(m.Type, 0, 0, false)
	}
	return fmt.Errorf("casync protocol: cannot write %s", m.Type)
}
