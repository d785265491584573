package sshstore

import (
	"context"
	"net/url"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// init registers the "ssh" scheme with storage.DefaultRegistry.
func init() { Register(storage.DefaultRegistry) }

// Register registers the "ssh" scheme with r: chunk stores only (no index
// stores), remote (r wraps them in a storage.Retry, which redials after a
// lost connection).
func Register(r *storage.Registry) {
	r.Register("ssh", storage.Backend{
		ChunkStore: func(ctx context.Context, loc *url.URL, o storage.Options) (chunk.Store, error) {
			return New(ctx, loc, o)
		},
		Remote: true,
	})
}
