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

// ChunkFiler is a store that keeps each chunk whole, in its stored form,
// in a file of its own ([Local]), so a server can send the file as it is.
// Decorators that only pass reads through, or read through a cache
// ([Retry], [Dedup], [NullChunk], [Cache]), forward it: sending the file is
// then what GetChunk would return, or GetChunk can be asked instead when
// the file is not there. Others (a [Router], a [Failover]) do not.
type ChunkFiler interface {
	// ChunkFile returns the file that holds chunk id once it is in place,
	// and the suffix of the store's chunk names, which tells the form the
	// file holds: "" plain, ".cacnk" zstd, ".cacnk.<algorithm>-<key id>"
	// (or ".<algorithm>-<key id>") encrypted with the key of that ID. ok is false
	// when there is no such file to ask for (a decorator over a store
	// without files). The file need not exist (a missing chunk, or one
	// not yet renamed into place), and what it holds is not verified.
	ChunkFile(id chunk.ID) (path, suffix string, ok bool)
}

// chunkFile asks s for chunk id's file if s is a [ChunkFiler].
func chunkFile(s any, id chunk.ID) (string, string, bool) {
	if f, ok := s.(ChunkFiler); ok {
		return f.ChunkFile(id)
	}
	return "", "", false
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
