package s3store

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "s3+http" and "s3+https" schemes with
// storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// Register registers the "s3+http" and "s3+https" schemes with r as
// remote backends (r wraps their stores in a storage.Retry and their index
// stores in a storage.IndexRetry). S3 has no store-options keys of its
// own: the lookup style is part of the location (?lookup=), the keys come
// through Options.Credentials.
func Register(r *storage.Registry) {
	b := storage.Backend{
		ChunkStore: func(ctx context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) {
			return NewStore(ctx, loc, o)
		},
		IndexStore: func(ctx context.Context, loc *url.URL, o storage.Options) (storage.IndexStore, error) {
			return NewIndexStore(ctx, loc, o)
		},
		Remote: true,
	}
	r.Register("s3+http", b)
	r.Register("s3+https", b)
}
