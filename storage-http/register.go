package httpstore

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "http" and "https" schemes with storage.Open, as
// remote backends (storage.Open wraps their chunk stores in a
// storage.Retry).
func init() {
	b := storage.Backend{
		ChunkStore: func(_ context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) { return NewStore(loc, o) },
		IndexStore: func(_ context.Context, loc *url.URL, o storage.Options) (storage.IndexStore, error) {
			return NewIndexStore(loc, o)
		},
		Remote: true,
	}
	storage.Register("http", b)
	storage.Register("https", b)
}
