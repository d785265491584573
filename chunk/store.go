package chunk

import (
	"context"
	"fmt"
	"io"
)

// Store is the read side every chunk store implements. GetChunk returns an
// error matching ErrMissing when the chunk is absent and an *InvalidError
// when what the store holds does not match the ID.
type Store interface {
	GetChunk(ctx context.Context, id ID) (*Chunk, error)
	HasChunk(ctx context.Context, id ID) (bool, error)
	io.Closer
	fmt.Stringer
}

// WriteStore is a store that accepts chunks. Storing a chunk the store already
// holds is not an error and need not rewrite it. StoreChunk must not keep a
// reference to the chunk's plain data after it returns: callers reuse it.
type WriteStore interface {
	Store
	StoreChunk(ctx context.Context, c *Chunk) error
}

// PruneStore can delete every chunk for which keep returns false.
type PruneStore interface {
	WriteStore
	Prune(ctx context.Context, keep func(ID) bool) error
}

// Flusher is a store that may hold written chunks back (to batch syncing);
// Flush makes every chunk stored so far durable and visible to others. Write
// an index that refers to chunks only after flushing the store they went to.
type Flusher interface {
	Flush(ctx context.Context) error
}
