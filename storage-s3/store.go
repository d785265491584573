package s3store

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/storage"
)

// NewStore returns the chunk store at u: a [storage.ObjectStore] on the
// S3 [Driver], with the chunk settings of o (compression, digest,
// verification, the size cap).
func NewStore(ctx context.Context, u *url.URL, o storage.Options) (*storage.ObjectStore, error) {
	d, err := NewDriver(ctx, u, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectStore(d, o)
}

// NewIndexStore returns the index store at u: index "x.caibx" is the
// object <prefix>/x.caibx.
func NewIndexStore(ctx context.Context, u *url.URL, o storage.Options) (*storage.ObjectIndexStore, error) {
	d, err := NewDriver(ctx, u, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectIndexStore(d, 0), nil
}
