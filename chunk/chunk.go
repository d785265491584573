package chunk

import (
	"bytes"
	"fmt"
	"sync"
)

// Chunk is one chunk in its plain form, its stored form (as a Converter
// encodes it, e.g. zstd), or both; the missing form is produced on first use
// and kept. A Chunk is safe for concurrent use, so stores that share one
// fetch among several callers can hand out the same Chunk; the byte slices it
// returns are shared and must not be modified.
type Chunk struct {
	mu     sync.Mutex // guards the lazy conversions and release
	id     ID
	plain  []byte
	stored []byte
	conv   Converter // the converter stored was made with
	buf    *[]byte   // plain's pooled buffer, given back by Release
	shared bool      // Release does nothing
}

// New returns a chunk holding plain data. It does not hash: id must be the
// digest of plain (see [Chunk.Verify]).
func New(id ID, plain []byte) *Chunk { return &Chunk{id: id, plain: plain} }

// bufPool holds the plain buffers of chunks made by Load, which Release
// gives back.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// Load decodes a chunk read from a store into a pooled buffer and, if verify
// is set, checks that it hashes to id under d. A failure of either is an
// *InvalidError, whose Store the caller fills in. Stores make their chunks
// with Load, so that a reader going through many chunks, and releasing each
// ([Chunk.Release]) when done, reuses a few buffers instead of leaving one
// per chunk to the garbage collector.
func Load(id ID, stored []byte, conv Converter, d Digest, verify bool) (*Chunk, error) {
	b := bufPool.Get().(*[]byte)
	plain, err := conv.Decode((*b)[:0], stored)
	if err != nil {
		bufPool.Put(b)
		return nil, &InvalidError{ID: id, Err: err}
	}
	*b = plain
	c := &Chunk{id: id, plain: plain, buf: b}
	if verify {
		if err := c.Verify(d); err != nil {
			c.Release()
			return nil, err
		}
	}
	return c, nil
}

// LoadOwned is Load for a stored buffer the caller hands over, such as a
// freshly downloaded body: the chunk also keeps it as its stored form, so
// passing the chunk on to a store of the same form (a cache in front of a
// remote store, a chunk server) does not encode it again.
func LoadOwned(id ID, stored []byte, conv Converter, d Digest, verify bool) (*Chunk, error) {
	c, err := Load(id, stored, conv, d, verify)
	if err != nil {
		return nil, err
	}
	c.stored, c.conv = stored, conv
	return c, nil
}

// Share marks c as held by more than one holder, so that Release leaves its
// buffer alone. A store that hands one chunk to several callers, or keeps a
// chunk after returning it, calls Share first.
func (c *Chunk) Share() {
	c.mu.Lock()
	c.shared = true
	c.mu.Unlock()
}

// Release tells c that its caller is done with it and with every slice it
// returned. A chunk made by [Load] that was not shared gives its buffer back
// to the pool, and must not be used again. Releasing any other chunk does
// nothing, and not releasing a chunk is never wrong: its buffer is then
// collected.
func (c *Chunk) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil || c.shared {
		return
	}
	*c.buf = (*c.buf)[:0]
	bufPool.Put(c.buf)
	c.buf, c.plain, c.stored = nil, nil, nil
}

// NewStored returns a chunk holding data as conv stores it.
func NewStored(id ID, stored []byte, conv Converter) *Chunk {
	return &Chunk{id: id, stored: stored, conv: conv}
}

// ID returns the chunk's name.
func (c *Chunk) ID() ID { return c.id }

// Plain returns the uncompressed content, decoding it on first use. A decoding
// failure is an *InvalidError.
func (c *Chunk) Plain() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plain == nil {
		if c.stored == nil {
			return nil, fmt.Errorf("chunk %s: used after Release", c.id)
		}
		b, err := c.conv.Decode(nil, c.stored)
		if err != nil {
			return nil, &InvalidError{ID: c.id, Err: err}
		}
		c.plain = b
	}
	return c.plain, nil
}

// Stored returns the content as conv stores it, encoding on first use. If the
// chunk arrived in conv's form it is returned unchanged.
func (c *Chunk) Stored(conv Converter) ([]byte, error) {
	if b, ok := c.StoredAs(conv); ok {
		return b, nil
	}
	plain, err := c.Plain()
	if err != nil {
		return nil, err
	}
	b, err := conv.Encode(nil, plain)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", c.id, err)
	}
	c.mu.Lock()
	c.stored, c.conv = b, conv
	c.mu.Unlock()
	return b, nil
}

// StoredAs returns the stored form if the chunk holds it as conv encodes it
// (for zstd, any zstd frame will do), without encoding.
func (c *Chunk) StoredAs(conv Converter) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored != nil && storedFits(c.conv, conv, c.stored) {
		return c.stored, true
	}
	return nil, false
}

// storedFits reports whether stored, as converter have decodes it, is
// want's stored form. For a zstd store that is any zstd frame (levels and
// size caps may differ; any frame is a valid .cacnk), but not a gzip
// member, which Zstd also decodes (a download from a casync gzip store
// arrives that way). For an encrypted store it is a chunk encrypted with
// the same algorithm and key over the same kind of compression: never one
// of another key, nor a plain or zstd chunk. Otherwise the converter must
// be the same.
func storedFits(have, want Converter, stored []byte) bool {
	switch w := want.(type) {
	case *Zstd:
		_, h := have.(*Zstd)
		return h && bytes.HasPrefix(stored, magicZstd)
	case *Encrypted:
		h, ok := have.(*Encrypted)
		return ok && sameEncryption(h, w)
	}
	return have == want
}

// Verify decodes the chunk if needed and checks that its content hashes to its
// ID under d. A mismatch is an *InvalidError carrying both IDs.
func (c *Chunk) Verify(d Digest) error {
	plain, err := c.Plain()
	if err != nil {
		return err
	}
	if sum := d.Sum(plain); sum != c.id {
		return &InvalidError{ID: c.id, Sum: sum}
	}
	return nil
}
