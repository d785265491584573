package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/folbricht/desync/chunk"
)

// CacheOptions configure a [Cache].
type CacheOptions struct {
	// Repair treats an invalid chunk in the cache as missing: it is fetched
	// from the store and replaces the cached copy (desync's --cache-repair,
	// on by default in the CLI). Without it an invalid cached chunk is an
	// error. Repairing needs a cache that is a [Remover].
	Repair bool
	// Logger receives a warning for every repaired chunk; nil discards.
	Logger *slog.Logger
}

// Cache reads through a writable cache store (desync's -c): a chunk is read
// from the cache if it has it, otherwise from the store and then written to
// the cache. Wrap it in a [Dedup] so that concurrent requests for one chunk
// make one fetch and one cache write.
type Cache struct {
	store chunk.Store
	cache chunk.WriteStore
	o     CacheOptions
}

// NewCache puts cache in front of store.
func NewCache(store chunk.Store, cache chunk.WriteStore, o CacheOptions) *Cache {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Cache{store: store, cache: cache, o: o}
}

// GetChunk returns the cached chunk, or fetches it from the store and caches
// it. A failure to write the cache is an error: a cache that cannot be
// written is a problem the user should see. A missing chunk's error names
// the cache's String (the store and the cache).
func (c *Cache) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	ch, err := c.cache.GetChunk(ctx, id)
	var inv *chunk.InvalidError
	repair := false
	switch {
	case err == nil:
		return ch, nil
	case errors.Is(err, chunk.ErrMissing):
	case errors.As(err, &inv) && c.o.Repair:
		repair = true
	default:
		return nil, err
	}
	ch, err = c.store.GetChunk(ctx, id)
	if errors.Is(err, chunk.ErrMissing) {
		// Name the cache too: the chunk is missing from both.
		return nil, &chunk.MissingError{ID: id, Store: c.String()}
	}
	if err != nil {
		return nil, err
	}
	if repair {
		rm, ok := As[Remover](c.cache)
		if !ok {
			return nil, fmt.Errorf("cache %s: cannot replace invalid chunk %s: the store cannot delete chunks", c.cache, id)
		}
		c.o.Logger.Warn("replacing invalid chunk in cache", "cache", c.cache.String(), "id", id.String(), "error", inv)
		if err := rm.RemoveChunk(ctx, id); err != nil {
			return nil, err
		}
	}
	if err := c.cache.StoreChunk(ctx, ch); err != nil {
		return nil, fmt.Errorf("caching chunk %s in %s: %w", id, c.cache, err)
	}
	return ch, nil
}

// HasChunk reports whether the cache or the store has the chunk.
func (c *Cache) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if ok, err := c.cache.HasChunk(ctx, id); ok || err != nil {
		return ok, err
	}
	return c.store.HasChunk(ctx, id)
}

// Flush flushes the cache if it batches writes.
func (c *Cache) Flush(ctx context.Context) error { return flush(ctx, c.cache) }

// Close closes the cache and the store.
func (c *Cache) Close() error { return errors.Join(c.cache.Close(), c.store.Close()) }

// String names the store and its cache.
func (c *Cache) String() string { return c.store.String() + " (cache " + c.cache.String() + ")" }

// ChunkFile forwards to the cache (see [ChunkFiler]): a chunk the cache
// has is what GetChunk returns; one it lacks is fetched by GetChunk.
func (c *Cache) ChunkFile(id chunk.ID) (string, string, bool) { return chunkFile(c.cache, id) }

var (
	_ ChunkFiler = (*Local)(nil)
	_ ChunkFiler = (*Retry)(nil)
	_ ChunkFiler = (*Dedup)(nil)
	_ ChunkFiler = (*NullChunk)(nil)
	_ ChunkFiler = (*Cache)(nil)
)
