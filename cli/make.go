package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/chunk"
)

func (a *app) makeCmd() *command {
	var f commonFlags
	var sf storeFlags
	c := a.newCommand(commandSpec{
		name:    "make",
		usage:   "desync make [flags] <index> <file>",
		minArgs: 2,
		maxArgs: 2,
		short:   "cut a file into chunks, store them and write its index",
		long: `Reads <file> ("-" for stdin) once, cuts it into content-defined chunks,
writes the chunks the store does not have yet into the store (-s; without
one only the index is made) and writes the index to <index> ("-" for
stdout, or an index store URL). The index is byte-identical to casync make's with the same chunk
sizes and digest.

Into a remote store the chunks are compressed by the -n workers and uploaded
in the background by max(-n, 8) uploaders (at most a few MiB queued); the
index is written only once every upload succeeded.

Example:
  desync make -s /var/store -m 16:64:256 image.caibx image.raw`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to write to"})
	f.addChunkSize(fs)
	f.addConcurrency(fs)
	f.addStats(fs)
	level := chunk.DefaultLevel
	fs.IntVar(&level, "compression-level", level, "zstd level of stored chunks, 1-22 (casync uses 3; the index is the same)")
	var noSync bool
	fs.BoolVar(&noSync, "no-sync", false, noSyncStoreHelp)
	c.Exec = func(ctx context.Context, args []string) error {
		indexPath, inputPath := args[0], args[1]
		if level < 1 || level > 22 {
			return usageErr("make: --compression-level %d out of range 1-22", level)
		}
		if samePath(indexPath, inputPath) {
			return usageErr("make: the index %s is the input file", indexPath)
		}
		in, err := openInput(ctx, inputPath, a.io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		stats, err := a.makeInto(ctx, "make "+inputPath, indexPath, in, f, &sf, storeSetup{level: level, noSync: noSync}, 0)
		if err != nil {
			return err
		}
		statsOut := a.io.Out
		if indexPath == "-" {
			statsOut = a.io.Err
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}

// makeInto cuts in into chunks, stores those the stores of sf (if any)
// lack and writes the index to location ("-" for stdout, or an index store
// URL) as it is made, so memory does not grow with the input. setup gives
// the command's level and durability; flags are the index's feature flags
// (0: a blob index). what ("make FILE") prefixes the errors of the make
// itself.
func (a *app) makeInto(ctx context.Context, what, location string, in io.Reader, f commonFlags, sf *storeFlags, setup storeSetup, flags uint64) (assemble.MakeStats, error) {
	// A make holds little live data (the pipeline's blocks, the upload
	// queue): collecting at 1.5x of it instead of 2x takes peak RSS of a
	// tar -i of /usr/share from 74 to 65 MB at no measurable CPU cost.
	// GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	var stats assemble.MakeStats
	var store chunk.WriteStore
	if len(sf.stores) > 0 {
		cfg, err := a.config()
		if err != nil {
			return stats, err
		}
		setup.digest, setup.maxChunk, setup.concurrency, setup.uploads = a.digest.d, f.params.p.Max, f.concurrency, true
		s, err := sf.openWrite(ctx, cfg, a.setup(setup))
		if err != nil {
			return stats, err
		}
		defer s.Close() // flushes chunks a failed or interrupted make left pending
		store = s
		// What a make that was killed left in the store goes now;
		// the files of a make still running stay.
		if n, err := removeStaleTemps(ctx, s, sweepIfWriterDied); err != nil {
			a.log.Warn("removing stale temporary files failed", "store", s, "error", err)
		} else if n > 0 {
			a.log.Info("removed stale temporary files", "store", s, "count", n)
		}
	}
	p := &phases{w: a.io.Err}
	defer p.Finish()
	makeTo := func(w io.Writer) (err error) {
		p.Phase("Chunking", inputSize(in))
		_, stats, err = assemble.Make(ctx, in, assemble.MakeOptions{
			Params: f.params.p, Digest: a.digest.d, Store: store, Concurrency: f.concurrency,
			IndexTo: w, CountUnique: f.printStats, Flags: flags, Progress: p,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if location == "-" {
		return stats, makeTo(a.io.Out)
	}
	return stats, a.writeIndex(ctx, location, makeTo)
}

// inputSize is the size of a regular file being read, or 0 (unknown).
func inputSize(in io.Reader) int64 {
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}
