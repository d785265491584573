package cli

import (
	"context"
	"fmt"
	"io"

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
		var store chunk.WriteStore
		if len(sf.stores) > 0 {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			s, err := sf.openWrite(ctx, cfg, a.setup(storeSetup{digest: a.digest.d, maxChunk: f.params.p.Max, level: level, concurrency: f.concurrency, uploads: true, noSync: noSync}))
			if err != nil {
				return err
			}
			defer s.Close() // flushes chunks a failed or interrupted make left pending
			store = s
			// What a make that was killed left in the store goes now;
			// the files of a make still running stay.
			if n, err := removeStaleTemps(ctx, s, sweepIfWriterDied); err != nil {
				a.log.Warn("make: removing stale temporary files failed", "store", s, "error", err)
			} else if n > 0 {
				a.log.Info("make: removed stale temporary files", "store", s, "count", n)
			}
		}
		in, err := openInput(ctx, inputPath, a.io.In)
		if err != nil {
			return err
		}
		defer in.Close()
		// The index is written as it is made, so memory does not grow
		// with the input.
		var stats assemble.MakeStats
		makeTo := func(w io.Writer) (err error) {
			_, stats, err = assemble.Make(ctx, in, assemble.MakeOptions{
				Params: f.params.p, Digest: a.digest.d, Store: store, Concurrency: f.concurrency,
				IndexTo: w, CountUnique: f.printStats,
			})
			if err != nil {
				return fmt.Errorf("make %s: %w", inputPath, err)
			}
			return nil
		}
		statsOut := a.io.Out
		if indexPath == "-" {
			statsOut = a.io.Err
			err = makeTo(a.io.Out)
		} else {
			err = a.writeIndex(ctx, indexPath, makeTo)
		}
		if err != nil {
			return err
		}
		if f.printStats {
			return printStats(statsOut, stats)
		}
		return nil
	}
	return c
}
