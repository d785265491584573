package httpserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/httpserver"
	"github.com/folbricht/desync/storage"
	_ "github.com/folbricht/desync/storage-http" // the http scheme of storage.Open
)

// A writable chunk server over a local store, and a client that stores a
// chunk through it and reads it back. Importing the package registers the
// http and https schemes, so storage.Open takes the server's URL.
func ExampleNewChunkServer() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	local, err := storage.NewLocal(dir, storage.LocalOptions{})
	if err != nil {
		panic(err)
	}
	server, err := httpserver.NewChunkServer(local, httpserver.ChunkServerOptions{Writable: true})
	if err != nil {
		panic(err)
	}
	defer server.Close()
	ts := httptest.NewServer(server) // or httpserver.Serve(ctx, server, listeners, opts)
	defer ts.Close()

	s, err := storage.Open(ctx, ts.URL, storage.DefaultOptions())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	plain := []byte("hello world")
	id := chunk.SHA512_256.Sum(plain)
	if err := s.(chunk.WriteStore).StoreChunk(ctx, chunk.New(id, plain)); err != nil {
		panic(err) // a chunk not matching its ID would be refused here
	}
	c, err := s.GetChunk(ctx, id) // decoded and verified
	if err != nil {
		panic(err)
	}
	b, _ := c.Plain()
	fmt.Printf("%s\n", b)
	// Output: hello world
}

// An index server over a directory, written to and read from by URL.
func ExampleNewIndexServer() {
	dir, _ := os.MkdirTemp("", "indexes")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	server, err := httpserver.NewIndexServer(dir, httpserver.IndexServerOptions{Writable: true})
	if err != nil {
		panic(err)
	}
	defer server.Close()
	ts := httptest.NewServer(server)
	defer ts.Close()

	ix, err := storage.ReadIndex(ctx, ts.URL+"/missing.caibx", storage.DefaultOptions())
	fmt.Println(ix == nil, err != nil)
	// Output: true true
}
