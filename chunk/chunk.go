package chunk

import (
	"fmt"
	"sync"
)

// Chunk is one chunk in its plain form, its stored form (as a Converter
// encodes it, e.g. zstd), or both; the missing form is produced on first use
// and kept. A Chunk is safe for concurrent use, so stores that share one
// fetch among several callers can hand out the same Chunk; the byte slices it
// returns are shared and must not be modified.
type Chunk struct {
	mu     sync.Mutex // guards the lazy conversions
	id     ID
	plain  []byte
	stored []byte
	conv   Converter // the converter stored was made with
}

// New returns a chunk holding plain data. It does not hash: id must be the
// digest of plain (see [Chunk.Verify]).
func New(id ID, plain []byte) *Chunk { return &Chunk{id: id, plain: plain} }

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

// StoredAs returns the stored form if the chunk holds it as conv encodes it,
// without encoding.
func (c *Chunk) StoredAs(conv Converter) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stored != nil && c.conv == conv {
		return c.stored, true
	}
	return nil, false
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
