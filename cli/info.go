package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

// indexInfo is info's output, with desync's JSON keys (and two of ours,
// digest and feature-flags).
type indexInfo struct {
	Total                           int    `json:"total"`
	Unique                          int    `json:"unique"`
	InStore                         uint64 `json:"in-store"`
	InSeed                          uint64 `json:"in-seed"`
	InCache                         uint64 `json:"in-cache"`
	NotInSeedNorCache               uint64 `json:"not-in-seed-nor-cache"`
	Size                            uint64 `json:"size"`
	SizeNotInSeed                   uint64 `json:"dedup-size-not-in-seed"`
	SizeNotInSeedNorCache           uint64 `json:"dedup-size-not-in-seed-nor-cache"`
	SizeNotInSeedNorCacheCompressed uint64 `json:"dedup-size-not-in-seed-nor-cache-compressed"`
	Min                             uint64 `json:"chunk-size-min"`
	Avg                             uint64 `json:"chunk-size-avg"`
	Max                             uint64 `json:"chunk-size-max"`
	Digest                          string `json:"digest"`
	Flags                           string `json:"feature-flags"`
}

// chunkInfo is one entry of inspect-chunks' output (desync's keys), also
// read back by info --chunks-info.
type chunkInfo struct {
	ID               chunk.ID `json:"id"`
	UncompressedSize uint64   `json:"uncompressed_size"`
	CompressedSize   int64    `json:"compressed_size,omitempty"`
}

func (a *app) infoCmd() *command {
	var f commonFlags
	var sf storeFlags
	var format, chunksInfo string
	var seeds seedFlags
	c := a.newCommand("info", "desync info [-s <store>] [-c <cache>] [flags] <index>",
		"show information about an index",
		`Prints the number of chunks in <index> ("-" for stdin, or an index store
URL), how many are distinct, the file size and the size of its distinct
chunks, the chunk sizes, and with -s and -c how many distinct chunks the
stores and the cache hold, and with --seed and --seed-dir how many the
seeds hold (in-seed), so you can estimate a download or an update. With
--chunks-info (the output of inspect-chunks) it also sums the compressed
size of what is not in the cache. JSON keys are desync's.

Example:
  desync info -s https://example.com/store -c /var/cache image.caibx
  desync info --seed image-v1.caibx image-v2.caibx`, 1, 1)
	fs := c.FlagSet
	seeds.add(fs, false)
	addStoreFlags(fs, &sf, "chunk store to count chunks in; repeat for more", true)
	f.addConcurrency(fs)
	fs.StringVar(&format, "f", "json", "output format: json or plain")
	fs.StringVar(&format, "format", "json", "output format: json or plain")
	fs.StringVar(&chunksInfo, "chunks-info", "", "JSON file from inspect-chunks, to estimate compressed sizes")
	c.Exec = func(ctx context.Context, args []string) error {
		if format != "json" && format != "plain" {
			return usageErr("info: unknown format %q (json or plain)", format)
		}
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		var compressed map[chunk.ID]chunkInfo
		if chunksInfo != "" {
			if compressed, err = readChunksInfo(chunksInfo); err != nil {
				return err
			}
		}
		info := indexInfo{Total: len(ix.Chunks), Size: ix.Size(), Min: ix.Min, Avg: ix.Avg, Max: ix.Max,
			Digest: ix.Digest().String(), Flags: fmt.Sprintf("%#x", ix.Flags)}
		unique := ix.Unique()
		info.Unique = len(unique)
		cache := sf.cache
		sf.cache = "" // count the stores and the cache apart
		if len(sf.stores) > 0 {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			// Without the index (no NullChunk): count the zero chunk only
			// if the stores hold it, as desync does.
			s, err := openReadOnly(ctx, &sf, cfg, a.setup(ix.Digest(), ix.Max, 0, f.concurrency), nil)
			if err != nil {
				return err
			}
			defer s.Close()
			if info.InStore, _, err = countPresent(ctx, s, unique, f.concurrency); err != nil {
				return err
			}
		}
		inCache := map[chunk.ID]bool{}
		if cache != "" {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			s, err := storage.OpenWith(ctx, cache, sf.options(cfg, a.setup(ix.Digest(), ix.Max, 0, f.concurrency)))
			if err != nil {
				return err
			}
			defer s.Close()
			if info.InCache, inCache, err = countPresent(ctx, s, unique, f.concurrency); err != nil {
				return err
			}
		}
		inSeed, err := a.seedChunks(ctx, &seeds, args[0], ix, f.concurrency)
		if err != nil {
			return err
		}
		estimate := compressed != nil
		for _, c := range unique {
			if inSeed[c.ID] {
				info.InSeed++
				continue
			}
			info.SizeNotInSeed += c.Size
			if inCache[c.ID] {
				continue
			}
			info.NotInSeedNorCache++
			info.SizeNotInSeedNorCache += c.Size
			if ci, ok := compressed[c.ID]; estimate && ok && ci.CompressedSize > 0 {
				if ci.UncompressedSize != c.Size {
					return fmt.Errorf("info: %s says chunk %s has %d bytes, the index says %d", chunksInfo, c.ID, ci.UncompressedSize, c.Size)
				}
				info.SizeNotInSeedNorCacheCompressed += uint64(ci.CompressedSize)
			} else {
				estimate = false // incomplete information: no estimate
			}
		}
		if !estimate {
			info.SizeNotInSeedNorCacheCompressed = 0
		}
		if format == "json" {
			return printStats(a.io.Out, info)
		}
		return printInfoPlain(a.io.Out, info)
	}
	return c
}

// seedChunks returns the chunk IDs the seeds hold (chunking seeds that
// have no index).
func (a *app) seedChunks(ctx context.Context, sf *seedFlags, indexPath string, ix *caindex.Index, n int) (map[chunk.ID]bool, error) {
	seeds, err := sf.load(indexPath, a.log.Warn)
	if err != nil {
		return nil, err
	}
	have := map[chunk.ID]bool{}
	for _, s := range seeds {
		six, err := assemble.SeedIndex(ctx, s, ix, n)
		if err != nil {
			return nil, err
		}
		for _, c := range six.Chunks {
			have[c.ID] = true
		}
	}
	return have, nil
}

func printInfoPlain(w io.Writer, i indexInfo) error {
	_, err := fmt.Fprintf(w, `Blob size: %d
Size of deduplicated chunks not in seed: %d
Size of deduplicated chunks not in seed nor cache: %d
Total chunks: %d
Unique chunks: %d
Chunks in store: %d
Chunks in seed: %d
Chunks in cache: %d
Chunks not in seed nor cache: %d
Compressed chunks not in seed nor cache: %d
Chunk size min: %d
Chunk size avg: %d
Chunk size max: %d
`, i.Size, i.SizeNotInSeed, i.SizeNotInSeedNorCache, i.Total, i.Unique, i.InStore, i.InSeed, i.InCache,
		i.NotInSeedNorCache, i.SizeNotInSeedNorCacheCompressed, i.Min, i.Avg, i.Max)
	return err
}

// countPresent asks s, n at a time, which of chunks it has.
func countPresent(ctx context.Context, s chunk.Store, chunks []caindex.Chunk, n int) (uint64, map[chunk.ID]bool, error) {
	var count atomic.Uint64
	var mu sync.Mutex
	present := map[chunk.ID]bool{}
	err := forEach(ctx, chunks, n, func(ctx context.Context, c caindex.Chunk) error {
		ok, err := s.HasChunk(ctx, c.ID)
		if ok {
			count.Add(1)
			mu.Lock()
			present[c.ID] = true
			mu.Unlock()
		}
		return err
	})
	return count.Load(), present, err
}

// forEach runs fn on every item with n goroutines and returns the first
// error; the others are cancelled.
func forEach[T any](ctx context.Context, items []T, n int, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

func readChunksInfo(path string) (map[chunk.ID]chunkInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []chunkInfo
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("chunks info %s: %w", path, err)
	}
	m := make(map[chunk.ID]chunkInfo, len(list))
	for _, ci := range list {
		m[ci.ID] = ci
	}
	return m, nil
}

func (a *app) inspectChunksCmd() *command {
	var sf storeFlags
	c := a.newCommand("inspect-chunks", "desync inspect-chunks [-s <store>] <index> [<output>]",
		"print the chunks of an index as JSON",
		`Prints, as JSON, every chunk of <index>: its ID and size and, with a local
compressed store (-s), the size of its chunk file. Writes to <output> or
stdout. info --chunks-info reads the result to estimate download sizes.

Example:
  desync inspect-chunks -s /var/store image.caibx chunks.json`, 1, 2)
	addStoreFlags(c.FlagSet, &sf, "local store to take compressed sizes from", false)
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		var local *storage.Local
		if len(sf.stores) > 0 {
			if len(sf.stores) > 1 {
				return usageErr("inspect-chunks: one store (-s), not %d", len(sf.stores))
			}
			s, err := a.openRead(ctx, &sf, ix, 1)
			if err != nil {
				return err
			}
			defer s.Close()
			l, ok := storage.As[*storage.Local](s)
			if !ok {
				return fmt.Errorf("inspect-chunks: %s is not a local store", sf.stores[0])
			}
			if !l.Uncompressed() {
				local = l
			}
		}
		list := make([]chunkInfo, len(ix.Chunks))
		for i, c := range ix.Chunks {
			list[i] = chunkInfo{ID: c.ID, UncompressedSize: c.Size}
			if local != nil {
				fi, err := os.Stat(local.Path(c.ID))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				if err == nil {
					list[i].CompressedSize = fi.Size()
				}
			}
		}
		return writeOutput(args, 1, func(w io.Writer) error { return printStats(w, list) }, a.io.Out)
	}
	return c
}

// writeOutput runs write on the file args[i] (replaced atomically only when
// write succeeds) or on stdout when there is no such argument or it is "-".
func writeOutput(args []string, i int, write func(io.Writer) error, stdout io.Writer) error {
	if len(args) <= i || args[i] == "-" {
		return write(stdout)
	}
	return storage.WriteFileAtomic(args[i], 0o644, nil, func(f *os.File) error { return write(f) })
}
