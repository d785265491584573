package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
	"github.com/folbricht/desync/storage/workpool"
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

func (a *app) infoCmd() *command {
	var f commonFlags
	var sf storeFlags
	var format, chunksInfo string
	var seeds seedFlags
	c := a.newCommand(commandSpec{
		name:    "info",
		usage:   "desync info [-s <store>] [-c <cache>] [flags] <index>",
		minArgs: 1,
		maxArgs: 1,
		short:   "show information about an index",
		long: `Prints the number of chunks in <index> ("-" for stdin, or an index store
URL), how many are distinct, the file size and the size of its distinct
chunks, the chunk sizes, and with -s and -c how many distinct chunks the
stores and the cache hold, and with --seed and --seed-dir how many the
seeds hold (in-seed), so you can estimate a download or an update. With
--chunks-info (the output of inspect-chunks) it also sums the compressed
size of what is not in the cache. JSON keys are desync's.

Example:
  desync info -s https://example.com/store -c /var/cache image.caibx
  desync info --seed image-v1.caibx image-v2.caibx`,
	})
	fs := c.FlagSet
	seeds.add(fs, seedFlagsUse{invalidSeeds: false})
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to count chunks in; repeat for more", withCache: true})
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
			s, err := openReadOnly(ctx, &sf, cfg, a.setup(storeSetup{digest: ix.Digest(), maxChunk: ix.Max, concurrency: f.concurrency}), nil)
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
			s, err := storage.OpenWith(ctx, cache, sf.options(cfg, a.setup(storeSetup{digest: ix.Digest(), maxChunk: ix.Max, concurrency: f.concurrency})))
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
	err := workpool.Each(ctx, n, chunks, func(ctx context.Context, c caindex.Chunk) error {
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
