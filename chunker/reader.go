package chunker

import (
	"errors"
	"io"
)

// Reader cuts a stream into chunks. It reads through one buffer of at least
// twice the maximum chunk size, so memory stays flat however long the stream.
type Reader struct {
	c     *Chunker
	r     io.Reader
	buf   []byte
	start int // start of the unconsumed data in buf
	end   int // end of the valid data in buf
	eof   bool
	err   error
	off   uint64 // stream offset of buf[start]
}

// NewReader returns a Reader that cuts r with c.
func NewReader(r io.Reader, c *Chunker) *Reader {
	size := max(2*c.max, 1<<20)
	return &Reader{c: c, r: r, buf: make([]byte, size)}
}

// Next returns the next chunk and its offset in the stream. The slice is only
// valid until the next call. After the last chunk Next returns io.EOF; a read
// error from the underlying reader is returned as is.
func (r *Reader) Next() (data []byte, offset uint64, err error) {
	for {
		avail := r.buf[r.start:r.end]
		if n := r.c.Next(avail, r.eof); n > 0 {
			off := r.off
			r.start += n
			r.off += uint64(n)
			return avail[:n:n], off, nil
		}
		if r.eof {
			if r.err != nil {
				return nil, r.off, r.err
			}
			return nil, r.off, io.EOF
		}
		r.fill()
	}
}

// fill moves the unconsumed bytes to the front of the buffer and reads until
// the buffer is full or the stream ends.
func (r *Reader) fill() {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	for r.end < len(r.buf) {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			return
		}
	}
}
