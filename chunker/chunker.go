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
	// At step j, d[j] leaves the window and d[j+WindowSize] enters it; a cut
	// there is at length start+j+1.
	d := data[start-WindowSize:]
	m, negm := c.m, -c.m
	// Through pointer variables, the tables' addresses stay in registers
	// (as globals they are recomputed for every byte), and one nil check
	// here covers the loop.
	tab, rot := tablePtr, tableOutPtr
	_, _ = tab[0], rot[0]
	j := 0
	// Four bytes per round, over a 52-byte view that needs no bounds
	// checks. The hash is a serial chain; the parentheses keep the two
	// lookups off it, so each byte adds only a rotate and an xor.
	for ; len(d) >= WindowSize+4; j, d = j+4, d[4:] {
		x := d[:WindowSize+4]
		h = bits.RotateLeft32(h, 1) ^ (rot[x[0]] ^ tab[x[WindowSize]])
		if isCutFast(h, m, negm) {
			return start + j + 1, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[x[1]] ^ tab[x[WindowSize+1]])
		if isCutFast(h, m, negm) {
			return start + j + 2, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[x[2]] ^ tab[x[WindowSize+2]])
		if isCutFast(h, m, negm) {
			return start + j + 3, true
		}
		h = bits.RotateLeft32(h, 1) ^ (rot[x[3]] ^ tab[x[WindowSize+3]])
		if isCutFast(h, m, negm) {
			return start + j + 4, true
		}
	}
	for ; len(d) > WindowSize; j, d = j+1, d[1:] {
		h = bits.RotateLeft32(h, 1) ^ (rot[d[0]] ^ tab[d[WindowSize]])
		if isCutFast(h, m, negm) {
			return start + j + 1, true
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

// tablePtr and tableOutPtr are what scan reads the tables through.
var tablePtr, tableOutPtr = &buzTable, &buzTableOut

// isCutFast is isCut without a division, for m = ceil(2^64/d) and negm =
// -m (mod 2^64): h mod d == d-1 exactly when d divides h+1, and Lemire's
// divisibility test for that is (h+1)·m ≤ m-1 in 64-bit arithmetic. It is
// exact because h+1 has at most 33 bits and d (≤ MaxSizeLimit) at most 27
// (TestCutTest). Written as h·m + m < m, it holds exactly when the add
// wraps, that is when h·m ≥ -m: one multiply and one compare per byte.
func isCutFast(h uint32, m, negm uint64) bool { return uint64(h)*m >= negm }

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
