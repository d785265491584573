package storage_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/storagetest"
)

// TestChunkFiler checks which stores say where a chunk's file is: a Local,
// and the decorators that only pass reads through or read through a cache
// (asking the cache); not a Router, and not a decorator over a store
// without files.
func TestChunkFiler(t *testing.T) {
	l, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), storage.LocalOptions{Uncompressed: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := storage.NewLocal(filepath.Join(t.TempDir(), "other"), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := chunk.SHA512_256.Sum([]byte("x"))
	mem, err := storage.NewObjectStore(storagetest.NewMemDriver("m"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    chunk.Store
		want string // "" for none
	}{
		{"Local", l, l.Path(id)},
		{"Retry", storage.NewRetry(l, storage.RetryOptions{}), l.Path(id)},
		{"Dedup", storage.NewDedup(storage.NewNullChunk(l, 0, 1024)), l.Path(id)},
		{"Cache", storage.NewCache(other, l, storage.CacheOptions{}), l.Path(id)},
		{"Router", storage.NewRouter(l), ""},
		{"RetryOverRouter", storage.NewRetry(storage.NewRouter(l), storage.RetryOptions{}), ""},
		{"RetryOverObjectStore", storage.NewRetry(mem, storage.RetryOptions{}), ""},
		{"Fault", storagetest.NewDown(l, errors.New("down")), ""},
	} {
		f, isFiler := tc.s.(storage.ChunkFiler)
		var path, suffix string
		var ok bool
		if isFiler {
			path, suffix, ok = f.ChunkFile(id)
		}
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: ChunkFile = %s, want none", tc.name, path)
		case tc.want != "" && (!ok || path != tc.want || suffix != storage.SuffixPlain):
			t.Errorf("%s: ChunkFile = %q, %q, %v; want %s of an uncompressed store", tc.name, path, suffix, ok, tc.want)
		}
	}
}
