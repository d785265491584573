package storage

import (
	"context"
	"fmt"
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

// Wrapper is a store that decorates another (a [Retry], a [Dedup], a
// [NullChunk]); [As] looks through it.
type Wrapper interface {
	Unwrap() chunk.Store
}

// As finds the first store in the chain s, s.Unwrap(), … that has the
// capability T, like errors.As does for errors: for example
// As[chunk.PruneStore](s) finds the prunable local store under a Dedup.
func As[T any](s chunk.Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

func errReadOnly(s chunk.Store) error { return fmt.Errorf("store %s does not accept chunks", s) }
