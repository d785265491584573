package caindex_test

import (
	"bytes"
	"fmt"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

func ExampleReadFile() {
	ix, err := caindex.ReadFile("testdata/blob1.caibx")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes in %d chunks (%d:%d:%d), %s\n", ix.Size(), len(ix.Chunks), ix.Min, ix.Avg, ix.Max, ix.Digest())
	fmt.Println(ix.Chunks[0].Start, ix.Chunks[0].Size, ix.Chunks[0].ID)
	// Output:
	// 1234567 bytes in 19 chunks (16384:65536:262144), sha512-256
	// 0 138984 88172d4e9bc704478756f5291dc466edcb532b173dab5b45e18b16f981f23a10
}

// A Writer streams an index as its chunks become known; the result is the
// same as writing a whole Index.
func ExampleWriter() {
	var out bytes.Buffer
	w, err := caindex.NewWriter(&out, caindex.BlobFlags, 16<<10, 64<<10, 256<<10)
	if err != nil {
		panic(err)
	}
	data := []byte("hello, world")
	if err := w.Add(caindex.Chunk{ID: chunk.SHA512_256.Sum(data), Start: 0, Size: uint64(len(data))}); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	ix, err := caindex.Read(&out)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(ix.Chunks), ix.Size(), ix.Digest())
	// Output:
	// 1 12 sha512-256
}
