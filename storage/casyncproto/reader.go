package casyncproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/folbricht/desync/chunk"
)

// FrameError is a message that breaks the protocol's rules: its size, type
// or a field. The connection cannot go on after one.
type FrameError struct {
	Offset int64 // of the message in the stream
	Type   Type  // 0 if the header itself was bad
	Msg    string
}

func (e *FrameError) Error() string {
	if e.Type == 0 {
		return fmt.Sprintf("casync protocol: bad message at offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("casync protocol: bad %s message at offset %d: %s", e.Type, e.Offset, e.Msg)
}

// Reader reads messages from a stream.
type Reader struct {
	r   *bufio.Reader
	off int64
}

// NewReader returns a reader of the messages of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// Offset returns the number of bytes read so far: the offset of the next
// message.
func (r *Reader) Offset() int64 { return r.off }

// ReadMessage reads and validates the next message. At the end of the
// stream before a message starts it returns io.EOF; a stream that ends
// inside a message is io.ErrUnexpectedEOF; a message that breaks the rules
// is a *FrameError.
func (r *Reader) ReadMessage() (*Message, error) {
	start := r.off
	var hdr [HeaderSize]byte
	n, err := io.ReadFull(r.r, hdr[:])
	r.off += int64(n)
	if err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint64(hdr[0:])
	typ := Type(binary.LittleEndian.Uint64(hdr[8:]))
	bad := func(t Type, format string, a ...any) error {
		return &FrameError{Offset: start, Type: t, Msg: fmt.Sprintf(format, a...)}
	}
	if size < HeaderSize || size > MaxMessageSize {
		return nil, bad(0, "size %d is outside %d…%d", size, HeaderSize, MaxMessageSize)
	}
	if err := checkSize(typ, size); err != nil {
		if errors.Is(err, errUnknownType) {
			return nil, bad(0, "unknown message type %#x (size %d)", uint64(typ), size)
		}
		return nil, bad(typ, "%v", err)
	}
	body, err := r.readBody(int(size - HeaderSize))
	if err != nil {
		return nil, err
	}
	m, err := decode(typ, body)
	if err != nil {
		return nil, bad(typ, "%v", err)
	}
	return m, nil
}

// readBody reads n bytes, growing the buffer as data arrives so that a
// header promising 16 MiB costs memory only once the bytes come.
func (r *Reader) readBody(n int) ([]byte, error) {
	const step = 256 << 10
	b := make([]byte, 0, min(n, step))
	for len(b) < n {
		k := min(n-len(b), step)
		if cap(b)-len(b) < k {
			b = append(b, make([]byte, k)...)[:len(b)]
		}
		got, err := io.ReadFull(r.r, b[len(b):len(b)+k])
		r.off += int64(got)
		b = b[:len(b)+got]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return b, nil
}

// checkSize applies the size rule of the message type (the whole message,
// header included).
func checkSize(t Type, size uint64) error {
	exact := func(want uint64) error {
		if size != want {
			return fmt.Errorf("size %d, want %d", size, want)
		}
		return nil
	}
	least := func(want uint64) error {
		if size < want {
			return fmt.Errorf("size %d, want at least %d", size, want)
		}
		return nil
	}
	switch t {
	case Hello:
		return exact(24)
	case Index, Archive:
		return least(17)
	case IndexEOF, ArchiveEOF, Goodbye:
		return exact(16)
	case Request:
		if err := least(24 + 32); err != nil {
			return err
		}
		if (size-24)%32 != 0 {
			return fmt.Errorf("size %d is not 24 + 32 × IDs", size)
		}
		return nil
	case Chunk:
		return least(57)
	case Missing:
		return exact(48)
	case Abort:
		return least(25)
	}
	return errUnknownType
}

var errUnknownType = errors.New("unknown message type")

// decode decodes the body of a message whose size is right for its type.
func decode(t Type, b []byte) (*Message, error) {
	m := &Message{Type: t}
	le := binary.LittleEndian
	switch t {
	case Hello:
		m.Flags = le.Uint64(b)
		if err := checkFeatures(m.Flags); err != nil {
			return nil, err
		}
	case Index, Archive:
		m.Data = b
	case Request:
		m.Flags = le.Uint64(b)
		if m.Flags&^HighPriority != 0 {
			return nil, fmt.Errorf("flags %#x: only HIGH_PRIORITY (1) is defined", m.Flags)
		}
		b = b[8:]
		m.IDs = make([]chunk.ID, len(b)/32)
		for i := range m.IDs {
			copy(m.IDs[i][:], b[32*i:])
		}
	case Chunk:
		m.Flags = le.Uint64(b)
		if m.Flags&^Compressed != 0 {
			return nil, fmt.Errorf("flags %#x: only COMPRESSED (1) is defined", m.Flags)
		}
		copy(m.ID[:], b[8:40])
		m.Data = b[40:]
	case Missing:
		copy(m.ID[:], b)
	case Abort:
		m.Errno = le.Uint64(b)
		if m.Errno >= maxErrno {
			return nil, fmt.Errorf("errno %d is out of range", m.Errno)
		}
		reason, err := checkReason(b[8:])
		if err != nil {
			return nil, err
		}
		m.Reason = reason
	}
	return m, nil
}

// checkFeatures applies casync's rule for HELLO flags: not 0, not all
// ones, no undefined bit.
func checkFeatures(f uint64) error {
	switch {
	case f == 0:
		return errors.New("feature flags are 0")
	case f == ^uint64(0):
		return errors.New("feature flags are all ones")
	case f&^FeatureMask != 0:
		return fmt.Errorf("feature flags %#x have undefined bits %#x", f, f&^FeatureMask)
	}
	return nil
}

// checkReason returns an ABORT's reason: printable text ending in one NUL.
func checkReason(b []byte) (string, error) {
	if b[len(b)-1] != 0 {
		return "", errors.New("reason is not NUL-terminated")
	}
	s := string(b[:len(b)-1])
	if !utf8.ValidString(s) {
		return "", errors.New("reason is not valid UTF-8")
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "", fmt.Errorf("reason holds a control character %#x", c)
		}
	}
	return s, nil
}
