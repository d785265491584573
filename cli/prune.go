package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

func (a *app) pruneCmd() *command {
	var sf storeFlags
	var yes bool
	var keepChunks multiFlag
	c := a.newCommand(commandSpec{
		name:    "prune",
		usage:   "desync prune -s <store> [-y] [--keep-chunks <file>] <index>...",
		minArgs: 0,
		maxArgs: anyArgs,
		short:   "delete the chunks no index refers to",
		long: `Deletes every chunk of the store (-s) that none of the indexes refers to
(and none of the --keep-chunks files lists), after asking for confirmation
unless -y (--yes) is given, and says how many chunks it kept and deleted
(and, for a local store, how many bytes that freed). Chunks are deleted one at a time: an interrupted prune
leaves every chunk the indexes need in place. Temporary files that writers
which died left behind are deleted too. Do not run it while chunks are
being written to the store.

Example:
  desync prune -s /var/store -y current.caibx previous.caibx`,
	})
	fs := c.FlagSet
	addStoreFlags(fs, &sf, storeFlagsUse{storeHelp: "chunk store to prune"})
	fs.BoolVar(&yes, "y", false, "do not ask for confirmation")
	fs.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fs.Var(&keepChunks, "keep-chunks", "file of chunk IDs to keep, one per line; repeatable")
	c.Exec = func(ctx context.Context, args []string) error {
		if len(args) == 0 && len(keepChunks) == 0 {
			return usageErr("prune: no index or --keep-chunks file given; that would delete every chunk")
		}
		keep, err := a.readIgnores(ctx, args, keepChunks)
		if err != nil {
			return err
		}
		cfg, err := a.config()
		if err != nil {
			return err
		}
		s, err := sf.openWrite(ctx, cfg, a.setup(storeSetup{digest: a.digest.d, concurrency: 1}))
		if err != nil {
			return err
		}
		defer s.Close()
		if err := storage.CheckExists(s); err != nil {
			return err
		}
		p, ok := storage.As[chunk.PruneStore](s)
		if !ok {
			return fmt.Errorf("prune: store %s does not support pruning", s)
		}
		if !yes {
			fmt.Fprintf(a.io.Err, "The indexes refer to %d distinct chunks. Delete every other chunk from %s? [y/N]: ", len(keep), s)
			answer, _ := bufio.NewReader(a.io.In).ReadString('\n')
			if a := strings.TrimSpace(answer); a != "y" && a != "Y" && a != "yes" {
				return fmt.Errorf("prune: not confirmed; nothing deleted")
			}
		}
		var kept, deleted, freed atomic.Int64
		filer, hasFiles := storage.As[storage.ChunkFiler](s)
		err = p.Prune(ctx, func(id chunk.ID) bool {
			if keep[id] {
				kept.Add(1)
				return true
			}
			deleted.Add(1)
			if hasFiles {
				if path, _, ok := filer.ChunkFile(id); ok {
					if fi, err := os.Stat(path); err == nil {
						freed.Add(fi.Size())
					}
				}
			}
			return false
		})
		if err != nil {
			return fmt.Errorf("prune %s: %w", s, err)
		}
		fmt.Fprintf(a.io.Err, "%d chunks kept, %d deleted", kept.Load(), deleted.Load())
		if hasFiles {
			fmt.Fprintf(a.io.Err, ", %s freed", humanBytes(freed.Load()))
		}
		fmt.Fprintln(a.io.Err)
		return nil
	}
	return c
}
