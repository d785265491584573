package fuse

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// fixture is a random blob chunked into a local store.
type fixture struct {
	data  []byte
	ix    *caindex.Index
	dir   string // the store's directory
	store chunk.Store
}

// newFixture makes a blob of size random bytes, its index, and a local
// store holding its chunks.
func newFixture(t *testing.T, size int, seed byte) *fixture {
	t.Helper()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{seed}).Read(data)
	dir := filepath.Join(t.TempDir(), "store")
	st, err := storage.NewLocal(dir, storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := assemble.Make(context.Background(), bytes.NewReader(data), assemble.MakeOptions{Digest: chunk.SHA512_256, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Chunks) < 8 {
		t.Fatalf("only %d chunks", len(ix.Chunks))
	}
	return &fixture{data: data, ix: ix, dir: dir, store: st}
}

// removeChunk deletes chunk i's file from the store.
func (f *fixture) removeChunk(t *testing.T, i int) {
	t.Helper()
	id := f.ix.Chunks[i].ID.String()
	if err := os.Remove(filepath.Join(f.dir, id[:4], id+".cacnk")); err != nil {
		t.Fatal(err)
	}
}

// emptyStore returns a store that has no chunk.
func emptyStore(t *testing.T) chunk.Store {
	t.Helper()
	st, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
