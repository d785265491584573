package storage_test

import (
	"context"
	"fmt"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
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
