package gcsstore

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// Scheme is the URL scheme of GCS stores: gs://bucket/prefix.
const Scheme = "gs"

// init registers the "gs" scheme with storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// Register registers the "gs" scheme with r as a remote backend (r wraps
// its stores in a storage.Retry and its index stores in a
// storage.IndexRetry). GCS has no options of its own: the store timeout
// is the common "timeout" option, credentials come from the environment.
func Register(r *storage.Registry) {
	r.Register(Scheme, storage.Backend{
		ChunkStore: func(ctx context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) {
			return NewStore(ctx, loc, o)
		},
		IndexStore: func(ctx context.Context, loc *url.URL, o storage.Options) (storage.IndexStore, error) {
			return NewIndexStore(ctx, loc, o)
		},
		Remote: true,
	})
}

// NewStore returns the chunk store at loc (gs://bucket/prefix): chunks
// are the objects prefix/<4 hex>/<id>.cacnk (or without the suffix for
// an uncompressed store), as in a local casync store.
func NewStore(ctx context.Context, loc *url.URL, o storage.Options) (*storage.ObjectStore, error) {
	d, err := NewDriver(ctx, loc, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectStore(d, o)
}

// NewIndexStore returns the index store at loc (gs://bucket/prefix):
// index "x.caibx" is the object prefix/x.caibx.
func NewIndexStore(ctx context.Context, loc *url.URL, o storage.Options) (*storage.ObjectIndexStore, error) {
	d, err := newDriver(ctx, loc, o, "index store")
	if err != nil {
		return nil, err
	}
	return storage.NewObjectIndexStore(d, 0), nil
}
