package storage_test

import (
	"context"
	"fmt"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

func ExampleLocal() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := storage.NewLocal(dir, storage.LocalOptions{})
	if err != nil {
		panic(err)
	}
	plain := []byte("hello world")
	id := chunk.SHA512_256.Sum(plain)
	if err := s.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
		panic(err)
	}
	c, err := s.GetChunk(ctx, id) // decoded and verified
	if err != nil {
		panic(err)
	}
	b, _ := c.Plain()
	fmt.Printf("%s\n", b)
	// Output: hello world
}

// ExampleUploads: writes to a remote store through a write-behind queue.
// StoreChunk returns once the chunk is compressed and queued; Flush waits
// for every upload (and reports the first failure, naming chunk and
// store) before, say, an index that names the chunks is written.
func ExampleUploads() {
	ctx := context.Background()
	remote, err := storage.NewObjectStore(storagetest.NewMemDriver("bucket"), storage.Options{})
	if err != nil {
		panic(err)
	}
	q := storage.NewUploads(ctx, remote, storage.UploadOptions{Uploaders: 8})
	defer q.Close()

	for _, s := range []string{"one", "two", "three"} {
		plain := []byte(s)
		if err := q.StoreChunk(ctx, chunk.New(chunk.SHA512_256.Sum(plain), plain)); err != nil {
			panic(err)
		}
	}
	if err := q.Flush(ctx); err != nil {
		panic(err)
	}
	n := 0
	for _, err := range remote.ListChunks(ctx) {
		if err != nil {
			panic(err)
		}
		n++
	}
	fmt.Println(n, "chunks uploaded")
	// Output: 3 chunks uploaded
}
