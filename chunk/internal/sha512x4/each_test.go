package sha512x4

import (
	"crypto/sha512"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestSumEach hashes groups of every size up to 13, with short messages
// (hashed one by one) mixed among long ones, against crypto/sha512, and
// checks that every index is answered once; also as on a Go release whose
// crypto/sha512 does not take the lanes' state (the lanes run to the end).
func TestSumEach(t *testing.T) {
	for _, handOff := range []bool{canHandOff, false} {
		t.Run(fmt.Sprintf("handOff=%v", handOff), func(t *testing.T) {
			defer func(was bool) { canHandOff = was }(canHandOff)
			canHandOff = handOff
			testSumEach(t)
		})
	}
}

func testSumEach(t *testing.T) {
	lengths := []int{0, 1, 127, 128, minBatch - 1, minBatch, minBatch + 111, minBatch + 112, minBatch + 128, 64<<10 + 3, 256 << 10}
	randomGroups(4, lengths, func(rep int, msgs [][]byte) {
		got := make([]int, len(msgs))
		SumEach(msgs, func(i int, sum [Size]byte) {
			got[i]++
			if sum != sha512.Sum512_256(msgs[i]) {
				t.Errorf("%d messages, rep %d: digest of message %d (%d bytes) differs", len(msgs), rep, i, len(msgs[i]))
			}
		})
		for i, c := range got {
			if c != 1 {
				t.Fatalf("%d messages, rep %d: message %d answered %d times", len(msgs), rep, i, c)
			}
		}
	})
}

// TestFinish stops a lane after every interesting number of blocks (none,
// some, all its whole blocks, in its padding) and finishes it on its own.
func TestFinish(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: the lanes are not used")
	}
	if !canHandOff {
		t.Fatal("crypto/sha512 does not resume from a lane's state: its saved-state layout changed")
	}
	long := make([]byte, 64<<10)
	for _, length := range []int{0, 5, 111, 112, 128, 129, 4 << 10, 4<<10 + 111, 4<<10 + 112, 4<<10 + 127} {
		whole := length / blockSize
		for _, steps := range []int{0, 1, whole - 1, whole, whole + 1} {
			// whole+1 is inside a padding of two blocks.
			pad := 1
			if length%blockSize >= blockSize-16 {
				pad = 2
			}
			if steps < 0 || steps >= whole+pad {
				continue
			}
			t.Run(fmt.Sprintf("%dB/%dblocks", length, steps), func(t *testing.T) {
				m := make([]byte, length)
				for i := range m {
					m[i] = byte(i * 7)
				}
				var b batch
				b.load(0, m)
				for l := 1; l < nLanes; l++ {
					b.load(l, long)
				}
				if n := min(steps, whole); n > 0 {
					b.step(n)
				}
				if steps > whole {
					b.step(steps - whole)
				}
				if b.lanes[0].inPad != (steps >= whole) {
					t.Fatalf("lane in padding: %v, want %v", b.lanes[0].inPad, steps >= whole)
				}
				if got := b.finish(0); got != sha512.Sum512_256(m) {
					t.Errorf("digest differs")
				}
			})
		}
	}
}

// BenchmarkSumEach hashes groups of 8 messages with lengths spread like
// casync chunks at the default sizes (16 KiB minimum, 64 KiB average),
// one by one and with SumEach.
func BenchmarkSumEach(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	msgs := make([][]byte, 8*16)
	total := 0
	for i := range msgs {
		l := 16<<10 + int(rng.ExpFloat64()*float64(48<<10))
		msgs[i] = make([]byte, min(l, 256<<10))
		total += len(msgs[i])
	}
	for _, name := range []string{"crypto-sha512", "sumeach"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(total))
			for b.Loop() {
				for g := 0; g < len(msgs); g += 8 {
					if name == "sumeach" {
						SumEach(msgs[g:g+8], func(int, [Size]byte) {})
					} else {
						for _, m := range msgs[g : g+8] {
							sha512.Sum512_256(m)
						}
					}
				}
			}
		})
	}
}
