package assemble

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/chunker"
)

// benchSize is the input of the make and extract benchmarks: 48 MiB of
// pseudo-random data with zero runs, then its first 16 MiB again, so that
// repeated chunks and null chunks take their paths too.
const benchSize = 64 << 20

var benchData = sync.OnceValue(func() []byte {
	d := genData(benchSize*3/4, 7, true)
	return append(d, d[:benchSize/4]...)
})

// BenchmarkMake makes the index of benchData with casync's default chunk
// sizes into an empty in-memory store each time.
func BenchmarkMake(b *testing.B) {
	data := benchData()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _, err := Make(context.Background(), bytes.NewReader(data), MakeOptions{
			Params: chunker.DefaultParams(), Digest: chunk.SHA512_256, Store: newMemStore(),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractFile extracts benchData to a temporary directory (NoSync):
// every chunk from an in-memory store, or every chunk from a seed that
// holds the same data.
func BenchmarkExtractFile(b *testing.B) {
	data := benchData()
	store := newMemStore()
	ix, _, err := Make(context.Background(), bytes.NewReader(data), MakeOptions{
		Params: chunker.DefaultParams(), Digest: chunk.SHA512_256, Store: store,
	})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	seedPath := filepath.Join(dir, "seed")
	if _, err := ExtractFile(context.Background(), ix, seedPath, ExtractOptions{Store: store, NoSync: true}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		seeds []Seed
	}{
		{"Store", nil},
		{"Seed", []Seed{{Path: seedPath, Index: ix}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			out := filepath.Join(dir, "out")
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				_, err := ExtractFile(context.Background(), ix, out, ExtractOptions{
					Store: store, Seeds: bc.seeds, NoSync: true, NoReflink: true,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
