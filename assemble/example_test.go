package assemble_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store, _ := storage.NewLocal(filepath.Join(dir, "store.castr"), storage.LocalOptions{})

	// make: cut, name and store the chunks of an input, get its index.
	input := strings.Repeat("content-defined chunking ", 40000)
	ix, stats, err := assemble.Make(ctx, strings.NewReader(input), assemble.MakeOptions{Digest: chunk.SHA512_256, Store: store})
	if err != nil {
		panic(err)
	}
	fmt.Println(ix.Size(), stats.Chunks, stats.StoredChunks)

	// extract: rebuild the input from the index and the store.
	out := filepath.Join(dir, "out")
	if _, err := assemble.ExtractFile(ctx, ix, out, assemble.ExtractOptions{Store: store}); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(out)
	fmt.Println(string(b) == input)
	// Output:
	// 1000000 4 4
	// true
}
