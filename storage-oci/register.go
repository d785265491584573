package ocistore

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "oci+https" and "oci+http" schemes with
// storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// ErrIndexStore is the refusal of an index store on a registry, in the
// original desync's words.
var ErrIndexStore = errors.New("Index storage is not supported by oci registry stores") //nolint:staticcheck // the original's message

// Register registers "oci+https" and "oci+http" with r as remote backends
// (r wraps their stores in a storage.Retry). Index stores are refused.
// OCI has no store-options keys of its own; the login comes through the
// environment, Options.Credentials or the docker credential store.
func Register(r *storage.Registry) {
	b := storage.Backend{
		ChunkStore: func(ctx context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) {
			return NewStore(ctx, loc, o)
		},
		IndexStore: func(_ context.Context, loc *url.URL, _ storage.Options) (storage.IndexStore, error) {
			return nil, fmt.Errorf("index store %s: %w", loc.Redacted(), ErrIndexStore)
		},
		Remote: true,
	}
	r.Register("oci+https", b)
	r.Register("oci+http", b)
}

// NewStore returns the chunk store in the repository at loc: each chunk
// an artifact tagged "<id><suffix>", laid out as the original desync
// lays them out.
func NewStore(ctx context.Context, loc *url.URL, o storage.Options) (*storage.ObjectStore, error) {
	d, err := NewDriver(ctx, loc, o)
	if err != nil {
		return nil, err
	}
	return storage.NewObjectStore(d, o)
}
