package assemble_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
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

// An update: the old version of a file is on the target, so extracting the
// new version copies (or clones) what the two share from it and fetches
// only the rest.
func ExampleExtractFile_seed() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store, _ := storage.NewLocal(filepath.Join(dir, "store.castr"), storage.LocalOptions{})

	v1 := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{1}).Read(v1)
	v2 := bytes.Join([][]byte{v1[:1<<20], []byte("a small change"), v1[1<<20:]}, nil)
	ix1, _, _ := assemble.Make(ctx, bytes.NewReader(v1), assemble.MakeOptions{})
	ix2, _, _ := assemble.Make(ctx, bytes.NewReader(v2), assemble.MakeOptions{Store: store})
	os.WriteFile(filepath.Join(dir, "v1.bin"), v1, 0o644)

	out := filepath.Join(dir, "v2.bin")
	stats, err := assemble.ExtractFile(ctx, ix2, out, assemble.ExtractOptions{
		Store: store,
		Seeds: []assemble.Seed{{Path: filepath.Join(dir, "v1.bin"), Index: ix1}},
	})
	if err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(out)
	fmt.Println(bytes.Equal(b, v2), stats.ChunksFromSeeds+stats.ChunksFromStore == stats.ChunksTotal, stats.ChunksFromStore < 5)
	// Output:
	// true true true
}
