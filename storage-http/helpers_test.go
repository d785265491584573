package httpstore_test

import (
	"crypto/rand"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	httpstore "github.com/folbricht/desync/storage-http"
)

// newLocal returns an empty local store in a temporary directory.
func newLocal(t *testing.T, o storage.LocalOptions) *storage.Local {
	t.Helper()
	l, err := storage.NewLocal(filepath.Join(t.TempDir(), "store"), o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newClient(t *testing.T, loc string, o storage.Options) *httpstore.Store {
	t.Helper()
	s, err := httpstore.NewStore(mustURL(t, loc), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// randomChunk returns a chunk of n pseudo-random bytes.
func randomChunk(t *testing.T, n int, d chunk.Digest) *chunk.Chunk {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return chunk.New(d.Sum(b), b)
}
