package caindex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// Writer writes an index a chunk at a time, as the chunks become known, so
// that an index of any length is written with a fixed buffer. Its output is
// byte-identical to [Index.WriteTo]'s for the same chunks. Chunks must come
// in order, each starting where the previous one ended; [Writer.Close]
// writes the tail. Until then w holds an incomplete index, so write to a
// temporary file that is renamed into place after Close.
type Writer struct {
	w        *bufio.Writer
	max      uint64
	n, end   uint64
	item     [itemSize]byte
	closed   bool
	writeErr error // the first error of w, returned from then on
}

// NewWriter checks the header fields (as [Read] does) and returns a Writer
// that writes an index with them to w.
func NewWriter(w io.Writer, flags, minSize, avgSize, maxSize uint64) (*Writer, error) {
	if err := checkHeader(flags, minSize, avgSize, maxSize); err != nil {
		return nil, err
	}
	iw := &Writer{w: bufio.NewWriterSize(w, 64<<10), max: maxSize}
	for _, v := range []uint64{headerSize, typeIndex, flags, minSize, avgSize, maxSize, ^uint64(0), typeTable} {
		iw.word(v)
	}
	return iw, nil
}

// word appends one little-endian field.
func (iw *Writer) word(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	iw.put(b[:])
}

func (iw *Writer) put(b []byte) {
	if iw.writeErr == nil {
		_, iw.writeErr = iw.w.Write(b)
	}
}

// Add appends c, which must start where the previous chunk ended (at 0 for
// the first) and be 1 to max bytes long; a chunk that is not is refused
// with a *FormatError naming the offset its item would have had.
func (iw *Writer) Add(c Chunk) error {
	if iw.closed {
		return errors.New("index writer: chunk added after Close")
	}
	if err := checkChunk(iw.n, c, iw.end, iw.max); err != nil {
		return err
	}
	if iw.writeErr != nil {
		return iw.writeErr
	}
	iw.end = c.End()
	iw.n++
	binary.LittleEndian.PutUint64(iw.item[:], iw.end)
	copy(iw.item[8:], c.ID[:])
	iw.put(iw.item[:])
	return iw.writeErr
}

// Chunks returns the number of chunks added.
func (iw *Writer) Chunks() uint64 { return iw.n }

// Close writes the tail and flushes the buffer. It does not close the
// underlying writer. A second Close does nothing.
func (iw *Writer) Close() error {
	if iw.closed {
		return iw.writeErr
	}
	iw.closed = true
	for _, v := range []uint64{0, 0, headerSize, 16 + itemSize*iw.n + itemSize, tailMarker} {
		iw.word(v)
	}
	if iw.writeErr == nil {
		iw.writeErr = iw.w.Flush()
	}
	return iw.writeErr
}

// checkChunk checks that c, the i-th chunk of an index, starts at end and
// is 1 to max bytes long.
func checkChunk(i uint64, c Chunk, end, max uint64) error {
	if c.Start != end || c.Size == 0 || c.Size > max {
		return formatErr(tableStart+int64(i)*itemSize, "chunk %d [%d,+%d) does not continue at %d with a size in [1, %d]", i, c.Start, c.Size, end, max)
	}
	return nil
}

// countingWriter counts what it passes on.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
