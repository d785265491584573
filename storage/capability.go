package storage

import (
	"context"
	"iter"

	"github.com/folbricht/desync/chunk"
)

// Optional capabilities of a chunk store, found by type assertion. The
// composition types pass them through where it makes sense.

// Lister is a store that can enumerate the chunks it holds. The sequence
// yields an error (and then stops) when listing fails.
type Lister interface {
	ListChunks(ctx context.Context) iter.Seq2[chunk.ID, error]
}

// Remover is a store that can delete a single chunk. Removing a chunk the
// store does not hold is not an error.
type Remover interface {
	RemoveChunk(ctx context.Context, id chunk.ID) error
}
