package storage

import (
	"context"
	"sync"

	"github.com/folbricht/desync/chunk"
)

// Dedup merges concurrent requests for the same chunk: while a GetChunk (or
// StoreChunk) of an ID is in flight, further callers for that ID wait for
// its result instead of making their own call, so a chunk is fetched once
// and written (to a cache, say) once. The shared *chunk.Chunk is safe for
// concurrent use. If the caller whose request is in flight gives up (its
// context ends), a waiter whose context is still live makes its own call.
type Dedup struct {
	s    chunk.Store
	mu   sync.Mutex
	gets map[chunk.ID]*call
	puts map[chunk.ID]*call
}

type call struct {
	done    chan struct{}
	c       *chunk.Chunk
	err     error
	waiters int // callers that joined the call (guarded by Dedup.mu)
}

// NewDedup wraps s.
func NewDedup(s chunk.Store) *Dedup {
	return &Dedup{s: s, gets: map[chunk.ID]*call{}, puts: map[chunk.ID]*call{}}
}

// once runs fn for id unless a call for id is in flight in calls, in which
// case it waits for that call's result.
func (d *Dedup) once(ctx context.Context, calls map[chunk.ID]*call, id chunk.ID, fn func() (*chunk.Chunk, error)) (*chunk.Chunk, error) {
	for {
		d.mu.Lock()
		cl, busy := calls[id]
		if !busy {
			cl = &call{done: make(chan struct{})}
			calls[id] = cl
			d.mu.Unlock()
			cl.c, cl.err = fn()
			d.mu.Lock()
			delete(calls, id)
			if cl.waiters > 0 && cl.c != nil {
				cl.c.Share() // several callers hold it: none may release it
			}
			d.mu.Unlock()
			close(cl.done)
			return cl.c, cl.err
		}
		cl.waiters++
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-cl.done:
		}
		// The leader's own cancellation is not our failure: try again.
		if cl.err == nil || !isContextErr(cl.err) || ctx.Err() != nil {
			return cl.c, cl.err
		}
	}
}

// GetChunk fetches a chunk, sharing one fetch among concurrent callers.
func (d *Dedup) GetChunk(ctx context.Context, id chunk.ID) (*chunk.Chunk, error) {
	return d.once(ctx, d.gets, id, func() (*chunk.Chunk, error) { return d.s.GetChunk(ctx, id) })
}

// HasChunk asks the wrapped store.
func (d *Dedup) HasChunk(ctx context.Context, id chunk.ID) (bool, error) {
	return d.s.HasChunk(ctx, id)
}

// StoreChunk writes a chunk, sharing one write among concurrent callers for
// the same ID. It fails if the wrapped store does not accept chunks.
func (d *Dedup) StoreChunk(ctx context.Context, c *chunk.Chunk) error {
	w, ok := d.s.(chunk.WriteStore)
	if !ok {
		return errReadOnly(d.s)
	}
	_, err := d.once(ctx, d.puts, c.ID(), func() (*chunk.Chunk, error) { return nil, w.StoreChunk(ctx, c) })
	return err
}

// Flush flushes the wrapped store if it batches writes.
func (d *Dedup) Flush(ctx context.Context) error { return flush(ctx, d.s) }

// Unwrap returns the wrapped store.
func (d *Dedup) Unwrap() chunk.Store { return d.s }

func (d *Dedup) Close() error   { return d.s.Close() }
func (d *Dedup) String() string { return d.s.String() }

// ChunkFile forwards to the wrapped store (see [ChunkFiler]).
func (d *Dedup) ChunkFile(id chunk.ID) (string, string, bool) { return chunkFile(d.s, id) }
