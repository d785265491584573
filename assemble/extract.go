package assemble

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
)

// ExtractOptions configure [ExtractFile] and [ExtractWriter].
type ExtractOptions struct {
	// Store supplies the chunks.
	Store chunk.Store
	// Concurrency is the number of chunks fetched and written in parallel;
	// 0 means GOMAXPROCS.
	Concurrency int
}

// ExtractStats describe a finished extraction. The JSON keys follow desync's
// --print-stats output where desync has the same figure.
type ExtractStats struct {
	ChunksTotal     int    `json:"chunks-total"`
	BytesTotal      uint64 `json:"bytes-total"`
	ChunksFromStore int    `json:"chunks-from-store"` // chunk occurrences filled from the store
	BytesFromStore  uint64 `json:"bytes-from-store"`
	ChunksFetched   int    `json:"chunks-fetched"` // chunk reads from the store (ExtractFile reads each distinct chunk once)
	ChunksZero      int    `json:"chunks-zero"`    // all-zero chunks left as holes
}

// workerCount turns a Concurrency option into a goroutine count: n, or
// GOMAXPROCS when n is not positive.
func workerCount(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// fetch gets and decodes one chunk and checks it has the size the index says.
func fetch(ctx context.Context, s chunk.Store, c caindex.Chunk) ([]byte, error) {
	ch, err := s.GetChunk(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("chunk %s at offset %d: %w", c.ID, c.Start, err)
	}
	b, err := ch.Plain()
	if err != nil {
		return nil, fmt.Errorf("chunk %s at offset %d from store %s: %w", c.ID, c.Start, s, err)
	}
	if uint64(len(b)) != c.Size {
		return nil, fmt.Errorf("chunk %s at offset %d from store %s: %d bytes, the index says %d", c.ID, c.Start, s, len(b), c.Size)
	}
	return b, nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// nullChunks returns a test for the IDs of all-zero chunks of the sizes in ix
// that are cut at max (the sizes zero runs produce).
func nullChunks(ix *caindex.Index) func(caindex.Chunk) bool {
	d := ix.Digest()
	id := d.Sum(make([]byte, ix.Max))
	return func(c caindex.Chunk) bool { return c.Size == ix.Max && c.ID == id }
}

// ExtractFile rebuilds the file of ix at path. Distinct chunks are fetched
// once, in parallel, and written at every offset where they occur; all-zero
// chunks are left as holes. The data goes to a temporary file next to path
// that replaces path only when every chunk is written and synced: on any
// error, or when ctx is cancelled, path is left as it was and the temporary
// file is removed. An existing file keeps its permissions.
func ExtractFile(ctx context.Context, ix *caindex.Index, path string, o ExtractOptions) (stats ExtractStats, err error) {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return stats, fmt.Errorf("output %s is not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return stats, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Truncate(int64(ix.Size())); err != nil {
		return stats, err
	}
	if stats, err = writeChunks(ctx, ix, f, o); err != nil {
		return stats, err
	}
	if err = f.Chmod(mode); err != nil {
		return stats, err
	}
	if err = f.Sync(); err != nil {
		return stats, err
	}
	if err = f.Close(); err != nil {
		return stats, err
	}
	return stats, os.Rename(f.Name(), path)
}

// writeChunks fills f (already sized, reading as zeros) with the chunks of ix.
func writeChunks(ctx context.Context, ix *caindex.Index, f io.WriterAt, o ExtractOptions) (ExtractStats, error) {
	stats := ExtractStats{ChunksTotal: len(ix.Chunks), BytesTotal: ix.Size()}
	isNull := nullChunks(ix)

	// Group the occurrences of each distinct chunk, in order of first use.
	where := make(map[chunk.ID][]int, len(ix.Chunks))
	var order []chunk.ID
	for i, c := range ix.Chunks {
		if isNull(c) {
			stats.ChunksZero++
			continue
		}
		if _, ok := where[c.ID]; !ok {
			order = append(order, c.ID)
		}
		where[c.ID] = append(where[c.ID], i)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, fetched, zero, fromStore atomic.Int64
	var fromStoreBytes atomic.Uint64
	var wg sync.WaitGroup
	for range min(workerCount(o.Concurrency), max(len(order), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(order) {
					return
				}
				occ := where[order[k]]
				first := ix.Chunks[occ[0]]
				b, err := fetch(ctx, o.Store, first)
				if err != nil {
					cancel(err)
					return
				}
				fetched.Add(1)
				if isZero(b) {
					zero.Add(int64(len(occ)))
					continue
				}
				for _, i := range occ {
					c := ix.Chunks[i]
					if c.Size != first.Size {
						cancel(fmt.Errorf("chunk %s at offset %d: index gives it %d bytes, %d at offset %d", c.ID, c.Start, c.Size, first.Size, first.Start))
						return
					}
					if _, err := f.WriteAt(b, int64(c.Start)); err != nil {
						cancel(fmt.Errorf("writing chunk %s at offset %d: %w", c.ID, c.Start, err))
						return
					}
				}
				fromStore.Add(int64(len(occ)))
				fromStoreBytes.Add(first.Size * uint64(len(occ)))
			}
		}()
	}
	wg.Wait()
	stats.ChunksFetched = int(fetched.Load())
	stats.ChunksZero += int(zero.Load())
	stats.ChunksFromStore = int(fromStore.Load())
	stats.BytesFromStore = fromStoreBytes.Load()
	return stats, context.Cause(ctx)
}

// ExtractWriter writes the stream of ix to w in order, fetching up to
// Concurrency chunks ahead. Use it for pipes and stdout; ExtractFile is faster
// for files (holes, no ordering). On error, w has received a prefix of the
// stream.
func ExtractWriter(ctx context.Context, ix *caindex.Index, w io.Writer, o ExtractOptions) (ExtractStats, error) {
	stats := ExtractStats{ChunksTotal: len(ix.Chunks), BytesTotal: ix.Size()}
	isNull := nullChunks(ix)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type result struct {
		b   []byte
		err error
	}
	pending := make(chan chan result, 2*workerCount(o.Concurrency))
	sem := make(chan struct{}, workerCount(o.Concurrency))
	go func() {
		defer close(pending)
		for _, c := range ix.Chunks {
			res := make(chan result, 1)
			select {
			case pending <- res:
			case <-ctx.Done():
				return
			}
			if isNull(c) {
				res <- result{b: nil}
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res <- result{err: context.Cause(ctx)}
				return
			}
			go func() {
				defer func() { <-sem }()
				b, err := fetch(ctx, o.Store, c)
				res <- result{b, err}
			}()
		}
	}()
	var zeros []byte
	for i := 0; ; i++ {
		res, ok := <-pending
		if !ok {
			break
		}
		r := <-res
		if r.err != nil {
			cancel(r.err)
			for range pending { // let the producer finish
			}
			return stats, r.err
		}
		c := ix.Chunks[i]
		b := r.b
		if b == nil {
			if zeros == nil {
				zeros = make([]byte, ix.Max)
			}
			b = zeros[:c.Size]
			stats.ChunksZero++
		} else {
			stats.ChunksFromStore++
			stats.BytesFromStore += c.Size
			stats.ChunksFetched++
		}
		if _, err := w.Write(b); err != nil {
			cancel(err)
			for range pending {
			}
			return stats, fmt.Errorf("writing chunk %s at offset %d: %w", c.ID, c.Start, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return stats, context.Cause(ctx)
	}
	return stats, nil
}
