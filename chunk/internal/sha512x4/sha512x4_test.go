package sha512x4

import (
	"crypto/sha512"
	"fmt"
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

// randomGroups calls fn with groups of every size up to 13 messages, 8 of
// each size: half with lengths drawn from lengths, half up to 300 KiB. The
// messages are slices of one random pool.
func randomGroups(seed uint64, lengths []int, fn func(rep int, msgs [][]byte)) {
	rng := rand.New(rand.NewPCG(seed, seed))
	pool := make([]byte, 600<<10)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(pool)
	for n := 0; n <= 13; n++ {
		for rep := range 8 {
			msgs := make([][]byte, n)
			for i := range msgs {
				l := lengths[rng.IntN(len(lengths))]
				if rep%2 == 1 {
					l = rng.IntN(300 << 10)
				}
				off := rng.IntN(len(pool) - l)
				msgs[i] = pool[off : off+l]
			}
			fn(rep, msgs)
		}
	}
}

// TestSum drives the lanes with every message, lengths around the block
// and padding edges and large ones, so lanes start and end at different
// times, and checks the digests against crypto/sha512.
func TestSum(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2: the lanes are not used")
	}
	lengths := []int{0, 1, 17, 111, 112, 113, 127, 128, 129, 255, 256, 257, 1 << 10, 16 << 10, 64<<10 + 3, 200 << 10}
	randomGroups(2, lengths, func(rep int, msgs [][]byte) {
		order := make([]int, len(msgs))
		for i := range order {
			order[i] = i
		}
		var b batch
		b.sumIn(msgs, order, false, func(i int, sum [Size]byte) {
			if sum != sha512.Sum512_256(msgs[i]) {
				t.Fatalf("%d messages, rep %d: digest of message %d (%d bytes) differs", len(msgs), rep, i, len(msgs[i]))
			}
		})
	})
}

// TestSumConcurrent hashes from many goroutines at once, so that requests
// share the lanes, join while others are under way, are handed back, and
// are handed back part-way to be finished by their callers.
func TestSumConcurrent(t *testing.T) {
	// Two cores, whatever the machine, and 16 declared workers: the
	// hashing goroutine is used.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	AddWorkers(16)
	defer AddWorkers(-16)
	before, beforeResumed := batched.Load(), resumed.Load()
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
	if haveAVX2 && canHandOff && resumed.Load() == beforeResumed {
		t.Error("the hashing goroutine handed no message back part-way")
	}
	t.Logf("%d hashed by the hashing goroutine, %d handed back part-way", batched.Load()-before, resumed.Load()-beforeResumed)
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
