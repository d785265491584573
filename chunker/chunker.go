package chunker

import (
	"math/bits"
)

// Chunker finds casync chunk boundaries. It holds only the derived constants
// of a [Params]: casync restarts the rolling hash at every chunk start, so one
// chunk's boundary depends on nothing but that chunk's bytes, and a Chunker is
// safe for concurrent use.
type Chunker struct {
	p     Params
	min   int
	max   int
	first int    // first length at which a cut may happen: max(min, WindowSize)
	fixed bool   // min == avg == max: every chunk is exactly avg bytes
	d     uint32 // discriminator
	m     uint64 // ceil(2^64 / d), for the divisibility test in isCut
}

// New returns a Chunker for p, or an error if p is not valid.
func New(p Params) (*Chunker, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := p.Discriminator()
	return &Chunker{
		p:     p,
		min:   int(p.Min),
		max:   int(p.Max),
		first: max(int(p.Min), WindowSize),
		fixed: p.Fixed(),
		d:     uint32(d),
		m:     ^uint64(0)/d + 1, // wraps to 0 for d == 1, where every hash is a cut
	}, nil
}

// Params returns the sizes c was made with.
func (c *Chunker) Params() Params { return c.p }

// Next returns the length of the chunk that starts at data[0].
//
// If atEOF is false and data does not yet hold the whole chunk, Next returns 0:
// call again with more data. Holding Params().Max bytes is always enough. With
// atEOF true, the rest of data is the final chunk when no boundary is found;
// Next returns 0 only for empty data.
func (c *Chunker) Next(data []byte, atEOF bool) int {
	n := len(data)
	if c.fixed {
		switch {
		case n >= c.max:
			return c.max
		case atEOF:
			return n
		}
		return 0
	}
	if n < c.first {
		if atEOF {
			return n
		}
		return 0
	}
	limit := min(n, c.max)

	var h uint32
	for _, b := range data[c.first-WindowSize : c.first] {
		h = bits.RotateLeft32(h, 1) ^ buzTable[b]
	}
	if i, ok := c.scan(data[:limit], h); ok {
		return i
	}
	switch {
	case limit == c.max:
		return c.max
	case atEOF:
		return n
	}
	return 0
}

// scan rolls the hash over data, starting with h being the hash of the window
// that ends at c.first. It returns the first length L ≥ c.first (L ≤ len(data))
// at which the hash of the window ending at L is a cut.
func (c *Chunker) scan(data []byte, h uint32) (int, bool) {
	start := c.first
	if c.isCut(h) {
		return start, true
	}
	in := data[start:]
	out := data[start-WindowSize : len(data)-WindowSize]
	out = out[:len(in)] // lets the compiler drop the bounds checks below
	m, m1 := c.m, c.m-1
	tab, rot := &buzTable, &buzTableOut
	i := 0
	// Four bytes per round. The hash is a serial chain; the parentheses keep
	// the two lookups off it, so each byte adds only a rotate and an xor.
	for ; i+4 <= len(in); i += 4 {
		in4, out4 := in[i:i+4:i+4], out[i:i+4:i+4]
		h = bits.RotateLeft32(h, 1) ^ (rot[out4[0]] ^ tab[in4[0]])
		if isCutFast(h, m, m1) {
			return start + i + 1, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[out4[1]] ^ tab[in4[1]])
		if isCutFast(h, m, m1) {
			return start + i + 2, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[out4[2]] ^ tab[in4[2]])
		if isCutFast(h, m, m1) {
			return start + i + 3, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[out4[3]] ^ tab[in4[3]])
		if isCutFast(h, m, m1) {
			return start + i + 4, true
		}
	}
	for ; i < len(in); i++ {
		h = bits.RotateLeft32(h, 1) ^ (rot[out[i]] ^ tab[in[i]])
		if isCutFast(h, m, m1) {
			return start + i + 1, true
		}
	}
	return 0, false
}

// buzTableOut holds each table value rotated as it is when its byte leaves
// the window, WindowSize rolls after it entered.
var buzTableOut = func() (t [256]uint32) {
	for i, v := range buzTable {
		t[i] = bits.RotateLeft32(v, WindowSize%32)
	}
	return t
}()

// isCutFast is isCut without a division, for m = ceil(2^64/d) and m1 = m-1:
// h mod d == d-1 exactly when d divides h+1, and Lemire's divisibility test
// for that is (h+1)·m ≤ m-1 in 64-bit arithmetic. It is exact because h+1
// has at most 33 bits and d (≤ MaxSizeLimit) at most 27 (TestCutTest).
func isCutFast(h uint32, m, m1 uint64) bool { return (uint64(h)+1)*m <= m1 }

// isCut is the reference form of the boundary test.
func (c *Chunker) isCut(h uint32) bool { return h%c.d == c.d-1 }

// Split returns the end offsets of all chunks of data, in order; the last is
// len(data). An empty input has no chunks.
func (c *Chunker) Split(data []byte) []int {
	ends := make([]int, 0, len(data)/int(c.p.Avg)+1)
	for pos := 0; pos < len(data); {
		pos += c.Next(data[pos:], true)
		ends = append(ends, pos)
	}
	return ends
}
