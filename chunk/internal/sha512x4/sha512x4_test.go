package sha512x4

import (
	"crypto/sha512"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestGeneric checks the constants, the padding and the scalar compression
// function: full SHA-512 computed with them equals crypto/sha512's.
func TestGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 111, 112, 127, 128, 129, 239, 240, 256, 1000, 65536 + 7} {
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(rng.Uint32())
		}
		var h [8]uint64
		for i, p := range primes(8) {
			h[i] = fraction64(root(p, 2))
		}
		blockGeneric(&h, m[:n&^127])
		blockGeneric(&h, appendPad(nil, m[n&^127:], uint64(n)))
		want := sha512.Sum512(m)
		for w := range 8 {
			if got := h[w]; got != uint64(want[8*w])<<56|uint64(want[8*w+1])<<48|uint64(want[8*w+2])<<40|uint64(want[8*w+3])<<32|
				uint64(want[8*w+4])<<24|uint64(want[8*w+5])<<16|uint64(want[8*w+6])<<8|uint64(want[8*w+7]) {
				t.Fatalf("%d bytes: SHA-512 word %d differs", n, w)
			}
		}
	}
}

// sumAll hashes msgs through the lanes on the calling goroutine, loading
// the next message into a lane as soon as the lane's message ends: the lane
// logic of hashLoop, without the queue, so that tests choose the lengths
// that meet in the lanes.
func sumAll(msgs [][]byte) [][Size]byte {
	out := make([][Size]byte, len(msgs))
	var (
		b    batch
		idx  [nLanes]int
		next int
	)
	start := func(l int) {
		if next < len(msgs) {
			idx[l] = next
			b.load(l, msgs[next])
			next++
		}
	}
	for l := range b.lanes {
		start(l)
	}
	for n, _ := b.active(); n > 0; n, _ = b.active() {
		for l, done := range b.step(math.MaxInt) {
			if done {
				out[idx[l]] = b.digest(l)
				b.lanes[l].busy = false
				start(l)
			}
		}
	}
	return out
}

// TestSum checks batches of every size up to 13 messages, with lengths
// around the block and padding edges and large ones, so lanes start and end
// at different times, against crypto/sha512.
func TestSum(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: the lanes are not used")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	lengths := []int{0, 1, 17, 111, 112, 113, 127, 128, 129, 255, 256, 257, 1 << 10, 16 << 10, 64<<10 + 3, 200 << 10}
	for n := 1; n <= 13; n++ {
		for rep := range 8 {
			msgs := make([][]byte, n)
			for i := range msgs {
				l := lengths[rng.IntN(len(lengths))]
				if rep%2 == 1 {
					l = rng.IntN(300 << 10)
				}
				msgs[i] = make([]byte, l)
				for j := range msgs[i] {
					msgs[i][j] = byte(rng.Uint32())
				}
			}
			for i, d := range sumAll(msgs) {
				if d != sha512.Sum512_256(msgs[i]) {
					t.Fatalf("%d messages, rep %d: digest of message %d (%d bytes) differs", n, rep, i, len(msgs[i]))
				}
			}
		}
	}
}

func BenchmarkSum(b *testing.B) {
	msgs := make([][]byte, 16)
	total := 0
	for i := range msgs {
		msgs[i] = make([]byte, 16<<10+(i*13<<10)) // 16 KiB to 211 KiB
		total += len(msgs[i])
	}
	out := make([][Size]byte, len(msgs))
	for _, name := range []string{"crypto-sha512", "sha512x4"} {
		b.Run(fmt.Sprintf("%s/16msgs", name), func(b *testing.B) {
			b.SetBytes(int64(total))
			for b.Loop() {
				if name == "sha512x4" {
					copy(out, sumAll(msgs))
				} else {
					for i, m := range msgs {
						out[i] = sha512.Sum512_256(m)
					}
				}
			}
		})
	}
}

// TestSumConcurrent hashes from many goroutines at once, so that requests
// share the lanes, join while others are under way and are handed back.
func TestSumConcurrent(t *testing.T) {
	// Two cores, whatever the machine, and 16 declared workers: the
	// hashing goroutine is used.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	AddWorkers(16)
	defer AddWorkers(-16)
	before := batched.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 40 {
				m := make([]byte, rng.IntN(300<<10))
				for j := range m {
					m[j] = byte(rng.Uint32())
				}
				if Sum(m) != sha512.Sum512_256(m) {
					errs <- fmt.Errorf("goroutine %d: digest of %d bytes differs", g, len(m))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if haveAVX2 && batched.Load() == before {
		t.Error("no message went through the hashing goroutine")
	}
}

// BenchmarkSumParallel hashes from 1 and from 5 goroutines per core (5
// is extract's -n 10 on two cores).
func BenchmarkSumParallel(b *testing.B) {
	m := make([]byte, 64<<10)
	for _, name := range []string{"crypto-sha512", "sha512x4"} {
		for _, par := range []int{1, 5} {
			b.Run(fmt.Sprintf("%s/%dpercore", name, par), func(b *testing.B) {
				b.SetBytes(int64(len(m)))
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if name == "sha512x4" {
							Sum(m)
						} else {
							sha512.Sum512_256(m)
						}
					}
				})
			})
		}
	}
}

// BenchmarkBlock4 is the kernel alone: four lanes of 64 KiB.
func BenchmarkBlock4(b *testing.B) {
	if !haveAVX2 {
		b.Skip("no AVX2")
	}
	var bt batch
	bufs := [nLanes][]byte{}
	var ptrs [nLanes]*byte
	for l := range bufs {
		bufs[l] = make([]byte, 64<<10)
		ptrs[l] = &bufs[l][0]
	}
	b.SetBytes(nLanes * 64 << 10)
	for b.Loop() {
		block4(&bt.h, &ptrs, 512, &k)
	}
}
