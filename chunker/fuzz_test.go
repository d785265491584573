package chunker

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// fuzzData is the input of a fuzz run: the fuzzer's bytes, then random bytes
// (n of them, from seed) and a run of zeros, where cuts come only at max.
func fuzzData(raw []byte, seed uint64, n, zeros int) []byte {
	rnd := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	return slices.Concat(raw, rnd, make([]byte, zeros))
}

// fuzzParams makes valid chunk sizes from any three numbers, each at most
// limit above the one before: min ≥ 1, min ≤ avg ≤ max, and max at least the
// window unless all three are equal (fixed-size chunking).
func fuzzParams(t *testing.T, a, b, c uint16, limit int) (Params, *Chunker) {
	minSize := 1 + int(a)%limit
	avg := minSize + int(b)%limit
	maxSize := avg + int(c)%limit
	if !(minSize == avg && avg == maxSize) {
		maxSize = max(maxSize, WindowSize)
	}
	p := Params{Min: uint64(minSize), Avg: uint64(avg), Max: uint64(maxSize)}
	ch, err := New(p)
	if err != nil {
		t.Fatalf("New(%s): %v", p, err)
	}
	return p, ch
}

// endsDiff says where the chunk ends got first differ from the spec model's.
func endsDiff(got, want []int) string {
	i := 0
	for i < min(len(got), len(want)) && got[i] == want[i] {
		i++
	}
	at := func(ends []int) string {
		if i < len(ends) {
			return fmt.Sprint(ends[i])
		}
		return "nothing"
	}
	return fmt.Sprintf("chunk %d ends at %s, in the spec model at %s (%d and %d chunks)", i, at(got), at(want), len(got), len(want))
}

// FuzzSplit checks the slice form (Split, and Next fed a little more data at
// a time the way a streaming caller does) and the io.Reader form against the
// spec model, on small inputs and sizes.
func FuzzSplit(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzSplit; each holds raw, seed, random
	// bytes, zeros, min, avg, max and the read mode.
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64, n, zeros, a, b, c uint16, mode uint8) {
		if len(raw) > 1024 {
			raw = raw[:1024]
		}
		data := fuzzData(raw, seed, int(n)%4096, int(zeros)%1024)
		p, ch := fuzzParams(t, a, b, c, 300)
		want := specEnds(p, data)
		if got := ch.Split(data); !slices.Equal(got, want) {
			t.Fatalf("%s, %d bytes: Split %s", p, len(data), endsDiff(got, want))
		}
		// Streaming: Next sees the data step bytes more at a time and must
		// ask for more (return 0) until it holds the whole chunk.
		step := max(1+int(mode), int(p.Max)/8)
		var got []int
		for pos, end := 0, 0; pos < len(data); {
			end = min(end+step, len(data))
			if k := ch.Next(data[pos:end], end == len(data)); k > 0 {
				pos += k
				got = append(got, pos)
				end = pos
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s, %d bytes, %d-byte steps: Next %s", p, len(data), step, endsDiff(got, want))
		}
		var r io.Reader = bytes.NewReader(data)
		switch mode % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			r = iotest.DataErrReader(r)
		}
		// NewReader's buffer is at least 1 MiB, which would hold these
		// inputs whole (and cost most of an execution to allocate); the
		// smallest buffer it may have, twice the max chunk size, makes the
		// Reader refill and move its data as it does on a long stream.
		rd := &Reader{c: ch, r: r, buf: make([]byte, 2*ch.max)}
		if got := readerEnds(t, rd); !slices.Equal(got, want) {
			t.Fatalf("%s, %d bytes, read mode %d: Reader %s", p, len(data), mode%4, endsDiff(got, want))
		}
	})
}

// FuzzSplitParallel checks SplitParallel against the spec model. The sizes
// are kept small so that the inputs, up to 11 KiB, span several
// segments of at least 16 max-size chunks each: the parallel path, not its
// fallback to Split.
func FuzzSplitParallel(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzSplitParallel; each holds raw, seed, random
	// bytes, zeros, min, avg, max and workers.
	f.Fuzz(func(t *testing.T, raw []byte, seed uint64, n, zeros, a, b, c uint16, workers uint8) {
		if len(raw) > 1024 {
			raw = raw[:1024]
		}
		data := fuzzData(raw, seed, int(n)%8000, int(zeros)%2048)
		p, ch := fuzzParams(t, a, b, c, 40)
		w := 2 + int(workers)%4
		want := specEnds(p, data)
		if got := ch.SplitParallel(data, w); !slices.Equal(got, want) {
			t.Fatalf("%s, %d bytes, %d workers: SplitParallel %s", p, len(data), w, endsDiff(got, want))
		}
	})
}
