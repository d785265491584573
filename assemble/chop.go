package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage/workpool"
)

// ChopOptions configure [Chop].
type ChopOptions struct {
	// Store receives the chunks.
	Store chunk.WriteStore
	// Concurrency is the number of chunks read, hashed and stored in
	// parallel; 0 means GOMAXPROCS.
	Concurrency int
	// Skip, if set, names chunks not to store (desync's --ignore).
	Skip func(chunk.ID) bool
}

// ChopStats describe a finished [Chop].
type ChopStats struct {
	ChunksTotal   int    `json:"chunks-total"`   // distinct chunks in the index
	ChunksSkipped int    `json:"chunks-skipped"` // left out by Skip
	ChunksPresent int    `json:"chunks-present"` // already in the store
	ChunksStored  int    `json:"chunks-stored"`
	BytesStored   uint64 `json:"bytes-stored"` // plain bytes of the stored chunks
}

// Chop stores the chunks of ix, reading them from r (the file the index was
// made from) at the index's offsets instead of chunking it again. Every
// chunk read is hashed and must match its ID: a file that changed since the
// index was made is an error naming the chunk and offset. The store is
// flushed before Chop returns.
func Chop(ctx context.Context, ix *caindex.Index, r io.ReaderAt, o ChopOptions) (ChopStats, error) {
	var stats ChopStats
	if ix == nil {
		return stats, ErrNoIndex
	}
	if o.Store == nil {
		return stats, ErrNoStore
	}
	if r == nil {
		return stats, errors.New("no data to chop given (nil reader)")
	}
	var todo []caindex.Chunk
	for _, c := range ix.Unique() {
		stats.ChunksTotal++
		if o.Skip != nil && o.Skip(c.ID) {
			stats.ChunksSkipped++
			continue
		}
		todo = append(todo, c)
	}
	digest := ix.Digest()
	var present, stored atomic.Int64
	var bytes atomic.Uint64
	// Each worker reads into a buffer of its own.
	err := workpool.EachWorkers(ctx, workerCount(o.Concurrency), todo, func() func(context.Context, caindex.Chunk) error {
		var buf []byte
		return func(ctx context.Context, c caindex.Chunk) error {
			has, err := o.Store.HasChunk(ctx, c.ID)
			if err != nil {
				return fmt.Errorf("chunk %s: %w", c.ID, err)
			}
			if has {
				present.Add(1)
				return nil
			}
			if uint64(cap(buf)) < c.Size {
				buf = make([]byte, c.Size)
			}
			buf = buf[:c.Size]
			if _, err := r.ReadAt(buf, int64(c.Start)); err != nil {
				return fmt.Errorf("reading chunk %s at offset %d: %w", c.ID, c.Start, err)
			}
			if sum := digest.Sum(buf); sum != c.ID {
				return fmt.Errorf("data at offset %d (%d bytes) hashes to %s, the index says chunk %s: the file does not match the index", c.Start, c.Size, sum, c.ID)
			}
			if err := o.Store.StoreChunk(ctx, chunk.New(c.ID, buf)); err != nil {
				return err
			}
			stored.Add(1)
			bytes.Add(c.Size)
			return nil
		}
	})
	stats.ChunksPresent, stats.ChunksStored, stats.BytesStored = int(present.Load()), int(stored.Load()), bytes.Load()
	if f, ok := o.Store.(chunk.Flusher); ok {
		if ferr := f.Flush(context.WithoutCancel(ctx)); err == nil {
			err = ferr
		}
	}
	return stats, err
}
