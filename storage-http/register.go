package httpstore

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "http" and "https" schemes with
// storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// Register registers the "http" and "https" schemes with r, as remote
// backends (r wraps their stores in a storage.Retry and their index stores
// in a storage.IndexRetry). HTTP has no options of its own: its settings
// are common ones of storage.Options (TLS, http-auth, http-cookie,
// timeout).
func Register(r *storage.Registry) {
	b := storage.Backend{
		ChunkStore: func(_ context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) { return NewStore(loc, o) },
		IndexStore: func(_ context.Context, loc *url.URL, o storage.Options) (storage.IndexStore, error) {
			return NewIndexStore(loc, o)
		},
		Remote: true,
	}
	r.Register("http", b)
	r.Register("https", b)
}
