// Package gendata generates deterministic test and benchmark inputs.
//
// Every generator streams its output to an io.Writer in fixed-size blocks, so
// memory use does not depend on the size of the output: a 100 GiB file costs
// the same memory as a 1 MiB one. The same arguments always give the same
// bytes, on every platform and Go version: the generators use only AES-128-CTR
// and a self-contained SplitMix64 PRNG, never math/rand, whose output is not
// promised to be stable across releases.
//
// Keys and seeds:
//
//   - Random(w, n, seed) is the first n bytes of the AES-128-CTR keystream with
//     an all-zero IV and the 16-byte key 00…00 || big-endian uint64(seed), so it
//     can be reproduced outside Go with
//     head -c n /dev/zero | openssl enc -aes-128-ctr -K $(printf '%032x' seed) -iv 0
//     (the same construction as the casync reference vectors).
//   - Mixed and Edit draw their random bytes from keystreams whose key has a
//     non-zero first byte (a domain tag), so they never repeat Random's bytes
//     for the same seed.
package gendata

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// blockSize is the unit in which every generator writes. It bounds the
// memory held by a generator, independent of the output size.
const blockSize = 1 << 20

// Key domains: the first byte of the AES key, so that the generators' random
// streams differ for the same seed.
const (
	domainRandom byte = 0
	domainMixed  byte = 1
	domainEdit   byte = 2
)

// Bounds of Mixed's regions and Edit's operations.
const (
	minRegion = 64 << 10
	maxRegion = 8 << 20
	maxEditOp = 64 << 10
	editOps   = 20
)

// Key returns the AES-128 key Random uses for seed: eight zero bytes followed
// by the seed in big-endian order.
func Key(seed uint64) [16]byte {
	return domainKey(domainRandom, seed)
}

func domainKey(domain byte, seed uint64) [16]byte {
	var k [16]byte
	k[0] = domain
	binary.BigEndian.PutUint64(k[8:], seed)
	return k
}

// Random writes size bytes of the AES-128-CTR keystream for Key(seed) with a
// zero IV to w. The output does not compress.
func Random(w io.Writer, size int64, seed uint64) error {
	return emit(w, size, newKeystream(domainRandom, seed))
}

// Text writes size bytes of text lines to w: a line number followed by words
// from a small vocabulary, numbers, and punctuation (the first line number
// depends on the seed), chosen by a PRNG seeded
// with seed. It compresses with zstd to roughly a third of its size, like
// logs or prose, rather than to almost nothing like a repeated line. The last
// line is cut at size.
func Text(w io.Writer, size int64, seed uint64) error {
	return emit(w, size, newTextSource(seed))
}

// Mixed writes size bytes to w made of consecutive regions of random bytes,
// text and zero bytes. Each region's kind and length are drawn from a PRNG
// seeded with seed: about 45% of the regions are random, 45% text and 10%
// zeros, with lengths log-uniformly distributed between 64 KiB and 8 MiB (the
// last region is cut at size). Within the file, the random regions continue
// a single keystream and the text regions a single line sequence, so no two
// regions repeat each other.
func Mixed(w io.Writer, size int64, seed uint64) error {
	if size < 0 {
		return fmt.Errorf("gendata: negative size %d", size)
	}
	rng := newPRNG(seed ^ 0x6d69786564) // "mixed"
	rnd := newKeystream(domainMixed, seed)
	txt := newTextSource(seed ^ 0x74657874) // "text"
	var zero zeroSource
	buf := make([]byte, blockSize)
	for size > 0 {
		var src source
		switch p := rng.intn(100); {
		case p < 45:
			src = rnd
		case p < 90:
			src = txt
		default:
			src = zero
		}
		n := min(rng.logUniform(minRegion, maxRegion), size)
		if err := emitBuf(w, n, src, buf); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// EditOp is one change Edit applies to its base.
type EditOp struct {
	Kind   EditKind
	Offset int64 // offset in the base
	Len    int64 // bytes inserted, deleted or overwritten
}

// EditKind is the kind of an EditOp.
type EditKind int

// Kinds of edit.
const (
	Insert EditKind = iota
	Delete
	Overwrite
)

func (k EditKind) String() string {
	switch k {
	case Insert:
		return "insert"
	case Delete:
		return "delete"
	case Overwrite:
		return "overwrite"
	}
	return fmt.Sprintf("EditKind(%d)", int(k))
}

// EditOps returns the changes Edit makes to a base of baseSize bytes for
// seed, in increasing, non-overlapping offset order. There are about 20,
// one in each of 20 equal slices of the base, at a pseudo-random offset
// within the slice, each an insert, a delete or an overwrite of 1 B to 64 KiB
// (log-uniform). Deletes and overwrites are cut short so they never reach the
// next change or the end of the base; one that would be empty is dropped.
func EditOps(baseSize int64, seed uint64) []EditOp {
	if baseSize < 0 {
		return nil
	}
	rng := newPRNG(seed ^ 0x65646974) // "edit"
	ops := make([]EditOp, 0, editOps)
	for i := int64(0); i < editOps; i++ {
		lo := baseSize * i / editOps
		hi := baseSize * (i + 1) / editOps
		off := lo
		if hi > lo {
			off = lo + rng.int63n(hi-lo)
		}
		op := EditOp{
			Kind:   EditKind(rng.intn(3)),
			Offset: off,
			Len:    rng.logUniform(1, maxEditOp),
		}
		if op.Kind != Insert {
			// Stay inside this slice, so the ops stay ordered and
			// disjoint, and inside the base.
			op.Len = min(op.Len, hi-off)
			if op.Len == 0 {
				continue
			}
		}
		ops = append(ops, op)
	}
	return ops
}

// Edit writes to w a copy of the first baseSize bytes of base with the
// changes EditOps(baseSize, seed) applied: inserted and overwriting bytes
// come from an AES-CTR keystream derived from seed. Most of the base is
// copied unchanged, so the output shares most of its chunks with base.
func Edit(w io.Writer, base io.ReaderAt, baseSize int64, seed uint64) error {
	if baseSize < 0 {
		return fmt.Errorf("gendata: negative base size %d", baseSize)
	}
	rnd := newKeystream(domainEdit, seed)
	buf := make([]byte, blockSize)
	var pos int64 // next base offset to copy
	copyBase := func(end int64) error {
		for pos < end {
			n := min(int64(len(buf)), end-pos)
			m, err := base.ReadAt(buf[:n], pos)
			if int64(m) < n {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("gendata: reading base at offset %d: %w", pos+int64(m), err)
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			pos += n
		}
		return nil
	}
	for _, op := range EditOps(baseSize, seed) {
		if err := copyBase(op.Offset); err != nil {
			return err
		}
		switch op.Kind {
		case Insert:
			if err := emitBuf(w, op.Len, rnd, buf); err != nil {
				return err
			}
		case Delete:
			pos += op.Len
		case Overwrite:
			if err := emitBuf(w, op.Len, rnd, buf); err != nil {
				return err
			}
			pos += op.Len
		}
	}
	return copyBase(baseSize)
}

// source fills buffers with the next bytes of an endless stream.
type source interface {
	fill(p []byte)
}

func emit(w io.Writer, size int64, src source) error {
	if size < 0 {
		return fmt.Errorf("gendata: negative size %d", size)
	}
	return emitBuf(w, size, src, make([]byte, min(size, blockSize)))
}

// emitBuf writes the next n bytes of src to w, through buf.
func emitBuf(w io.Writer, n int64, src source, buf []byte) error {
	for n > 0 {
		b := buf[:min(int64(len(buf)), n)]
		src.fill(b)
		if _, err := w.Write(b); err != nil {
			return err
		}
		n -= int64(len(b))
	}
	return nil
}

// keystream is an AES-128-CTR keystream with a zero IV.
type keystream struct{ s cipher.Stream }

func newKeystream(domain byte, seed uint64) *keystream {
	k := domainKey(domain, seed)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	return &keystream{s: cipher.NewCTR(block, make([]byte, aes.BlockSize))}
}

func (k *keystream) fill(p []byte) {
	clear(p)
	k.s.XORKeyStream(p, p)
}

type zeroSource struct{}

func (zeroSource) fill(p []byte) { clear(p) }

// vocabulary of the text generator. Words are drawn with a skewed
// distribution (see textSource.word) so common words dominate, as in prose.
var vocabulary = [...]string{
	"the", "of", "and", "a", "to", "in", "is", "that", "it", "was",
	"for", "on", "are", "as", "with", "his", "they", "at", "be", "this",
	"from", "have", "or", "by", "one", "had", "not", "but", "what", "all",
	"were", "when", "we", "there", "can", "an", "your", "which", "their", "said",
	"quick", "brown", "fox", "jumps", "over", "lazy", "dog", "chunk", "store", "index",
	"archive", "seed", "buzhash", "window", "boundary", "digest", "extract", "make", "server", "client",
	"request", "response", "timeout", "retry", "error", "warning", "debug", "info", "failed", "succeeded",
	"connection", "remote", "local", "cache", "block", "offset", "length", "checksum", "compressed", "decompressed",
	"file", "directory", "symlink", "device", "owner", "group", "mode", "mtime", "xattr", "inode",
	"mountain", "river", "forest", "meadow", "harbour", "lantern", "velvet", "thunder", "orchard", "pebble",
	"quietly", "rapidly", "gently", "suddenly", "carefully", "almost", "never", "always", "perhaps", "rarely",
	"red", "green", "blue", "yellow", "purple", "silver", "golden", "crimson", "amber", "ivory",
}

// textSource produces an endless sequence of text lines.
type textSource struct {
	rng     prng
	line    uint64
	pending []byte // generated but not yet returned
}

func newTextSource(seed uint64) *textSource {
	t := &textSource{rng: newPRNG(seed), pending: make([]byte, 0, 256)}
	// Start the line numbers at a seed-dependent value, so even the first
	// bytes differ between seeds.
	t.line = uint64(t.rng.int63n(50_000_000))
	return t
}

// word picks a vocabulary index: the minimum of two uniform draws, which
// favours the words at the front of the list (the common ones).
func (t *textSource) word() string {
	a, b := t.rng.intn(len(vocabulary)), t.rng.intn(len(vocabulary))
	return vocabulary[min(a, b)]
}

func (t *textSource) nextLine(b []byte) []byte {
	b = appendPadded(b, t.line, 8)
	t.line++
	b = append(b, ' ')
	words := 6 + t.rng.intn(10)
	for i := 0; i < words; i++ {
		if i > 0 {
			switch t.rng.intn(16) {
			case 0:
				b = append(b, ", "...)
			case 1:
				b = append(b, " - "...)
			default:
				b = append(b, ' ')
			}
		}
		switch t.rng.intn(12) {
		case 0:
			b = appendPadded(b, t.rng.next()%1000000, 6)
		case 1:
			b = append(b, "0x"...)
			b = appendHex(b, t.rng.next()&0xffffffff, 8)
		default:
			b = append(b, t.word()...)
		}
	}
	if t.rng.intn(4) == 0 {
		b = append(b, '.')
	}
	return append(b, '\n')
}

func (t *textSource) fill(p []byte) {
	for len(p) > 0 {
		if len(t.pending) == 0 {
			t.pending = t.nextLine(t.pending[:0])
		}
		n := copy(p, t.pending)
		p = p[n:]
		t.pending = t.pending[n:]
	}
}

// appendPadded appends v in decimal, zero-padded to at least width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var d [20]byte
	i := len(d)
	for v > 0 || len(d)-i < width {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[i:]...)
}

func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789abcdef"
	for i := width - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xf])
	}
	return b
}

// prng is SplitMix64: tiny, fast, and fully specified here, so the
// generators' output never changes with the Go release.
type prng struct{ s uint64 }

func newPRNG(seed uint64) prng { return prng{s: seed} }

func (r *prng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// int63n returns a value in [0, n) for n > 0 (multiply-high reduction; its
// bias of at most n/2^64 is irrelevant here).
func (r *prng) int63n(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

func (r *prng) intn(n int) int { return int(r.int63n(int64(n))) }

// logUniform returns a value in [lo, hi] whose logarithm is roughly uniform,
// so small and large values are equally likely per order of magnitude.
func (r *prng) logUniform(lo, hi int64) int64 {
	// Pick a power-of-two octave [2^e, 2^(e+1)] inside [lo, hi], then a
	// uniform value inside it.
	loE := bits.Len64(uint64(lo)) - 1
	hiE := bits.Len64(uint64(hi)) - 1
	if hiE > loE {
		e := loE + r.intn(hiE-loE)
		lo, hi = max(lo, int64(1)<<e), min(hi, int64(1)<<(e+1))
	}
	return lo + r.int63n(hi-lo+1)
}
