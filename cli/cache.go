package cli

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage/workpool"
)

func (a *app) cacheCmd() *command {
	var f commonFlags
	var sf storeFlags
	var ignore, ignoreChunks multiFlag
	c := a.newCommand(commandSpec{
		name:    "cache",
		usage:   "desync cache -s <store> -c <cache> [flags] <index>...",
		minArgs: 1,
		maxArgs: anyArgs,
		short:   "copy the chunks of indexes into a cache",
		long: `Fetches every chunk of the indexes from the stores (-s) into the cache (-c)
without writing any file, e.g. to fill a local cache before going offline.
Chunks the cache already has are not fetched; invalid ones are replaced
(unless -r=false). Chunks of --ignore indexes and --ignore-chunks files are
left out.

Example:
  desync cache -s https://example.com/store -c /var/cache image.caibx`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to read from; repeat to add fallbacks", withCache: true})
	f.addConcurrency(fs)
	f.addStats(fs)
	fs.Var(&ignore, "ignore", "index whose chunks are not cached; repeatable")
	fs.Var(&ignoreChunks, "ignore-chunks", "file of chunk IDs not to cache; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		if sf.cache == "" {
			return usageErr("cache: no cache given (-c)")
		}
		skip, err := a.readIgnores(ctx, ignore, ignoreChunks)
		if err != nil {
			return err
		}
		var chunks []caindex.Chunk
		var first *caindex.Index
		for _, name := range args {
			ix, err := a.readIndex(ctx, name)
			if err != nil {
				return err
			}
			if first == nil {
				first = ix
			} else if ix.Digest() != first.Digest() {
				return fmt.Errorf("cache: %s uses %s, %s uses %s", name, ix.Digest(), args[0], first.Digest())
			}
			first.Max = max(first.Max, ix.Max)
			for _, c := range ix.Chunks {
				if !skip[c.ID] {
					skip[c.ID] = true // once across indexes
					chunks = append(chunks, c)
				}
			}
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		// Without the index (no NullChunk): the zero chunk is fetched and
		// cached like any other, as desync's cache does.
		s, err := openReadOnly(ctx, &sf, cfg, a.setup(storeSetup{digest: first.Digest(), maxChunk: first.Max, concurrency: f.concurrency, uploads: true}), nil)
		if err != nil {
			return err
		}
		defer s.Close()
		var fetched atomic.Int64
		var total int64
		for _, c := range chunks {
			total += int64(c.Size)
		}
		p := &phases{w: a.io.Err}
		p.Phase("Caching", total)
		err = workpool.Each(ctx, f.concurrency, chunks, func(ctx context.Context, c caindex.Chunk) error {
			if _, err := s.GetChunk(ctx, c.ID); err != nil {
				return fmt.Errorf("chunk %s: %w", c.ID, err)
			}
			fetched.Add(1)
			p.Add(int64(c.Size))
			return nil
		})
		if _, ok := s.(chunk.Flusher); ok && err == nil {
			p.Phase("Flushing", 0)
		}
		if ferr := flushStore(s); err == nil {
			err = ferr
		}
		p.Finish()
		if err != nil {
			return fmt.Errorf("cache %s: %w", sf.cache, err)
		}
		if f.printStats {
			return printStats(a.io.Out, map[string]int64{"chunks-total": int64(len(chunks)), "chunks-cached": fetched.Load()})
		}
		return nil
	}
	return c
}

// flushStore makes what a store (or the cache in it) holds back durable.
func flushStore(s chunk.Store) error {
	if f, ok := s.(chunk.Flusher); ok {
		return f.Flush(context.Background())
	}
	return nil
}
