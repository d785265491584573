package caindex

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/folbricht/desync/chunk"
)

// Record constants of the index format.
const (
	headerSize            = 48
	typeIndex      uint64 = 0x96824d9c7b129ff9
	typeTable      uint64 = 0xe75b9e112f17417d
	tailMarker            = 0x4b4f050e5549ecd1
	itemSize              = 40
	tableStart            = headerSize + 16 // first item
	chunkSizeLimit        = 128 << 20
)

// Chunk is one entry of an index: a chunk ID and the range of the stream it
// covers.
type Chunk struct {
	ID    chunk.ID
	Start uint64
	Size  uint64
}

// End is the offset just past the chunk.
func (c Chunk) End() uint64 { return c.Start + c.Size }

// Index is a parsed .caibx or .caidx file.
type Index struct {
	// Flags are the feature flags; they select the digest (FlagSHA512_256)
	// and, for .caidx, the archive features.
	Flags         uint64
	Min, Avg, Max uint64
	Chunks        []Chunk
}

// New returns an empty blob index with the flags casync make writes for d.
func New(d chunk.Digest, minSize, avgSize, maxSize uint64) *Index {
	flags := BlobFlags
	if d == chunk.SHA256 {
		flags &^= FlagSHA512_256
	}
	return &Index{Flags: flags, Min: minSize, Avg: avgSize, Max: maxSize}
}

// Digest returns the hash that names the index's chunks.
func (ix *Index) Digest() chunk.Digest {
	if ix.Flags&FlagSHA512_256 != 0 {
		return chunk.SHA512_256
	}
	return chunk.SHA256
}

// Size returns the length of the indexed stream.
func (ix *Index) Size() uint64 {
	if len(ix.Chunks) == 0 {
		return 0
	}
	return ix.Chunks[len(ix.Chunks)-1].End()
}

// Unique returns the first occurrence of each distinct chunk ID, in order.
func (ix *Index) Unique() []Chunk {
	seen := make(map[chunk.ID]struct{}, len(ix.Chunks))
	var out []Chunk
	for _, c := range ix.Chunks {
		if _, ok := seen[c.ID]; !ok {
			seen[c.ID] = struct{}{}
			out = append(out, c)
		}
	}
	return out
}

// FormatError reports a malformed index and where.
type FormatError struct {
	Path   string // the file, when known
	Offset int64  // byte offset in the index of the offending field
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("index %s: offset %d: %s", e.Path, e.Offset, e.Msg)
	}
	return fmt.Sprintf("index: offset %d: %s", e.Offset, e.Msg)
}

func formatErr(off int64, format string, a ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, a...)}
}

// checkHeader validates the header fields; off is the offset of the flags.
func checkHeader(flags, minSize, avgSize, maxSize uint64) error {
	switch {
	case flags&^knownMask != 0:
		return formatErr(16, "feature flags %#x have unknown bits %#x", flags, flags&^knownMask)
	case Normalize(flags) != flags:
		return formatErr(16, "feature flags %#x are not normalized (want %#x)", flags, Normalize(flags))
	case minSize < 1 || minSize > chunkSizeLimit:
		return formatErr(24, "min chunk size %d out of range [1, %d]", minSize, chunkSizeLimit)
	case avgSize < 1 || avgSize > chunkSizeLimit:
		return formatErr(32, "avg chunk size %d out of range [1, %d]", avgSize, chunkSizeLimit)
	case maxSize < 1 || maxSize > chunkSizeLimit:
		return formatErr(40, "max chunk size %d out of range [1, %d]", maxSize, chunkSizeLimit)
	case minSize > avgSize:
		return formatErr(24, "min chunk size %d above avg %d", minSize, avgSize)
	case avgSize > maxSize:
		return formatErr(32, "avg chunk size %d above max %d", avgSize, maxSize)
	}
	return nil
}

// Read parses and validates an index as casync does: exact header, normalized
// flags without unknown bits, sizes in [1, 128 MiB] and ordered, strictly
// increasing chunk ends, no chunk larger than max, a consistent tail and
// nothing after it. Errors are *FormatError with the offending offset.
func Read(r io.Reader) (*Index, error) {
	hint := chunkHint(r) // before any of r is read
	cr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	ix := cr.Header()
	ix.Chunks = make([]Chunk, 0, hint)
	for {
		c, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return ix, nil
		}
		if err != nil {
			return nil, err
		}
		ix.Chunks = append(ix.Chunks, c)
	}
}

// Reader reads an index a chunk at a time, validating it as [Read] does, so
// that an index of any length is read with a fixed buffer.
type Reader struct {
	br   *bufio.Reader
	hdr  Index
	src  io.Reader // what SizeHint reads ahead in
	off  int64     // offset of the next item
	end  uint64    // end of the last chunk
	n    uint64    // chunks read
	err  error     // io.EOF after the tail, or the error that stopped the reader
	item [itemSize]byte
}

// NewReader reads and validates the header of the index r holds.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [tableStart]byte
	if n, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, readErr(int64(n), err, "truncated header (%d of %d bytes)", n, len(hdr))
	}
	le := binary.LittleEndian
	if v := le.Uint64(hdr[0:]); v != headerSize {
		return nil, formatErr(0, "header size %d, want %d", v, headerSize)
	}
	if v := le.Uint64(hdr[8:]); v != typeIndex {
		return nil, formatErr(8, "not an index (type %#x)", v)
	}
	ix := Index{Flags: le.Uint64(hdr[16:]), Min: le.Uint64(hdr[24:]), Avg: le.Uint64(hdr[32:]), Max: le.Uint64(hdr[40:])}
	if err := checkHeader(ix.Flags, ix.Min, ix.Avg, ix.Max); err != nil {
		return nil, err
	}
	if v := le.Uint64(hdr[48:]); v != ^uint64(0) {
		return nil, formatErr(48, "table header size %#x, want 0xffffffffffffffff", v)
	}
	if v := le.Uint64(hdr[56:]); v != typeTable {
		return nil, formatErr(56, "table type %#x, want %#x", v, typeTable)
	}
	return &Reader{br: br, hdr: ix, src: r, off: tableStart}, nil
}

// SizeHint is the length of the indexed stream as the end of the index
// gives it, read ahead when the index is a file (or a bytes.Reader); 0 when
// it cannot be read ahead. It is a hint, for progress displays: Next checks
// the chunks, not the hint.
func (r *Reader) SizeHint() uint64 { return sizeAhead(r.src) }

// Header returns a new index with the header's fields and no chunks.
func (r *Reader) Header() *Index {
	h := r.hdr
	return &h
}

// Next returns the next chunk. After the last one it checks the tail and
// that nothing follows it, and returns io.EOF; an invalid index gives a
// *FormatError. Once Next has returned an error, it returns it again.
func (r *Reader) Next() (Chunk, error) {
	if r.err == nil {
		var c Chunk
		if c, r.err = r.next(); r.err == nil {
			return c, nil
		}
	}
	return Chunk{}, r.err
}

func (r *Reader) next() (Chunk, error) {
	le := binary.LittleEndian
	item := r.item[:]
	if n, err := io.ReadFull(r.br, item); err != nil {
		return Chunk{}, readErr(r.off+int64(n), err, "truncated chunk table (no tail after %d chunks)", r.n)
	}
	next := le.Uint64(item[0:])
	if next == 0 { // the tail: two zero words, index offset, table size, marker
		return Chunk{}, r.tail()
	}
	if next <= r.end {
		return Chunk{}, formatErr(r.off, "chunk %d ends at %d, not after the previous end %d", r.n, next, r.end)
	}
	if next-r.end > r.hdr.Max {
		return Chunk{}, formatErr(r.off, "chunk %d is %d bytes, more than the max chunk size %d", r.n, next-r.end, r.hdr.Max)
	}
	c := Chunk{Start: r.end, Size: next - r.end}
	copy(c.ID[:], item[8:])
	r.end = next
	r.off += itemSize
	r.n++
	return c, nil
}

// tail checks the tail item just read and that nothing follows it; it
// returns io.EOF when all is well.
func (r *Reader) tail() error {
	le := binary.LittleEndian
	item, off, n := r.item[:], r.off, r.n
	switch {
	case le.Uint64(item[8:]) != 0:
		return formatErr(off+8, "bad table tail: second word %#x, want 0", le.Uint64(item[8:]))
	case le.Uint64(item[16:]) != headerSize:
		return formatErr(off+16, "bad table tail: index offset %d, want %d", le.Uint64(item[16:]), headerSize)
	case le.Uint64(item[24:]) != 16+itemSize*n+itemSize:
		return formatErr(off+24, "bad table tail: table size %d, want %d for %d chunks", le.Uint64(item[24:]), 16+itemSize*n+itemSize, n)
	case le.Uint64(item[32:]) != tailMarker:
		return formatErr(off+32, "bad table tail marker %#x", le.Uint64(item[32:]))
	}
	off += itemSize
	if _, err := r.br.ReadByte(); err == nil {
		return formatErr(off, "data after the end of the index")
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the index at offset %d: %w", off, err)
	}
	return io.EOF
}

// maxChunkHint caps the table Read allocates up front, 48 MiB: the size
// of a file is not yet validated, and a larger index grows as it is read.
const maxChunkHint = 1 << 20

// chunkHint is the number of chunks of an index of r's size, when r tells
// its size (a regular file, a bytes.Reader), so that Read allocates the
// table once instead of growing it (which allocated about five times its
// final size, the last copy up to a quarter too large); 0 otherwise.
func chunkHint(r io.Reader) int {
	return int(min(max((readerSize(r)-tableStart-itemSize)/itemSize, 0), maxChunkHint))
}

// readerSize is the size of r when r tells it (a regular file, a
// bytes.Reader), else 0.
func readerSize(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	case interface{ Len() int }:
		return int64(v.Len())
	}
	return 0
}

// sizeAhead reads the end of the last chunk from the end of r, when r is a
// regular file or a bytes.Reader (whose ReadAt and Size count from its
// start) of an index of at least one chunk; else 0.
func sizeAhead(r io.Reader) uint64 {
	ra, ok := r.(io.ReaderAt)
	var size int64
	switch v := r.(type) {
	case interface{ Size() int64 }:
		size = v.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		size = readerSize(r)
	}
	if !ok || size < tableStart+2*itemSize {
		return 0
	}
	var b [8]byte
	if _, err := ra.ReadAt(b[:], size-2*itemSize); err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

// readErr reports a read that failed at offset off: an index that ends
// there is a *FormatError with the message format; any other error (of the
// file, the network, a size cap) is returned as it is, with the offset.
func readErr(off int64, err error, format string, args ...any) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr(off, format, args...)
	}
	return fmt.Errorf("reading the index at offset %d: %w", off, err)
}

// ReadFile reads and validates the index at path; errors name the file.
func ReadFile(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ix, err := Read(f)
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return ix, err
}

// Validate checks that ix can be written as a valid index: the header rules of
// Read, chunks that are contiguous from 0, non-empty and no larger than Max.
func (ix *Index) Validate() error {
	if err := checkHeader(ix.Flags, ix.Min, ix.Avg, ix.Max); err != nil {
		return err
	}
	var end uint64
	for i, c := range ix.Chunks {
		if err := checkChunk(uint64(i), c, end, ix.Max); err != nil {
			return err
		}
		end = c.End()
	}
	return nil
}

// WriteTo writes ix in casync's format, byte-identical to what casync writes
// for the same chunks and flags. An index that is not valid (Validate) is
// not written at all.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	if err := ix.Validate(); err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	iw, err := NewWriter(cw, ix.Flags, ix.Min, ix.Avg, ix.Max)
	if err != nil {
		return 0, err
	}
	for _, c := range ix.Chunks {
		if err := iw.Add(c); err != nil {
			return cw.n, err
		}
	}
	err = iw.Close()
	return cw.n, err
}
