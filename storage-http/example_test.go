package httpstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	_ "github.com/folbricht/desync/storage-http" // the http and https schemes of storage.Open
)

// Any static web server holding a casync store is a chunk store: here a
// local store's directory behind http.FileServer, read by URL through
// storage.Open. (Our chunk-server, which also takes uploads, is in module
// github.com/folbricht/desync/httpserver.)
func Example() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	local, err := storage.NewLocal(dir, storage.LocalOptions{})
	if err != nil {
		panic(err)
	}
	plain := []byte("hello world")
	id := chunk.SHA512_256.Sum(plain)
	if err := local.StoreChunk(ctx, chunk.New(id, plain)); err != nil {
		panic(err)
	}
	if err := local.Close(); err != nil { // flushed: the file is in place
		panic(err)
	}
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer ts.Close()

	s, err := storage.Open(ctx, ts.URL, storage.DefaultOptions())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	c, err := s.GetChunk(ctx, id) // decoded and verified
	if err != nil {
		panic(err)
	}
	b, _ := c.Plain()
	fmt.Printf("%s\n", b)
	// Output: hello world
}
