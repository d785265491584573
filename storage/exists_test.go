package storage_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// TestCheckExists: a local store that is read from and is not there is
// found through every composition type, but a cache that is not there yet
// is fine (it is made on its first write).
func TestCheckExists(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	open := func(p string) *storage.Local {
		l, err := storage.NewLocal(p, storage.LocalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	good := newLocal(t, testChunks(1)...)
	notThere := open(missing)
	for _, tc := range []struct {
		name string
		s    chunk.Store
		want string // "" for no error
	}{
		{"existing", good, ""},
		{"missing", notThere, missing + ": no such directory"},
		{"router", storage.NewRouter(good, notThere), missing},
		{"failover", storage.NewFailover(nil, good, notThere), missing},
		{"store behind a cache", storage.NewCache(notThere, good, storage.CacheOptions{}), missing},
		{"cache not there yet", storage.NewCache(good, open(filepath.Join(dir, "cache")), storage.CacheOptions{}), ""},
		{"decorators", storage.NewNullChunk(storage.NewDedup(storage.NewRetry(notThere, storage.RetryOptions{})), chunk.SHA512_256, 10), missing},
	} {
		err := storage.CheckExists(tc.s)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		case tc.want != "" && !errors.Is(err, storage.ErrNoStore):
			t.Errorf("%s: %v does not match ErrNoStore", tc.name, err)
		}
	}
	// NewLocal refuses a file at once; one put in the store's place after
	// it was opened is found too.
	l := open(filepath.Join(dir, "later"))
	if err := os.WriteFile(filepath.Join(dir, "later"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := storage.CheckExists(l); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file in the store's place: %v", err)
	}
}
