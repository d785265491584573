package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage"
)

func (a *app) pruneCmd() *command {
	var sf storeFlags
	var yes bool
	var keepChunks multiFlag
	c := a.newCommand("prune", "desync prune -s <store> [-y] [--keep-chunks <file>] <index>...",
		"delete the chunks no index refers to",
		`Deletes every chunk of the store (-s) that none of the indexes refers to
(and none of the --keep-chunks files lists), after asking for confirmation
unless -y (--yes) is given. Chunks are deleted one at a time: an interrupted prune
leaves every chunk the indexes need in place. Temporary files that writers
which died left behind are deleted too. Do not run it while chunks are
being written to the store.

Example:
  desync prune -s /var/store -y current.caibx previous.caibx`, 0, -1)
	fs := c.FlagSet
	addStoreFlags(fs, &sf, "chunk store to prune", false)
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
		s, err := sf.openWrite(ctx, cfg, a.setup(a.digest.d, 0, 0, 1))
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
		if err := p.Prune(ctx, func(id chunk.ID) bool { return keep[id] }); err != nil {
			return fmt.Errorf("prune %s: %w", s, err)
		}
		return nil
	}
	return c
}
