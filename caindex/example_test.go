package caindex_test

import (
	"fmt"

	"github.com/folbricht/desync/caindex"
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
