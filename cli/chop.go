package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/folbricht/desync/assemble"
	"github.com/folbricht/desync/chunk"
)

func (a *app) chopCmd() *command {
	var f commonFlags
	var sf storeFlags
	var ignore, ignoreChunks multiFlag
	c := a.newCommand(commandSpec{
		name:    "chop",
		usage:   "desync chop -s <store> [flags] <index> <file>",
		minArgs: 2,
		maxArgs: 2,
		short:   "store the chunks of a file, cut where its index says",
		long: `Reads the chunks of <index> from <file> (the file the index was made from)
at the index's offsets, checks each against its ID, and stores those the
store lacks. Unlike make it does not chunk the file again. Chunks of the
--ignore indexes and in the --ignore-chunks files (one ID per line, as
list-chunks prints them) are left out, e.g. what another store already has.

Example:
  desync chop -s /var/store --ignore old.caibx image.caibx image.raw`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to write to"})
	f.addConcurrency(fs)
	f.addStats(fs)
	fs.Var(&ignore, "ignore", "index whose chunks are not stored; repeatable")
	fs.Var(&ignoreChunks, "ignore-chunks", "file of chunk IDs not to store; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		ix, err := a.readIndex(ctx, args[0])
		if err != nil {
			return err
		}
		skip, err := a.readIgnores(ctx, ignore, ignoreChunks)
		if err != nil {
			return err
		}
		file, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer file.Close()
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(storeSetup{digest: ix.Digest(), maxChunk: ix.Max, concurrency: f.concurrency, uploads: true}))
		if err != nil {
			return err
		}
		defer s.Close()
		stats, err := assemble.Chop(ctx, ix, file, assemble.ChopOptions{
			Store: s, Concurrency: f.concurrency, Skip: func(id chunk.ID) bool { return skip[id] },
		})
		if err != nil {
			return fmt.Errorf("chop %s: %w", args[1], err)
		}
		if f.printStats {
			return printStats(a.io.Out, stats)
		}
		return nil
	}
	return c
}
