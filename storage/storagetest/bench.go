package storagetest

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/folbricht/desync/chunk"
)

// benchChunkSize is the plain size of the chunks the benchmarks move:
// casync's default average.
const benchChunkSize = 64 << 10

// RunBenchmarks measures the store type h describes as sub-benchmarks of
// b: Get (GetChunk of
// stored chunks) and Store (StoreChunk of new chunks), each op one chunk of
// 64 KiB, half compressible, with b.SetBytes so throughput is reported in
// MB/s and allocations per chunk with b.ReportAllocs.
func RunBenchmarks(b *testing.B, h BenchHarness) {
	b.Run("Get", func(b *testing.B) {
		s := h.New(b)
		defer s.Close()
		w, ok := s.(chunk.WriteStore)
		if !ok {
			b.Skip("not a chunk.WriteStore")
		}
		ctx := context.Background()
		cs := benchChunks(h.Digest, 64)
		for _, c := range cs {
			if err := w.StoreChunk(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		if f, ok := s.(chunk.Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(benchChunkSize)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c, err := s.GetChunk(ctx, cs[i%len(cs)].ID())
			if err != nil {
				b.Fatal(err)
			}
			c.Release()
			i++
		}
	})
	b.Run("Store", func(b *testing.B) {
		s := h.New(b)
		defer s.Close()
		w, ok := s.(chunk.WriteStore)
		if !ok {
			b.Skip("not a chunk.WriteStore")
		}
		ctx := context.Background()
		r := rand.New(rand.NewChaCha8([32]byte{2}))
		plain := make([]byte, benchChunkSize)
		b.SetBytes(benchChunkSize)
		b.ReportAllocs()
		for b.Loop() {
			fill(r, plain)
			if err := w.StoreChunk(ctx, chunk.New(h.Digest.Sum(plain), plain)); err != nil {
				b.Fatal(err)
			}
		}
		if f, ok := s.(chunk.Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchHarness describes a store type to [RunBenchmarks].
type BenchHarness struct {
	// New returns a fresh, empty, writable store; the benchmark closes it.
	New func(b *testing.B) chunk.Store
	// Digest names the chunks (zero value: SHA-512/256).
	Digest chunk.Digest
}

// fill makes p half random, half zeros (compressible about 2:1).
func fill(r *rand.Rand, p []byte) {
	half := len(p) / 2
	for i := 0; i+8 <= half; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	clear(p[half:])
}

func benchChunks(d chunk.Digest, n int) []*chunk.Chunk {
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	cs := make([]*chunk.Chunk, n)
	for i := range cs {
		p := make([]byte, benchChunkSize)
		fill(r, p)
		cs[i] = chunk.New(d.Sum(p), p)
	}
	return cs
}
