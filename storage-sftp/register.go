package sftpstore

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "sftp" scheme with storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// Register registers the "sftp" scheme with r as a remote backend (r wraps
// its stores in a storage.Retry and its index stores in a
// storage.IndexRetry). SFTP has no options of its own: ssh's settings come
// from the user's ssh configuration, and the common ones (n, timeout,
// error-retry, uncompressed) are storage.Options fields.
func Register(r *storage.Registry) {
	r.Register("sftp", storage.Backend{
		ChunkStore: func(_ context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) {
			return NewStore(loc, o)
		},
		IndexStore: func(_ context.Context, loc *url.URL, o storage.Options) (storage.IndexStore, error) {
			return NewIndexStore(loc, o)
		},
		Remote: true,
	})
}

// NewStore returns the chunk store at loc (sftp://[user@]host[:port]/path).
func NewStore(loc *url.URL, o storage.Options) (*storage.ObjectStore, error) {
	d, err := NewDriver(loc, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectStore(d, o)
}

// NewIndexStore returns the index store at loc
// (sftp://[user@]host[:port]/path/).
func NewIndexStore(loc *url.URL, o storage.Options) (*storage.ObjectIndexStore, error) {
	d, err := NewDriver(loc, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectIndexStore(d, 0), nil
}
