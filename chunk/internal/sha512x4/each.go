package sha512x4

import (
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"hash"
	"math"
)

// SumEach hashes every message of msgs and calls put(i, digest of msgs[i])
// for each, in no particular order. It is for a caller that has several
// messages at hand, such as a worker that took a group of chunks: messages
// of at least minBatch bytes share the four lanes, longest first, so that
// the lanes run out at about the same time; when fewer than three remain
// in flight, each is finished on its own with crypto/sha512, which is then
// at least as fast. Short messages, or too few long ones, are hashed one by
// one.
func SumEach(msgs [][]byte, put func(i int, sum [Size]byte)) {
	var order []int // long messages, longest first
	for i, m := range msgs {
		if len(m) >= minBatch && haveAVX2 {
			order = append(order, i)
		} else {
			put(i, sha512.Sum512_256(m))
		}
	}
	if len(order) < minLanes {
		for _, i := range order {
			put(i, sha512.Sum512_256(msgs[i]))
		}
		return
	}
	for j := 1; j < len(order); j++ { // insertion sort: a handful of messages
		for k := j; k > 0 && len(msgs[order[k]]) > len(msgs[order[k-1]]); k-- {
			order[k], order[k-1] = order[k-1], order[k]
		}
	}
	var b batch
	b.sumIn(msgs, order, canHandOff, put)
}

// sumIn hashes the messages msgs[order[0]], msgs[order[1]], … through the
// lanes, loading the next one into a lane as soon as the lane's message
// ends, and calls put for each. With handOff, once nothing is left to load
// and fewer than minLanes are in flight, each of those is finished on its
// own (finish).
func (b *batch) sumIn(msgs [][]byte, order []int, handOff bool, put func(i int, sum [Size]byte)) {
	var idx [nLanes]int
	next := 0
	fill := func(l int) {
		if next < len(order) {
			idx[l] = order[next]
			b.load(l, msgs[order[next]])
			next++
		}
	}
	for l := range b.lanes {
		fill(l)
	}
	for {
		n, _ := b.active()
		if n == 0 {
			return
		}
		if handOff && n < minLanes && next == len(order) {
			for l := range b.lanes {
				if b.lanes[l].busy {
					put(idx[l], b.finish(l))
				}
			}
			return
		}
		for l, done := range b.step(math.MaxInt) {
			if done {
				put(idx[l], b.digest(l))
				b.lanes[l].busy = false
				fill(l)
			}
		}
	}
}

// finish hashes the rest of lane l's message on its own and returns its
// digest; the lane is idle afterwards. A lane in its padding has a block or
// two left, done here; one with whole blocks left goes on in crypto/sha512,
// which resumes from the lane's state (see handOff).
func (b *batch) finish(l int) [Size]byte {
	ln := &b.lanes[l]
	ln.busy = false
	h := b.state(l)
	if ln.inPad {
		blockGeneric(&h, ln.rest)
		return digest(&h)
	}
	return resume(&h, ln.hashed(), ln.rest, ln.pad[:ln.n%blockSize])
}

// resume finishes with crypto/sha512 a message whose first hashed bytes (a
// whole number of blocks) left state h; rest is the remainder, in pieces.
func resume(h *[8]uint64, hashed uint64, rest ...[]byte) [Size]byte {
	d, err := handOff(h, hashed)
	if err != nil { // canHandOff says it is not
		panic("sha512x4: crypto/sha512 refused a state: " + err.Error())
	}
	for _, b := range rest {
		d.Write(b)
	}
	var sum [Size]byte
	d.Sum(sum[:0])
	return sum
}

// stateTemplate is crypto/sha512's saved state of an empty SHA-512/256
// hash (encoding.BinaryMarshaler): a 4-byte magic, the eight state words,
// a 128-byte buffer and the length hashed, big-endian. canHandOff is set
// when the layout is that one, checked on a real message at start-up; if a
// Go release changed it, lanes run to the end instead.
var (
	stateTemplate []byte
	canHandOff    bool
)

const stateSize = 4 + 8*8 + blockSize + 8

// handOff returns a crypto/sha512 SHA-512/256 hash that has hashed n bytes
// (a whole number of blocks) and is in state h.
func handOff(h *[8]uint64, n uint64) (hash.Hash, error) {
	st := make([]byte, stateSize)
	copy(st, stateTemplate[:4])
	for w, v := range h {
		binary.BigEndian.PutUint64(st[4+8*w:], v)
	}
	binary.BigEndian.PutUint64(st[stateSize-8:], n)
	d := sha512.New512_256()
	return d, d.(encoding.BinaryUnmarshaler).UnmarshalBinary(st)
}

// checkHandOff sets stateTemplate and canHandOff; it runs after k and iv
// are set.
func checkHandOff() {
	st, err := sha512.New512_256().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || len(st) != stateSize {
		return
	}
	stateTemplate = st
	// Hash one block here, hand the rest over, and compare.
	msg := []byte("sha512x4 checks that crypto/sha512 resumes from a state it did not make; " +
		"the message is longer than one block of one hundred and twenty-eight bytes.")
	h := iv
	blockGeneric(&h, msg[:blockSize])
	d, err := handOff(&h, blockSize)
	if err != nil {
		return
	}
	d.Write(msg[blockSize:])
	var sum [Size]byte
	canHandOff = [Size]byte(d.Sum(sum[:0])) == sha512.Sum512_256(msg)
}
