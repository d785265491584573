// Package sha512x4 computes SHA-512/256 digests of several messages at once.
//
// A chunk store names and verifies every chunk with SHA-512/256, and on
// x86-64 that hash is most of the CPU time of making and extracting an
// image. One message at a time, SHA-512 is bound by the latency of its round
// function; hashing four independent messages in the four 64-bit lanes of
// AVX2 registers keeps the vector units busy instead. [Sum512_256] takes any
// number of messages and keeps the four lanes filled: as one message ends,
// the next one starts in its lane. Without AVX2 (or for a single message) it
// uses crypto/sha512.
//
// The round constants and initial values are computed here from their
// definitions in FIPS 180-4 (fractional parts of square and cube roots of
// primes; the SHA-512/t IV generation function), and every result is
// checked against crypto/sha512 in the tests.
package sha512x4

import (
	"crypto/sha512"
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
)

// Size is the length of a SHA-512/256 digest.
const Size = 32

// Sum512_256 sets out[i] to the SHA-512/256 digest of msgs[i]; out must be
// at least as long as msgs. It is [Sum] for a caller that holds several
// messages itself, and the deterministic way to test the lanes.
func Sum512_256(msgs [][]byte, out [][Size]byte) {
	if !haveAVX2 || len(msgs) < 2 {
		for i, m := range msgs {
			out[i] = sha512.Sum512_256(m)
		}
		return
	}
	var b batch
	b.run(msgs, out)
}

// lane is one message in flight.
type lane struct {
	msg     int    // index of the message, or -1 when idle
	rest    []byte // blocks still to hash: the message's whole blocks, then pad
	pad     []byte // the last partial block with the padding: 1 or 2 blocks
	inPad   bool   // rest is pad
	started bool   // some of the message is hashed
	padBuf  [2 * blockSize]byte
}

const blockSize = 128

// nLanes is the number of messages block4 hashes at once.
const nLanes = 4

// batch holds four lanes and their states, word-major: h[4*w+l] is word w
// of lane l, the layout block4 loads into vector registers.
type batch struct {
	h     [32]uint64
	lanes [nLanes]lane
	next  int
}

func (b *batch) run(msgs [][]byte, out [][Size]byte) {
	for l := range b.lanes {
		b.start(l, msgs)
	}
	for {
		active, last := b.active()
		if active == 0 {
			return
		}
		if active == 1 && b.next == len(msgs) {
			// One message left: hashing it alone costs less than
			// running four lanes for one.
			b.finishAlone(last, out)
			return
		}
		for l, done := range b.step(math.MaxInt) {
			if done {
				out[b.lanes[l].msg] = b.digest(l)
				b.start(l, msgs)
			}
		}
	}
}

// start puts the next message, if any, into lane l.
func (b *batch) start(l int, msgs [][]byte) {
	if b.next == len(msgs) {
		b.lanes[l].msg = -1
		return
	}
	b.load(l, msgs[b.next], b.next)
	b.next++
}

// load puts message m, numbered idx, into lane l.
func (b *batch) load(l int, m []byte, idx int) {
	ln := &b.lanes[l]
	ln.msg = idx
	for w := range 8 {
		b.h[4*w+l] = iv[w]
	}
	whole := len(m) &^ (blockSize - 1)
	ln.pad = appendPad(ln.padBuf[:0], m[whole:], uint64(len(m)))
	ln.rest, ln.inPad, ln.started = m[:whole], false, false
	if whole == 0 {
		ln.rest, ln.inPad = ln.pad, true
	}
}

// step hashes up to max blocks of every lane with a message, as many as
// the shortest of them has left, and reports the lanes whose message is
// done: their digests are ready, and the caller loads them anew or marks
// them idle.
func (b *batch) step(max int) (done [nLanes]bool) {
	n, last := max, -1
	for l := range b.lanes {
		if ln := &b.lanes[l]; ln.msg >= 0 {
			n, last = min(n, len(ln.rest)/blockSize), l
		}
	}
	var ptrs [nLanes]*byte
	for l := range b.lanes {
		src := &b.lanes[l]
		if src.msg < 0 { // an idle lane hashes another's data for nothing
			src = &b.lanes[last]
		}
		ptrs[l] = &src.rest[0]
	}
	block4(&b.h, &ptrs, n, &k)
	for l := range b.lanes {
		ln := &b.lanes[l]
		if ln.msg < 0 {
			continue
		}
		ln.started = true
		if ln.rest = ln.rest[n*blockSize:]; len(ln.rest) > 0 {
			continue
		}
		if !ln.inPad {
			ln.rest, ln.inPad = ln.pad, true
			continue
		}
		done[l] = true
	}
	return done
}

// active returns the number of lanes with a message and the last of them.
func (b *batch) active() (n, last int) {
	for l := range b.lanes {
		if b.lanes[l].msg >= 0 {
			n, last = n+1, l
		}
	}
	return n, last
}

// finishAlone hashes the rest of lane l's message without the other lanes.
func (b *batch) finishAlone(l int, out [][Size]byte) {
	ln := &b.lanes[l]
	var h [8]uint64
	for w := range h {
		h[w] = b.h[4*w+l]
	}
	blockGeneric(&h, ln.rest)
	if !ln.inPad {
		blockGeneric(&h, ln.pad)
	}
	out[ln.msg] = digest(&h)
	ln.msg = -1
}

func (b *batch) digest(l int) [Size]byte {
	var h [8]uint64
	for w := range h {
		h[w] = b.h[4*w+l]
	}
	return digest(&h)
}

func digest(h *[8]uint64) (d [Size]byte) {
	for w := range Size / 8 {
		binary.BigEndian.PutUint64(d[8*w:], h[w])
	}
	return d
}

// appendPad appends the final partial block of a message of n bytes, tail,
// followed by SHA-512's padding: 0x80, zeros, and the length in bits as a
// 128-bit big-endian number, filling one or two blocks.
func appendPad(dst, tail []byte, n uint64) []byte {
	dst = append(dst, tail...)
	dst = append(dst, 0x80)
	for len(dst)%blockSize != blockSize-16 {
		dst = append(dst, 0)
	}
	dst = binary.BigEndian.AppendUint64(dst, n>>61)
	return binary.BigEndian.AppendUint64(dst, n<<3)
}

// blockGeneric applies SHA-512's compression function to h for each block
// of p (a multiple of 128 bytes long).
func blockGeneric(h *[8]uint64, p []byte) {
	var w [80]uint64
	for ; len(p) >= blockSize; p = p[blockSize:] {
		for i := range 16 {
			w[i] = binary.BigEndian.Uint64(p[8*i:])
		}
		for i := 16; i < 80; i++ {
			s1 := bits.RotateLeft64(w[i-2], -19) ^ bits.RotateLeft64(w[i-2], -61) ^ w[i-2]>>6
			s0 := bits.RotateLeft64(w[i-15], -1) ^ bits.RotateLeft64(w[i-15], -8) ^ w[i-15]>>7
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for i := range 80 {
			t1 := hh + (bits.RotateLeft64(e, -14) ^ bits.RotateLeft64(e, -18) ^ bits.RotateLeft64(e, -41)) +
				(e&f ^ ^e&g) + k[i] + w[i]
			t2 := (bits.RotateLeft64(a, -28) ^ bits.RotateLeft64(a, -34) ^ bits.RotateLeft64(a, -39)) +
				(a&b ^ a&c ^ b&c)
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
		h[5] += f
		h[6] += g
		h[7] += hh
	}
}

// k holds SHA-512's round constants: the first 64 bits of the fractional
// parts of the cube roots of the first 80 primes. iv is SHA-512/256's
// initial hash value.
var (
	k  [80]uint64
	iv [8]uint64
)

func init() {
	ps := primes(80)
	for i, p := range ps {
		k[i] = fraction64(root(p, 3))
	}
	// SHA-512's initial value: the square roots of the first 8 primes.
	// SHA-512/t starts from it xor 0xa5…a5 and hashes "SHA-512/256".
	var h [8]uint64
	for i, p := range ps[:8] {
		h[i] = fraction64(root(p, 2)) ^ 0xa5a5a5a5a5a5a5a5
	}
	blockGeneric(&h, appendPad(nil, []byte("SHA-512/256"), 11))
	iv = h
}

func primes(n int) []int64 {
	var ps []int64
	for c := int64(2); len(ps) < n; c++ {
		prime := true
		for _, p := range ps {
			if c%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, c)
		}
	}
	return ps
}

// root returns the nth root of p (n is 2 or 3) to 256 bits, by Newton's
// method from the float64 estimate.
func root(p int64, n int) *big.Float {
	const prec = 256
	x := new(big.Float).SetPrec(prec).SetFloat64(math.Pow(float64(p), 1/float64(n)))
	pf := new(big.Float).SetPrec(prec).SetInt64(p)
	nf := new(big.Float).SetPrec(prec).SetInt64(int64(n))
	n1 := new(big.Float).SetPrec(prec).SetInt64(int64(n - 1))
	for range 8 { // x = ((n-1)·x + p/x^(n-1)) / n
		pow := new(big.Float).SetPrec(prec).Set(x)
		for range n - 2 {
			pow.Mul(pow, x)
		}
		q := new(big.Float).SetPrec(prec).Quo(pf, pow)
		x = new(big.Float).SetPrec(prec).Mul(n1, x)
		x.Add(x, q)
		x.Quo(x, nf)
	}
	return x
}

// fraction64 returns the first 64 bits of the fractional part of x > 0.
func fraction64(x *big.Float) uint64 {
	i, _ := x.Int(nil)
	f := new(big.Float).SetPrec(x.Prec()).Sub(x, new(big.Float).SetInt(i))
	f.SetMantExp(f, 64)
	u, _ := f.Uint64()
	return u
}
