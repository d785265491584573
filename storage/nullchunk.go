package storage

import (
	"context"

	"github.com/folbricht/desync/chunk"
)

// NullChunk answers for the all-zero chunk of one size without asking the
// store. Zero runs in an input are cut into chunks of the maximum size, so
// an index commonly refers to the zero chunk of its max chunk size many
// times; it is never fetched. Every other call goes to the wrapped store,
// including StoreChunk (stores keep the zero chunk too, as casync expects).
type NullChunk struct {
	s     chunk.Store
	id    chunk.ID
	zeros []byte
}

// NewNullChunk wraps s, answering for the zero chunk of size bytes under
// digest d (use the index's max chunk size and digest).
func NewNullChunk(s chunk.Store, d chunk.Digest, size int) *NullChunk {
	zeros := make([]byte, size)
	return &NullChunk{s: s, id: d.Sum(zeros), zeros: zeros}
}

// ID is the zero chunk's ID.
func (n *NullChunk) ID() chunk.ID { return n.id }

// GetChunk returns zeros for the null chunk and asks the store otherwise.
// The zero chunk's data is shared: callers must not modify it.
func (n *NullChunk) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	if id == n.id {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return chunk.New(id, n.zeros), nil
	}
	return n.s.GetChunk(ctx, id)
}

// HasChunk is true for the null chunk and asks the store otherwise.
func (n *NullChunk) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	if id == n.id {
		return true, ctx.Err()
	}
	return n.s.HasChunk(ctx, id)
}

// StoreChunk passes the chunk to the wrapped store.
func (n *NullChunk) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	w, ok := n.s.(chunk.WriteStore)
	if !ok {
		return errReadOnly(n.s)
	}
	return w.StoreChunk(ctx, c)
}

// Flush flushes the wrapped store if it batches writes.
func (n *NullChunk) Flush(ctx context.Context) error { return flush(ctx, n.s) }

// Unwrap returns the wrapped store.
func (n *NullChunk) Unwrap() chunk.Store { return n.s }

func (n *NullChunk) Close() error   { return n.s.Close() }
func (n *NullChunk) String() string { return n.s.String() }

// ChunkFile forwards to the wrapped store (see [ChunkFiler]): the null
// chunk, if its file is not there, is still answered by GetChunk.
func (n *NullChunk) ChunkFile(id chunk.ID) (string, string, bool) { return chunkFile(n.s, id) }
