package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/caindex"
)

func (a *app) extractCmd() *command {
	var f commonFlags
	var sf storeFlags
	var seeds seedFlags
	var inPlace, noReflink, noSync bool
	c := a.newCommand(commandSpec{
		name:    "extract",
		usage:   "desync extract -s <store> [flags] <index> <output>",
		minArgs: 2,
		maxArgs: 2,
		short:   "rebuild a file from its index, seeds and chunk stores",
		long: `Reads <index> ("-" for stdin, or an index store URL) and writes the file it
describes to <output> ("-" for stdout). Chunks come, in this order of
preference, from the output itself (with -k, chunks already at their
offset stay), from seeds (--seed, --seed-dir: the longest runs of chunks
a seed holds in order, cloned on Btrfs/XFS where aligned, else copied),
and from the stores (-s, tried in order; "a|b" is a failover group)
through the cache (-c). All-zero chunks become holes. Every chunk is
verified against its ID, seed data as it is read.

A seed is an index X.caibx whose data is the file X; INDEX:DATA, an index
and its data (a third ':' field is for options, of which there are none
yet: they are ignored with a warning); or any other file or block device
(an earlier version, the other partition of an A/B pair), which is
chunked on the fly with the index's chunk sizes. --seed-dir takes every
*.caibx under a directory whose data is next to it, and skips, with a
warning, those whose data is missing. A seed whose data no longer matches
its index fails the extraction, naming it, when a chunk is taken from
where it differs: --skip-invalid-seeds takes those chunks from the store
instead; --regenerate-invalid-seeds checks the seeds first and rebuilds
the index of one that does not match from its data, in memory (no file
is written).

Without -k the file is written to a temporary file next to <output> and
renamed into place only when complete; on failure <output> is left as it
was. With -k (a block device needs it) the output is updated in place,
which is faster for small updates but not atomic. Either way the output is
synced to disk before extract returns; --no-sync skips that (as casync and
desync do), for outputs that will be synced later or can be made again.

Example:
  desync extract -s /var/store -c /var/cache image.caibx image.raw
  desync extract -s https://example.com/store --seed image-v1.caibx image-v2.caibx image.raw
  desync extract -s /var/store --seed /tmp/v1.caibx:/mnt/v1.img v2.caibx v2.img
  desync extract -k -s /var/store --seed /dev/sda2 rootfs-v2.caibx /dev/sda3`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to read from; repeat to add fallbacks", withCache: true})
	seeds.add(fs, seedFlagsUse{invalidSeeds: true})
	fs.BoolVar(&inPlace, "k", false, "extract in place: update the existing output, keeping chunks already at their offset")
	fs.BoolVar(&inPlace, "in-place", false, "extract in place: update the existing output, keeping chunks already at their offset")
	fs.BoolVar(&noReflink, "no-reflink", false, "copy seed data even where the file system could clone it")
	fs.BoolVar(&noSync, "no-sync", false, "do not wait for the output to reach the disk (faster; not crash-safe)")
	f.addConcurrency(fs)
	f.addStats(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		indexPath, outPath := args[0], args[1]
		if samePath(indexPath, outPath) {
			return usageErr("extract: the output %s is the index", outPath)
		}
		action, err := seeds.action()
		if err != nil {
			return err
		}
		if outPath == "-" && inPlace {
			return usageErr("extract: -k needs an output file or device, not stdout")
		}
		seedList, err := seeds.load(indexPath, a.log.Warn)
		if err != nil {
			return err
		}
		// The index is read as the extraction goes, unless seeds or -k
		// need all of it: memory then stays the same for any index.
		var ix *caindex.Index
		var stream *caindex.Reader
		var streamName string
		if len(seedList) == 0 && !inPlace && outPath != "-" {
			var done func()
			stream, streamName, done, err = a.streamIndex(ctx, indexPath, filepath.Dir(outPath))
			if err != nil {
				return err
			}
			if stream != nil {
				defer done()
				ix = stream.Header()
			}
		}
		if ix == nil {
			if ix, err = a.readIndex(ctx, indexPath); err != nil {
				return err
			}
		}
		store, err := a.openRead(ctx, &sf, ix, f.concurrency)
		if err != nil {
			return err
		}
		defer store.Close()
		o := assemble.ExtractOptions{Store: store, Concurrency: f.concurrency, Seeds: seedList,
			InvalidSeeds: action, InPlace: inPlace, NoReflink: noReflink, NoSync: noSync}
		var stats assemble.ExtractStats
		statsOut := a.io.Out
		if outPath == "-" {
			statsOut = a.io.Err
			stats, err = assemble.ExtractWriter(ctx, ix, a.io.Out, o)
		} else {
			p := &phases{w: a.io.Err}
			o.Progress = p
			if stream != nil {
				stats, err = assemble.ExtractStream(ctx, stream, outPath, o)
				err = indexFileErr(streamName, err)
			} else {
				stats, err = assemble.ExtractFile(ctx, ix, outPath, o)
			}
			p.Finish()
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", outPath, err)
		}
		for _, s := range stats.RegeneratedSeeds {
			a.log.Warn("seed does not match its index; used with an index rebuilt in memory from its data (no file changed)", "seed", s)
		}
		for _, s := range stats.InvalidSeeds {
			a.log.Warn("seed does not match its index; its chunks came from the store", "seed", s)
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}
